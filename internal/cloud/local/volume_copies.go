package local

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// AttachDir is where a volume attached to a running instance shows up inside it: the local
// provider has no block devices, so the volume's files appear as the directory
// AttachDir/VOLUME-ID (see Capabilities.AttachDir).
const AttachDir = "/mnt/.clusterctl-volumes"

// createCopies makes each new instance its own copy-on-write volume from every snapshot of the
// launch (SHARE = copy), attached to it, to be bound at boot where it is mounted. It is the
// local equivalent of EC2 creating a launch's block device mappings: nothing is copied, the
// snapshot is the lower layer of each copy's overlay.
func (p *Provider) createCopies(ctx context.Context, recs []instanceRecord, vols []cloud.LaunchVolume) error {
	if len(vols) == 0 {
		return nil
	}
	lock, err := p.stateLock(ctx)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	for _, lv := range vols {
		snap, err := p.readSnapshot(lv.SnapshotID)
		if err != nil {
			return fmt.Errorf("volume %s: %w", lv.Name, err)
		}
		if !path.IsAbs(lv.MountPath) || path.Clean(lv.MountPath) != lv.MountPath || lv.MountPath == "/" || strings.ContainsAny(lv.MountPath, ",:") {
			return fmt.Errorf("volume %s: mount path %q: want a clean absolute path other than / without ',' or ':'", lv.Name, lv.MountPath)
		}
		for _, rec := range recs {
			r := volumeRecord{Version: stateVersion, ID: newID("vol-"), SizeGB: snap.SizeGB, Zone: Zone,
				CreateTime: time.Now().UTC().Truncate(time.Second), SnapshotID: snap.ID, MountPath: lv.MountPath,
				ReadOnly: lv.ReadOnly, DeleteOnTermination: !lv.Keep,
				Tags:       map[string]string{cloud.TagCluster: rec.Cluster, cloud.TagRole: string(rec.Role), cloud.TagVolume: lv.Name},
				Attachment: &volumeAttachment{Instance: rec.ID, Device: lv.Device}}
			dir := p.volumeDir(r.ID)
			for _, sub := range []string{"data", "upper", "work"} {
				if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
					return fmt.Errorf("volume %s for %s: %w", lv.Name, rec.Alias, err)
				}
			}
			if err := writeJSON(filepath.Join(dir, volumeFile), r); err != nil {
				return fmt.Errorf("volume %s for %s: %w", lv.Name, rec.Alias, err)
			}
		}
	}
	return nil
}

// mountCopy mounts a copy-on-write volume's overlay at its data/ when it is not mounted; plain
// volumes have a plain data/ and need nothing.
func (p *Provider) mountCopy(v volumeRecord) error {
	if v.SnapshotID == "" {
		return nil
	}
	dir := p.volumeDir(v.ID)
	data := filepath.Join(dir, "data")
	mounted, err := isMounted(data)
	if err != nil || mounted {
		return err
	}
	lower := filepath.Join(p.snapshotDir(v.SnapshotID), "data")
	if _, err := os.Stat(lower); err != nil {
		return fmt.Errorf("volume %s: its snapshot %s: %w", v.ID, v.SnapshotID, err)
	}
	return mountOverlayFlags(lower, filepath.Join(dir, "upper"), filepath.Join(dir, "work"), data, unix.MS_NOSUID|unix.MS_NODEV)
}

// instanceVolumeBinds are the nspawn options binding the volumes attached to one instance (its
// own copies at their mount paths, volumes attached while it ran under AttachDir), mounting
// copies first. Volumes its cluster mounts on every node are bound by bindArgs instead.
func (p *Provider) instanceVolumeBinds(rec instanceRecord, c clusterRecord) ([]string, error) {
	vols, err := p.readVolumes()
	if err != nil {
		return nil, err
	}
	var args []string
	for _, v := range vols {
		if v.Attachment == nil || v.Attachment.Instance != rec.ID || mountsVolume(c, v.ID) {
			continue
		}
		if err := p.mountCopy(v); err != nil {
			return nil, err
		}
		opt, dst := "--bind=", v.MountPath
		if v.ReadOnly {
			opt = "--bind-ro="
		}
		if dst == "" {
			dst = AttachDir + "/" + v.ID
		}
		args = append(args, opt+filepath.Join(p.volumeDir(v.ID), "data")+":"+dst)
	}
	return args, nil
}

// releaseVolumes lets go of the volumes attached to an instance that is being terminated: its
// copies are deleted unless kept, kept ones and volumes attached while it ran are detached.
// Overlays are unmounted either way, so no mount outlives the instance.
func (p *Provider) releaseVolumes(ctx context.Context, rec instanceRecord) error {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	vols, err := p.readVolumes()
	if err != nil {
		return err
	}
	for _, v := range vols {
		if v.Attachment == nil || v.Attachment.Instance != rec.ID {
			continue
		}
		dir := p.volumeDir(v.ID)
		if v.SnapshotID != "" {
			if err := unmount(filepath.Join(dir, "data")); err != nil {
				return fmt.Errorf("volume %s of %s: %w", v.ID, rec.Alias, err)
			}
		}
		if v.DeleteOnTermination {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("volume %s of %s: %w", v.ID, rec.Alias, err)
			}
			p.log.Info("deleted volume with its instance", "id", v.ID, "instance", rec.ID)
			continue
		}
		v.Attachment, v.Detached = nil, true
		if err := writeJSON(filepath.Join(dir, volumeFile), v); err != nil {
			return err
		}
	}
	return nil
}
