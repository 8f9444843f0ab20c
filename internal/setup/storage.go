package setup

import (
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// volumes mounts the cluster's volumes on the master: the attached device is found by volume
// id (Nitro instances show EBS volumes as NVMe devices), partitions chosen as StarCluster did,
// a filesystem created only when the volume was made by createvolume and has none.
type volumes struct{}

func (volumes) Name() string { return "volumes" }
func (volumes) Run(ctx context.Context, c *Cluster) error {
	if c.SharedFS || len(c.Volumes) == 0 {
		return nil // the provider mounts them itself
	}
	m := c.Master()
	return c.ForEach(ctx, fmt.Sprintf("mount %d volumes on %s", len(c.Volumes), m.Alias), []*Node{m}, func(ctx context.Context, n *Node) error {
		for _, v := range c.Volumes {
			if _, err := c.Sudo(ctx, n, mountVolumeScript(v)); err != nil {
				return fmt.Errorf("volume %s (%s): %w", v.Name, v.ID, err)
			}
			// A volume grown while detached (resizevolume) gets its filesystem grown here.
			grow, err := GrowFSScript(v.MountPath, false)
			if err != nil {
				return fmt.Errorf("volume %s (%s): %w", v.Name, v.ID, err)
			}
			if _, err := c.Sudo(ctx, n, grow); err != nil {
				return fmt.Errorf("volume %s (%s): grow its filesystem: %w", v.Name, v.ID, err)
			}
		}
		return nil
	})
}

// mountVolumeScript finds, formats (when asked and empty), records in fstab and mounts one volume.
// Every value travels in a quoted variable; the mount path must not pass through a link (a
// user could otherwise make root mount the volume over /etc).
func mountVolumeScript(v Volume) string {
	nvme := "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_" + strings.ReplaceAll(v.ID, "-", "")
	xvd := strings.Replace(v.Device, "/dev/sd", "/dev/xvd", 1)
	format := "no"
	if v.Format {
		format = "yes"
	}
	return fmt.Sprintf(`set -e
id=%s
mp=%s
dev=
for c in %s %s %s; do if [ -b "$c" ]; then dev=$(readlink -f -- "$c"); break; fi; done
[ -n "$dev" ] || { echo "volume $id is not attached (looked for %s and %s)" >&2; exit 1; }
part=%d
parts=$(lsblk -nrpo NAME,TYPE -- "$dev" | awk '$2 == "part" { print $1 }')
if [ "$part" -gt 0 ]; then
  case "$dev" in *nvme*) p="${dev}p$part" ;; *) p="$dev$part" ;; esac
elif [ -z "$parts" ]; then p=$dev
elif [ "$(echo "$parts" | wc -l)" -eq 1 ]; then p=$parts
else echo "volume $id has several partitions: set PARTITION in its [volume] section" >&2; exit 1
fi
fs=$(blkid -o value -s TYPE -- "$p" || true)
if [ -z "$fs" ]; then
  if [ %s = yes ]; then mkfs.ext4 -q -- "$p"; else echo "volume $id has no filesystem and was not created by createvolume; format it yourself" >&2; exit 1; fi
fi
uuid=$(blkid -o value -s UUID -- "$p")
%s
grep -q "^UUID=$uuid " /etc/fstab || echo "UUID=$uuid $mp auto defaults,nofail 0 2" >> /etc/fstab
mountpoint -q "$mp" || mount -- "$mp"`,
		remote.Quote(v.ID), remote.Quote(v.MountPath), remote.Quote(nvme), remote.Quote(v.Device), remote.Quote(xvd),
		nvme, v.Device, v.Partition, format, noLinkMkdir("$mp"))
}

// noLinkMkdir creates the directory in the shell variable reference dir (with its parents) and
// fails when any part of it is a link: root mounts there, and a link planted by a user
// would move the mount anywhere, /etc included.
func noLinkMkdir(dir string) string {
	return fmt.Sprintf(`mkdir -p -- "%[1]s"
[ "$(realpath -e -- "%[1]s")" = "%[1]s" ] || { echo "%[1]s passes through a link; refusing to mount there" >&2; exit 1; }`, dir)
}

// sharedPaths are the paths the master shares: /home and every volume's mount path.
func (c *Cluster) sharedPaths() []string {
	paths := []string{"/home"}
	for _, v := range c.Volumes {
		paths = append(paths, v.MountPath)
	}
	return paths
}

// exportsEdit exports every shared path to each node by address (never to *), one line per
// (path, node) so adding a node appends lines and removing one drops its lines.
func exportsEdit(nodes []*Node, paths []string, gone []*Node) blockEdit {
	var lines, drop []string
	for _, n := range nodes {
		for _, p := range paths {
			lines = append(lines, fmt.Sprintf("%s %s(rw,async,no_root_squash,no_subtree_check) # %s", p, n.PrivateIP, n.Alias))
		}
	}
	for _, n := range gone {
		drop = append(drop, n.PrivateIP)
	}
	return blockEdit{File: "/etc/exports.d/clusterctl.exports", KeyField: 2, Add: lines, Drop: exportKeys(drop)}
}

// exportKeys turns addresses into the keys export lines carry in their second field
// ("10.0.0.5(rw,...)" splits on the comma to "10.0.0.5(rw").
func exportKeys(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a + "(rw"
	}
	return out
}

// fstabEdit mounts the master's shared paths on a node.
func fstabEdit(master *Node, paths []string) blockEdit {
	lines := make([]string, len(paths))
	for i, p := range paths {
		lines[i] = fmt.Sprintf("%s:%s %s nfs rw,hard,nofail,_netdev 0 0", master.Alias, p, p)
	}
	return blockEdit{File: "/etc/fstab", KeyField: 2, Add: lines}
}

// nfsServerScript installs the NFS server when missing, exports the shared paths to the nodes
// and reloads the export table.
func nfsServerScript(nodes []*Node, paths []string) string {
	return `set -e
command -v exportfs >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq nfs-kernel-server; }
mkdir -p /etc/exports.d
` + exportsEdit(nodes, paths, nil).Script() + `
systemctl enable --now nfs-server >/dev/null 2>&1 || service nfs-kernel-server start
exportfs -ra`
}

// nfsClientScript installs the NFS client when missing and mounts the master's paths.
func nfsClientScript(master *Node, paths []string) string {
	var mounts strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&mounts, "mp=%s\n%s\nmountpoint -q \"$mp\" || mount -- \"$mp\"\n", remote.Quote(p), noLinkMkdir("$mp"))
	}
	return `set -e
command -v mount.nfs >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq nfs-common; }
` + fstabEdit(master, paths).Script() + "\n" + mounts.String()
}

// sharedFS shares /home and the volume paths from the master over NFS, to the cluster's nodes
// only. Providers that share natively (local bind mounts) skip it.
type sharedFS struct{}

func (sharedFS) Name() string { return "shared filesystem" }
func (sharedFS) Run(ctx context.Context, c *Cluster) error {
	if c.SharedFS {
		return nil
	}
	m, workers := c.Master(), c.Workers()
	if err := c.ForEach(ctx, "NFS exports on "+m.Alias, []*Node{m}, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, nfsServerScript(workers, c.sharedPaths()))
		return err
	}); err != nil {
		return err
	}
	return c.ForEach(ctx, "NFS mounts", workers, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, nfsClientScript(m, c.sharedPaths()))
		return err
	})
}

func addSharedFS(ctx context.Context, c *Cluster, added []*Node) error {
	if c.SharedFS {
		return nil
	}
	m := c.Master()
	if _, err := c.Sudo(ctx, m, exportsEdit(added, c.sharedPaths(), nil).Script()+"\nexportfs -ra"); err != nil {
		return fmt.Errorf("NFS exports on %s: %w", m.Alias, err)
	}
	return c.ForEach(ctx, "NFS mounts", added, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, nfsClientScript(m, c.sharedPaths()))
		return err
	})
}
