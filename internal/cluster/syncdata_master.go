package cluster

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// masterCopier is syncdata's own DataCopier: scripts run as root on the master over SSH.
type masterCopier struct {
	c      *setup.Cluster
	master *setup.Node
}

// Measure sums the directories' sizes with du, failing on the first that is not a directory.
// The answer comes from a node, so it must be a plain number.
func (m *masterCopier) Measure(ctx context.Context, dirs []string) (int64, error) {
	script := "set -e\nfor d in " + quoteAll(dirs) + `; do [ -d "$d" ] || { echo "$d is not a directory on the master" >&2; exit 1; }; done
du -scb -- ` + quoteAll(dirs) + " | tail -n 1 | cut -f1"
	res, err := m.c.Sudo(ctx, m.master, script)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(res.Stdout), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("du on %s answered %q, not a size in bytes", m.master.Alias, strings.TrimSpace(res.Stdout))
	}
	return n, nil
}

// Copy formats the staging volume and copies the directories onto it (rsync when the master has
// it, else cp -a with the same meaning of a trailing /), then unmounts it.
func (m *masterCopier) Copy(ctx context.Context, dirs []string, v Staging) error {
	if err := v.check(); err != nil {
		return err
	}
	_, err := m.c.Sudo(ctx, m.master, copyScript(dirs, v))
	return err
}

// Release unmounts the staging volume if a failed copy left it mounted.
func (m *masterCopier) Release(ctx context.Context, v Staging) error {
	if err := v.check(); err != nil {
		return err
	}
	mnt := remote.Quote(stagingMount(v))
	_, err := m.c.Sudo(ctx, m.master, "if mountpoint -q "+mnt+"; then umount "+mnt+"; fi\nrmdir "+mnt+" 2>/dev/null || true")
	return err
}

// volumeIDRE is what a volume id from the provider must look like before it is part of a
// script: EC2's vol- with 8 or 17 hex digits, the local provider's with 12.
var volumeIDRE = regexp.MustCompile(`^vol-[0-9a-f]{8,17}$`)

// check refuses a staging volume whose id is not a volume id (it names paths in the scripts).
func (v Staging) check() error {
	if !volumeIDRE.MatchString(v.ID) {
		return fmt.Errorf("%q is not a volume id", v.ID)
	}
	return nil
}

// stagingMount is where the master mounts a staging volume that arrives as a block device.
func stagingMount(v Staging) string { return "/mnt/clusterctl-sync-" + v.ID }

// copyScript finds the staging volume: the directory the provider attached it as, else its
// block device (by volume id on NVMe instances, else by name; EC2 takes a few seconds to show
// it), which is formatted and mounted. Then the directories are copied and the volume is left
// unmounted, ready to be snapshotted.
func copyScript(dirs []string, v Staging) string {
	nvme := "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_" + strings.ReplaceAll(v.ID, "-", "")
	xvd := strings.Replace(v.Device, "/dev/sd", "/dev/xvd", 1)
	return fmt.Sprintf(`set -e
dir=%[1]s
mnt=%[2]s
if [ -n "$dir" ] && [ -d "$dir" ]; then
  target=$dir
else
  dev=
  for i in $(seq 60); do
    for c in %[3]s %[4]s %[5]s; do if [ -b "$c" ]; then dev=$c; break 2; fi; done
    sleep 1
  done
  [ -n "$dev" ] || { echo "the new volume %[6]s did not show up on the master (looked for %[3]s and %[4]s)" >&2; exit 1; }
  mkfs.ext4 -q -m 0 "$dev"
  mkdir -p "$mnt"
  mount "$dev" "$mnt"
  target=$mnt
fi
if command -v rsync >/dev/null; then
  rsync -a -- %[7]s "$target"/
else
  for d in %[7]s; do
    case "$d" in */) cp -a -- "$d". "$target"/ ;; *) cp -a -- "$d" "$target"/ ;; esac
  done
fi
sync
if [ "$target" = "$mnt" ]; then umount "$mnt"; rmdir "$mnt"; fi`,
		remote.Quote(v.Dir), remote.Quote(stagingMount(v)), remote.Quote(nvme), remote.Quote(v.Device), remote.Quote(xvd),
		v.ID, quoteAll(dirs))
}

// quoteAll quotes each word for the shell.
func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = remote.Quote(w)
	}
	return strings.Join(q, " ")
}
