#!/bin/sh
# ON_REMOVE_NODE (the master and the leaving nodes, before they go): the master keeps the nodes
# that stay, a leaving node stops the service.
set -eu
if [ "$CLUSTERCTL_ROLE" = master ]; then
  printf '%s\n' $CLUSTERCTL_NODES > /etc/peers/peers.conf
  systemctl restart peers.service
  echo "removed $CLUSTERCTL_HOOK_NODES from the master's peers"
else
  systemctl disable --now peers.service >/dev/null 2>&1
fi
