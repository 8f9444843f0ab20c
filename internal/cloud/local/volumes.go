package local

import (
	"cmp"
	"context"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Volume states, EC2's names, so the engine filters the same way on both providers.
const (
	volumeAvailable = "available"
	volumeInUse     = "in-use"
)

// volumeRecord is a local volume: a directory under STATE/volumes with its metadata. There is no
// block device: the size is recorded, not enforced, and the data directory is bound into every
// node of the cluster that mounts it.
type volumeRecord struct {
	Version    int               `json:"version"`
	ID         string            `json:"id"`
	SizeGB     int               `json:"size_gb"`
	Zone       string            `json:"zone"`
	CreateTime time.Time         `json:"create_time"`
	Tags       map[string]string `json:"tags,omitempty"`
	// Attachment is what AttachVolume recorded.
	Attachment *volumeAttachment `json:"attachment,omitempty"`
	// Detached is set by DetachVolume: the volume then reads as available even though a
	// cluster's mounts still name it, as the engine expects after a detach.
	Detached bool `json:"detached,omitempty"`
	// SnapshotID is the snapshot a copy-on-write volume was created from: its data/ is then an
	// overlay of the snapshot's files (read-only, below) and the volume's own upper/.
	SnapshotID string `json:"snapshot_id,omitempty"`
	// MountPath and ReadOnly say where the instance it was created for binds it (a launch's
	// volume); DeleteOnTermination removes it with that instance.
	MountPath           string `json:"mount_path,omitempty"`
	ReadOnly            bool   `json:"read_only,omitempty"`
	DeleteOnTermination bool   `json:"delete_on_termination,omitempty"`
}

// volumeAttachment is the instance and device AttachVolume was given. Live marks a volume
// attached while the instance ran (see attachLive): it shows under AttachDir in the instance.
type volumeAttachment struct {
	Instance string `json:"instance"`
	Device   string `json:"device,omitempty"`
	Live     bool   `json:"live,omitempty"`
}

// inventory is every cluster and instance record, read once for decisions that span clusters
// (which volume is in use, by whom).
type inventory struct {
	clusters  []clusterRecord
	instances map[string]instanceRecord // by id
	hasInsts  map[string]bool           // by cluster tag
	masters   map[string]string         // cluster tag -> master instance id
}

// readInventory reads every cluster's record and its instances.
func (p *Provider) readInventory() (inventory, error) {
	inv := inventory{instances: map[string]instanceRecord{}, hasInsts: map[string]bool{}, masters: map[string]string{}}
	var err error
	if inv.clusters, err = p.readClusters(); err != nil {
		return inv, err
	}
	for _, c := range inv.clusters {
		insts, err := p.readInstances(c.Tag)
		if err != nil {
			return inv, err
		}
		for _, in := range insts {
			inv.instances[in.ID] = in
			inv.hasInsts[c.Tag] = true
			if in.Role == cloud.RoleMaster {
				inv.masters[c.Tag] = in.ID
			}
		}
	}
	return inv, nil
}

// toVolume is the engine's view of a volume: in use by the instance AttachVolume recorded while
// that instance exists, else by the master of a cluster that mounts it (its directory is bound
// into that cluster's nodes) unless it was detached since.
func (inv inventory) toVolume(r volumeRecord) cloud.Volume {
	v := cloud.Volume{ID: r.ID, Name: r.Tags[cloud.TagName], SizeGB: r.SizeGB, Zone: r.Zone, State: volumeAvailable,
		CreateTime: r.CreateTime, SnapshotID: r.SnapshotID, Tags: maps.Clone(r.Tags)}
	if a := r.Attachment; a != nil {
		if _, ok := inv.instances[a.Instance]; ok {
			v.State, v.AttachedTo, v.Device = volumeInUse, a.Instance, a.Device
			return v
		}
	}
	if r.Detached {
		return v
	}
	for _, c := range inv.clusters {
		if m, ok := inv.masters[c.Tag]; ok && mountsVolume(c, r.ID) {
			v.State, v.AttachedTo = volumeInUse, m
			return v
		}
	}
	return v
}

// readVolume returns a volume's record or an error wrapping cloud.ErrNotFound.
func (p *Provider) readVolume(id string) (volumeRecord, error) {
	return readRecord[volumeRecord]("volume", id, volumeIDPattern, func() string {
		return filepath.Join(p.volumeDir(id), volumeFile)
	})
}

// Volumes lists the volumes matching f, sorted by name then id. Unknown ids are simply absent,
// as on EC2, so Preflight can name them.
func (p *Provider) Volumes(_ context.Context, f cloud.VolumeFilter) ([]cloud.Volume, error) {
	recs, err := p.readVolumes()
	if err != nil {
		return nil, err
	}
	inv, err := p.readInventory()
	if err != nil {
		return nil, err
	}
	var out []cloud.Volume
	for _, r := range recs {
		if len(f.IDs) > 0 && !slices.Contains(f.IDs, r.ID) {
			continue
		}
		if v := inv.toVolume(r); matchVolume(v, f) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b cloud.Volume) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// matchVolume applies a filter's fields other than IDs; an empty tag value matches any value.
func matchVolume(v cloud.Volume, f cloud.VolumeFilter) bool {
	switch {
	case f.Name != "" && v.Name != f.Name,
		f.State != "" && v.State != f.State,
		f.Zone != "" && v.Zone != f.Zone,
		f.Cluster != "" && v.Tags[cloud.TagCluster] != f.Cluster:
		return false
	}
	return matchTags(v.Tags, f.Tags)
}

// readVolumes returns every volume's record. Directories without one are not (or no longer)
// volumes and are skipped.
func (p *Provider) readVolumes() ([]volumeRecord, error) {
	return readRecords(p.volumesDir(), "volumes", p.readVolume)
}
