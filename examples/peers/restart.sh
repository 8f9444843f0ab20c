#!/bin/sh
# ON_RESTART (every node, before the reboot).
set -eu
echo on_restart >> /var/lib/peers/history
