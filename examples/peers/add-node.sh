#!/bin/sh
# ON_ADD_NODE (the master and the new nodes): the master adds the new nodes to its list, a new
# node installs the service.
set -eu
if [ "$CLUSTERCTL_ROLE" = master ]; then
  for n in $CLUSTERCTL_HOOK_NODES; do
    grep -qx "$n" /etc/peers/peers.conf || echo "$n" >> /etc/peers/peers.conf
  done
  systemctl restart peers.service
  echo "added $CLUSTERCTL_HOOK_NODES to the master's peers"
else
  sh ./setup.sh
fi
