package ec2

// ScrubHostKeysScript runs as root on an instance before an image is made of it, so the image
// holds neither the instance's SSH host keys nor cloud-init's copies of its user data (which
// carry host keys): an image would otherwise hand them to every instance launched from it and
// to everyone it is shared with.
//
// The keys are kept in /run (memory, never in an image) for RestoreHostKeysScript, which puts
// them back after an image made without a reboot. After a reboot the instance gets its own key
// again from cloud-init: the script removes the mark that cloud-init's ssh module ran, and
// cloud-init, finding its cached copy of the instance data gone, reads the user data again.
// Nothing else of the instance's first boot runs again.
const ScrubHostKeysScript = `set -eu
keep=/run/clusterctl-host-keys
rm -rf "$keep"
mkdir -m 0700 "$keep"
for f in /etc/ssh/ssh_host_*; do
  [ -f "$f" ] && [ ! -L "$f" ] && cp -p "$f" "$keep/"
done
rm -f /etc/ssh/ssh_host_*
for d in /var/lib/cloud/instances/*/; do
  [ -d "$d" ] || continue
  rm -rf "$d/user-data.txt" "$d/user-data.txt.i" "$d/cloud-config.txt" "$d/obj.pkl" "$d/scripts" \
    "$d/vendor-data.txt" "$d/vendor-data.txt.i" "$d/vendor-data2.txt" "$d/vendor-data2.txt.i" \
    "$d/vendor-cloud-config.txt" "$d/vendor2-cloud-config.txt" "$d/sem/config_ssh"
done
rm -f /var/lib/cloud/data/instance-data-sensitive.json
sync
`

// RestoreHostKeysScript puts back the host keys ScrubHostKeysScript kept, once the image was
// taken without a reboot, so the instance keeps serving its pinned key.
const RestoreHostKeysScript = `set -eu
keep=/run/clusterctl-host-keys
[ -d "$keep" ] || exit 0
cp -p "$keep"/ssh_host_* /etc/ssh/
rm -rf "$keep"
`

// ScrubClusterKeysScript removes root's cluster SSH key and authorized keys, for an image of a
// node that must not let the cluster's key in (ebsimage --scrub).
const ScrubClusterKeysScript = `set -eu
rm -f /root/.ssh/id_ed25519 /root/.ssh/id_ed25519.pub /root/.ssh/authorized_keys
sync
`
