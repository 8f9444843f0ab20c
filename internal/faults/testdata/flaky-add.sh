#!/bin/sh
# ON_ADD_NODE of the fault suite's flaky plugin: the first setups of a new node fail, as one
# that meets a transient fault does. /home/.flaky-failures, on the home every node shares,
# says how many of them fail; this node counts its own setups.
want=$(cat /home/.flaky-failures 2>/dev/null || echo 0)
count=/var/lib/flaky-setups
n=$(cat "$count" 2>/dev/null || echo 0)
echo $((n + 1)) > "$count"
if [ "$n" -lt "$want" ]; then
  echo "flaky: setup $((n + 1)) of $(hostname) fails on purpose" >&2
  exit 1
fi
