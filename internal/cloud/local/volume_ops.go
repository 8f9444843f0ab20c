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

// AttachVolume checks and records an attachment. Nothing moves: the volume's directory is bound
// at boot into every node of a cluster created with it among its mounts, so attaching a volume
// the instance's cluster does not mount is an error saying so, not a silent no-op.
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
	if !mountsVolume(c, volumeID) {
		return fmt.Errorf("attach volume %s to %s: cluster %s does not mount it; the local provider binds volumes into the nodes at boot, so the cluster must be created with the volume among its mounts",
			volumeID, instanceID, c.Tag)
	}
	inv, err := p.readInventory()
	if err != nil {
		return err
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
	if err := unbindNosuid(filepath.Join(p.volumeDir(volumeID), "data")); err != nil {
		return fmt.Errorf("delete volume %s: %w", volumeID, err)
	}
	if err := os.RemoveAll(p.volumeDir(volumeID)); err != nil {
		return fmt.Errorf("delete volume %s: %w", volumeID, err)
	}
	p.log.Info("deleted volume", "id", volumeID)
	return nil
}
