#!/bin/sh
# RUN (every node): install the peers service with every node of the cluster in its list.
set -eu
install -d -m 0755 /etc/peers /var/lib/peers
printf '%s\n' $CLUSTERCTL_NODES > /etc/peers/peers.conf
install -m 0644 peers.service /etc/systemd/system/peers.service
systemctl daemon-reload
systemctl enable peers.service >/dev/null 2>&1
systemctl restart peers.service
env | grep '^CLUSTERCTL_' | sort > /var/lib/peers/facts
echo "$CLUSTERCTL_HOOK" >> /var/lib/peers/history
echo "peers running on $CLUSTERCTL_NODE with $(wc -l < /etc/peers/peers.conf) peers"
