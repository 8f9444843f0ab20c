package local

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// homePath is the cluster's own /home, shared by every node. It is always among a cluster's
// mounts: the provider declares SharedFilesystem, so setup shares nothing over NFS and /home
// would otherwise differ between nodes.
const homePath = "/home"

// clusterMounts checks and normalizes the paths a cluster shares: absolute, clean, not "/",
// without the ',' and ':' nspawn's --bind syntax reserves, each path once, and /home first
// unless a volume is mounted there.
func clusterMounts(in []cloud.Mount) ([]cloud.Mount, error) {
	out := make([]cloud.Mount, 0, len(in)+1)
	seen := map[string]bool{}
	var errs []error
	for _, m := range in {
		if !path.IsAbs(m.Path) || path.Clean(m.Path) != m.Path || m.Path == "/" || strings.ContainsAny(m.Path, ",:") {
			errs = append(errs, fmt.Errorf("mount path %q: want a clean absolute path other than / without ',' or ':'", m.Path))
			continue
		}
		if m.VolumeID != "" && !volumeIDPattern.MatchString(m.VolumeID) {
			errs = append(errs, fmt.Errorf("mount %s: %q is not a local volume id (vol-XXXXXXXXXXXX)", m.Path, m.VolumeID))
			continue
		}
		if seen[m.Path] {
			errs = append(errs, fmt.Errorf("mount path %s appears twice", m.Path))
			continue
		}
		seen[m.Path] = true
		out = append(out, m)
	}
	if !seen[homePath] {
		out = append([]cloud.Mount{{Path: homePath}}, out...)
	}
	return out, errors.Join(errs...)
}

// mountSource is the host directory bound at m.Path in every node: the volume's data directory,
// or for a cluster-owned path (no volume) a directory under the cluster's shared/.
func (p *Provider) mountSource(tag string, m cloud.Mount) string {
	if m.VolumeID != "" {
		return filepath.Join(p.volumeDir(m.VolumeID), "data")
	}
	return filepath.Join(p.clusterDir(tag), "shared", strings.ReplaceAll(strings.TrimPrefix(m.Path, "/"), "/", "_"))
}

// bindArgs are the nspawn --bind options for a cluster's mounts, each source first made a
// nosuid,nodev mount of itself (bindNosuid). A volume deleted since the cluster was created is
// an error naming it: booting without it would silently hide its data.
func (p *Provider) bindArgs(c clusterRecord) ([]string, error) {
	args := make([]string, 0, len(c.Mounts))
	for _, m := range c.Mounts {
		src := p.mountSource(c.Tag, m)
		if m.VolumeID == "" {
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("shared directory for %s: %w", m.Path, err)
			}
		} else if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("volume %s mounted at %s: %w", m.VolumeID, m.Path, cloud.ErrNotFound)
		}
		if err := bindNosuid(src); err != nil {
			return nil, fmt.Errorf("shared directory for %s: %w", m.Path, err)
		}
		args = append(args, "--bind="+src+":"+m.Path)
	}
	return args, nil
}

// checkMountVolumes verifies a new cluster's volumes exist and no other cluster mounts them:
// the local equivalent of an EBS volume being attachable to one instance at a time.
func (p *Provider) checkMountVolumes(tag string, mounts []cloud.Mount, clusters []clusterRecord) error {
	var errs []error
	for _, m := range mounts {
		if m.VolumeID == "" {
			continue
		}
		if _, err := p.readVolume(m.VolumeID); err != nil {
			errs = append(errs, fmt.Errorf("mount %s: %w", m.Path, err))
			continue
		}
		for _, c := range clusters {
			if c.Tag != tag && mountsVolume(c, m.VolumeID) {
				errs = append(errs, fmt.Errorf("volume %s is already mounted by cluster %s", m.VolumeID, c.Tag))
			}
		}
	}
	return errors.Join(errs...)
}

// mountsVolume reports whether the cluster binds the volume into its nodes.
func mountsVolume(c clusterRecord, volumeID string) bool {
	for _, m := range c.Mounts {
		if m.VolumeID == volumeID {
			return true
		}
	}
	return false
}

// hostRoot maps a path inside the nodes to the host directory of the cluster mount covering
// it and the rest of the path below that directory (the login user's home under the shared
// /home: the shared home's directory and "admin"), so files every node must see are written
// once, on the shared side, and nothing above the mount's directory is trusted.
func (p *Provider) hostRoot(c clusterRecord, inside string) (root, rel string, ok bool) {
	best := -1
	for i, m := range c.Mounts {
		if inside == m.Path || strings.HasPrefix(inside, m.Path+"/") {
			if best < 0 || len(m.Path) > len(c.Mounts[best].Path) {
				best = i
			}
		}
	}
	if best < 0 {
		return "", "", false
	}
	m := c.Mounts[best]
	rel = strings.Trim(strings.TrimPrefix(inside, m.Path), "/")
	if rel == "" {
		rel = "."
	}
	return p.mountSource(c.Tag, m), rel, true
}
