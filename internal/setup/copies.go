package setup

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Copy is a volume every node has a copy of its own (SHARE = copy), created from a snapshot and
// attached at launch; setup mounts it on each node, read-only unless asked otherwise.
type Copy struct {
	Name      string
	MountPath string
	// Device is the name it was attached as (/dev/sdy); NVMe instances show it by volume id.
	Device    string
	Partition int
	ReadOnly  bool
}

// CopyKey indexes Cluster.CopyIDs: a node's instance id and the device a copy is attached at.
func CopyKey(instanceID, device string) string { return instanceID + " " + device }

// dataCopies mounts every node's copies. Providers that bind them at boot (local) skip it.
type dataCopies struct{}

func (dataCopies) Name() string                              { return "data copies" }
func (dataCopies) Run(ctx context.Context, c *Cluster) error { return addDataCopies(ctx, c, c.Nodes) }

// addDataCopies mounts the copies on the given nodes, each on its own: no other node is touched.
func addDataCopies(ctx context.Context, c *Cluster, nodes []*Node) error {
	if c.SharedFS || len(c.Copies) == 0 {
		return nil
	}
	for _, cp := range c.Copies {
		if err := cp.check(); err != nil {
			return err
		}
	}
	return c.ForEach(ctx, fmt.Sprintf("mount %d data copies", len(c.Copies)), nodes, func(ctx context.Context, n *Node) error {
		var script strings.Builder
		for _, cp := range c.Copies {
			id := c.CopyIDs[CopyKey(n.ID, cp.Device)]
			if id != "" && !volumeIDRE.MatchString(id) {
				return fmt.Errorf("volume id %q of the copy of %s is not a volume id", id, cp.Name)
			}
			script.WriteString(mountCopyScript(cp, id) + "\n")
		}
		_, err := c.Sudo(ctx, n, script.String())
		return err
	})
}

// What a copy's values must look like before they reach a root shell: they come from the
// cluster's record, read back from the cloud.
var (
	copyNameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	copyPathRE   = regexp.MustCompile(`^(/[A-Za-z0-9._-]+)+$`)
	copyDeviceRE = regexp.MustCompile(`^/dev/(sd|xvd)[b-z]$`)
	volumeIDRE   = regexp.MustCompile(`^vol-[0-9a-f]{8,17}$`)
)

func (cp Copy) check() error {
	switch {
	case !copyNameRE.MatchString(cp.Name):
		return fmt.Errorf("copied volume name %q: want letters, digits, '.', '_' and '-'", cp.Name)
	case !copyPathRE.MatchString(cp.MountPath) || path.Clean(cp.MountPath) != cp.MountPath || strings.Contains(cp.MountPath, "/../"):
		return fmt.Errorf("copied volume %s: mount path %q: want an absolute path of letters, digits, '.', '_' and '-'", cp.Name, cp.MountPath)
	case !copyDeviceRE.MatchString(cp.Device):
		return fmt.Errorf("copied volume %s: device %q is not /dev/sdf .. /dev/sdz", cp.Name, cp.Device)
	case cp.Partition < 0:
		return fmt.Errorf("copied volume %s: partition %d", cp.Name, cp.Partition)
	}
	return nil
}

// mountCopyScript finds a node's copy (by volume id on NVMe instances, else by device name),
// picks the whole device or its partition, records it in fstab by that stable device path (all
// copies of a snapshot share one filesystem UUID, so UUID= cannot tell two apart) and mounts it.
// It never formats: a copy holds the snapshot's filesystem. Values are checked (Copy.check).
func mountCopyScript(cp Copy, volumeID string) string {
	nvme := ""
	if volumeID != "" {
		nvme = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_" + strings.ReplaceAll(volumeID, "-", "")
	}
	xvd := strings.Replace(cp.Device, "/dev/sd", "/dev/xvd", 1)
	opts := "ro,nofail"
	if !cp.ReadOnly {
		opts = "defaults,nofail"
	}
	mnt := remote.Quote(cp.MountPath)
	return fmt.Sprintf(`(
set -e
dev=
for c in %[1]s %[2]s %[3]s; do if [ -n "$c" ] && [ -b "$c" ]; then dev=$c; break; fi; done
[ -n "$dev" ] || { echo "the copy of volume %[4]s is not attached (looked for %[2]s and the volume's NVMe device)" >&2; exit 1; }
real=$(readlink -f "$dev")
part=%[5]d
parts=$(lsblk -nrpo NAME,TYPE "$real" | awk '$2 == "part" { print $1 }')
if [ "$part" -eq 0 ] && [ -n "$parts" ]; then
  [ "$(echo "$parts" | wc -l)" -eq 1 ] || { echo "the copy of volume %[4]s has several partitions: set PARTITION in its [volume] section" >&2; exit 1; }
  part=${parts##*[!0-9]}
fi
src=$dev
if [ "$part" -gt 0 ]; then
  case "$dev" in /dev/disk/by-id/*) src="$dev-part$part" ;; *) src="$dev$part" ;; esac
fi
mkdir -p %[6]s
grep -q "^$src " /etc/fstab || printf '%%s %%s auto %%s 0 2
' "$src" %[6]s %[7]s >> /etc/fstab
mountpoint -q %[6]s || mount %[6]s
)`, remote.Quote(nvme), remote.Quote(cp.Device), remote.Quote(xvd), cp.Name, cp.Partition, mnt, opts)
}
