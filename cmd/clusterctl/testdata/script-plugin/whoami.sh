#!/bin/sh
# RUN as the cluster user on the worker nodes: record who ran, where, in which directory.
set -eu
echo "$(id -un) $(pwd) $CLUSTERCTL_HOOK" > "$HOME/ran-on-$CLUSTERCTL_NODE"
echo "ran as $(id -un) on $CLUSTERCTL_NODE"
