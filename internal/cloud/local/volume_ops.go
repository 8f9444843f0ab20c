package local

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// CreateVolume makes a volume directory with its record. The size is recorded (listings show
// it) but not enforced: the data lives on the host's filesystem.
func (p *Provider) CreateVolume(ctx context.Context, spec cloud.VolumeSpec) (cloud.Volume, error) {
	if spec.SizeGB < 1 {
		return cloud.Volume{}, fmt.Errorf("create volume: size %d GB: want at least 1", spec.SizeGB)
	}
	if spec.Zone != "" && spec.Zone != Zone {
		return cloud.Volume{}, fmt.Errorf("create volume: zone %q: the local provider has only zone %q", spec.Zone, Zone)
	}
	lock, err := p.stateLock(ctx)
	if err != nil {
		return cloud.Volume{}, fmt.Errorf("create volume: %w", err)
	}
	defer lock.Unlock()
	r := volumeRecord{Version: stateVersion, ID: newID("vol-"), SizeGB: spec.SizeGB, Zone: Zone,
		CreateTime: time.Now().UTC().Truncate(time.Second), Tags: maps.Clone(spec.Tags)}
	if spec.Name != "" {
		if r.Tags == nil {
			r.Tags = map[string]string{}
		}
		r.Tags[cloud.TagName] = spec.Name
	}
	dir := p.volumeDir(r.ID)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return cloud.Volume{}, fmt.Errorf("create volume: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, volumeFile), r); err != nil {
		_ = os.RemoveAll(dir)
		return cloud.Volume{}, fmt.Errorf("create volume: %w", err)
	}
	p.log.Info("created volume", "id", r.ID, "size_gb", r.SizeGB)
	return inventory{}.toVolume(r), nil
}

// AttachVolume checks and records an attachment. A volume the instance's cluster mounts is
// bound at boot into every node of it, so nothing moves. Any other volume is attached to the
// instance alone: at once under AttachDir when it runs (attachLive), else at its next boot.
func (p *Provider) AttachVolume(ctx context.Context, volumeID, instanceID, device string) error {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return fmt.Errorf("attach volume %s: %w", volumeID, err)
	}
	defer lock.Unlock()
	r, err := p.readVolume(volumeID)
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	inst, err := p.findInstance(instanceID)
	if err != nil {
		return fmt.Errorf("attach volume %s: %w", volumeID, err)
	}
	c, err := p.readCluster(inst.Cluster)
	if err != nil {
		return fmt.Errorf("attach volume %s: %w", volumeID, err)
	}
	inv, err := p.readInventory()
	if err != nil {
		return err
	}
	if !mountsVolume(c, volumeID) {
		return p.attachOne(ctx, inv, r, inst, device)
	}
	if v := inv.toVolume(r); v.AttachedTo != "" && v.AttachedTo != instanceID && inv.instances[v.AttachedTo].Cluster != c.Tag {
		return fmt.Errorf("attach volume %s to %s: it is attached to %s", volumeID, instanceID, v.AttachedTo)
	}
	r.Attachment, r.Detached = &volumeAttachment{Instance: instanceID, Device: device}, false
	return writeJSON(filepath.Join(p.volumeDir(volumeID), volumeFile), r)
}

// DetachVolume records the volume as available. Nodes that have it bound keep it until they
// stop; its data is never touched.
func (p *Provider) DetachVolume(ctx context.Context, volumeID string) error {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return fmt.Errorf("detach volume %s: %w", volumeID, err)
	}
	defer lock.Unlock()
	r, err := p.readVolume(volumeID)
	if err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	if err := p.detachOne(ctx, r); err != nil {
		return fmt.Errorf("detach volume %s: %w", volumeID, err)
	}
	r.Attachment, r.Detached = nil, true
	return writeJSON(filepath.Join(p.volumeDir(volumeID), volumeFile), r)
}

// DeleteVolume removes an available volume and its data. It refuses while the volume is
// attached, or bound into the instances of a cluster that mounts it (even after a detach:
// deleting it would pull the directory from under running nodes).
func (p *Provider) DeleteVolume(ctx context.Context, volumeID string) error {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return fmt.Errorf("delete volume %s: %w", volumeID, err)
	}
	defer lock.Unlock()
	r, err := p.readVolume(volumeID)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	inv, err := p.readInventory()
	if err != nil {
		return err
	}
	if v := inv.toVolume(r); v.State == volumeInUse {
		return fmt.Errorf("delete volume %s: it is attached to %s; detach it first", volumeID, v.AttachedTo)
	}
	for _, c := range inv.clusters {
		if mountsVolume(c, volumeID) && inv.hasInsts[c.Tag] {
			return fmt.Errorf("delete volume %s: it is bound into the instances of cluster %s; terminate them first", volumeID, c.Tag)
		}
	}
	// A copy's overlay, and the nosuid bind of a shared volume's data, go first.
	if err := unmountUnder(filepath.Join(p.volumeDir(volumeID), "data")); err != nil {
		return fmt.Errorf("delete volume %s: %w", volumeID, err)
	}
	if err := os.RemoveAll(p.volumeDir(volumeID)); err != nil {
		return fmt.Errorf("delete volume %s: %w", volumeID, err)
	}
	p.log.Info("deleted volume", "id", volumeID)
	return nil
}

// ResizeVolume records a larger size. A local volume is a directory on the host's filesystem,
// so there is no block device or filesystem to grow: the recorded size is what listings show.
func (p *Provider) ResizeVolume(ctx context.Context, volumeID string, sizeGB int) error {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return fmt.Errorf("resize volume %s: %w", volumeID, err)
	}
	defer lock.Unlock()
	r, err := p.readVolume(volumeID)
	if err != nil {
		return fmt.Errorf("resize: %w", err)
	}
	if sizeGB <= r.SizeGB {
		return fmt.Errorf("resize volume %s: it has %d GB already; volumes only grow", volumeID, r.SizeGB)
	}
	r.SizeGB = sizeGB
	if err := writeJSON(filepath.Join(p.volumeDir(volumeID), volumeFile), r); err != nil {
		return fmt.Errorf("resize volume %s: %w", volumeID, err)
	}
	p.log.Info("resized volume", "id", volumeID, "size_gb", sizeGB)
	return nil
}
