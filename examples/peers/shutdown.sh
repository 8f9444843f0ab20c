#!/bin/sh
# ON_SHUTDOWN (every node, before stop or terminate): a hold file keeps the cluster up.
set -eu
if [ -e /etc/peers/hold ]; then
  echo "refusing to shut down: /etc/peers/hold exists on $CLUSTERCTL_NODE" >&2
  exit 3
fi
systemctl stop peers.service
