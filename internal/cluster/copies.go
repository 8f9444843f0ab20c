package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// copiesRecordVersion is the record version of a cluster with copied volumes: a clusterctl that
// predates them would treat them as shared volumes without an id, so it must refuse the record.
const copiesRecordVersion = 2

// copyDevice is the device copy i is attached as on every node: its DEVICE, else the next name
// counting down from /dev/sdz that neither a shared volume (attached to the master) nor another
// copy takes.
func (r Record) copyDevice(i int) string {
	if d := r.Copies[i].Device; d != "" {
		return d
	}
	taken := map[string]bool{}
	for j := range r.Volumes {
		taken[VolumeDevice(r.Volumes, j)] = true
	}
	for _, c := range r.Copies {
		taken[c.Device] = true
	}
	k := 0
	for _, c := range r.Copies[:i] {
		if c.Device == "" {
			k++
		}
	}
	for c := 'z'; c >= 'f'; c-- {
		if dev := "/dev/sd" + string(c); !taken[dev] {
			if k == 0 {
				return dev
			}
			k--
		}
	}
	return ""
}

// checkCopyDevices refuses copies whose device a shared volume takes on the master, or that no
// free device is left for.
func (r Record) checkCopyDevices() error {
	shared := map[string]string{}
	for j, v := range r.Volumes {
		shared[VolumeDevice(r.Volumes, j)] = v.Name
	}
	for i, c := range r.Copies {
		dev := r.copyDevice(i)
		if dev == "" {
			return fmt.Errorf("volume %s: no free device name is left between /dev/sdf and /dev/sdz", c.Name)
		}
		if other, ok := shared[dev]; ok {
			return fmt.Errorf("volume %s: DEVICE %s is the device volume %s is attached as on the master; pick another", c.Name, dev, other)
		}
	}
	return nil
}

// launchVolumes are the copies every instance launched for the cluster gets, from the snapshot
// current names for a copy (syncdata's newest), else the template's.
func (r Record) launchVolumes(current map[string]string) []cloud.LaunchVolume {
	out := make([]cloud.LaunchVolume, len(r.Copies))
	for i, c := range r.Copies {
		snap := c.SnapshotID
		if s := current[c.Name]; s != "" {
			snap = s
		}
		out[i] = cloud.LaunchVolume{Name: c.Name, SnapshotID: snap, Device: r.copyDevice(i), MountPath: c.MountPath,
			ReadOnly: !c.Writable, Keep: c.Keep}
	}
	return out
}

// syncKey is the value of cloud.TagSyncData on the snapshots syncdata makes for this cluster:
// its record's creation time, unique to this cluster among all that ever had its tag.
func (r Record) syncKey() string { return r.CreatedAt.UTC().Format(time.RFC3339Nano) }

// launchCopies returns what the instances of a launch (of groups groups) get copies of: for
// each copied volume the newest snapshot syncdata made for this cluster, else the template's.
// It costs one snapshot listing per launch, and none for clusters without copies.
func (e *Engine) launchCopies(ctx context.Context, tag string, r Record, groups int) ([]cloud.LaunchVolume, error) {
	if len(r.Copies) == 0 || groups == 0 {
		return nil, nil
	}
	if err := r.checkCopyDevices(); err != nil {
		return nil, err
	}
	current, err := e.currentSnapshots(ctx, tag, r)
	if err != nil {
		return nil, err
	}
	return r.launchVolumes(current), nil
}

// currentSnapshots maps each copied volume to the newest completed snapshot syncdata made of it
// for this cluster. Ids read back from tags are checked before use.
func (e *Engine) currentSnapshots(ctx context.Context, tag string, r Record) (map[string]string, error) {
	sn, err := e.snapshotter()
	if err != nil {
		return nil, err
	}
	snaps, err := sn.Snapshots(ctx, cloud.SnapshotFilter{Cluster: tag, Tags: map[string]string{cloud.TagSyncData: r.syncKey()}})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range snaps { // newest first
		name := s.Tags[cloud.TagVolume]
		if _, seen := out[name]; seen || s.State != cloud.SnapshotCompleted || !cloud.SnapshotIDPattern.MatchString(s.ID) {
			continue
		}
		out[name] = s.ID
	}
	return out, nil
}

// snapshotter is the provider's snapshot support.
func (e *Engine) snapshotter() (cloud.Snapshotter, error) {
	sn, ok := e.Provider.(cloud.Snapshotter)
	if !ok {
		return nil, fmt.Errorf("the %s provider cannot copy snapshots to nodes", e.Provider.Name())
	}
	return sn, nil
}

// nodeCopy is one node's copy of a copied volume, as the provider lists it.
type nodeCopy struct {
	Instance   cloud.Instance
	VolumeID   string
	SnapshotID string
}

// nodeCopies finds each running node's copy of copied volume i (by the device it is attached
// at), in alias order.
func (e *Engine) nodeCopies(ctx context.Context, tag string, r Record, insts []cloud.Instance, i int) ([]nodeCopy, error) {
	vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{Cluster: tag})
	if err != nil {
		return nil, err
	}
	dev := r.copyDevice(i)
	var out []nodeCopy
	for _, in := range insts {
		for _, v := range vols {
			if v.AttachedTo == in.ID && v.Device == dev {
				out = append(out, nodeCopy{Instance: in, VolumeID: v.ID, SnapshotID: v.SnapshotID})
			}
		}
	}
	return out, nil
}

// setupCopies tells setup which copies to mount, and each node's volume id for them (NVMe
// instances name their devices by volume id). Providers that bind copies themselves skip it.
func (e *Engine) setupCopies(ctx context.Context, tag string, r Record, c *setup.Cluster) error {
	if len(r.Copies) == 0 || c.SharedFS {
		return nil
	}
	vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{Cluster: tag})
	if err != nil {
		return err
	}
	c.CopyIDs = map[string]string{}
	for _, v := range vols {
		if v.AttachedTo != "" {
			c.CopyIDs[setup.CopyKey(v.AttachedTo, v.Device)] = v.ID
		}
	}
	for i, cp := range r.Copies {
		c.Copies = append(c.Copies, setup.Copy{Name: cp.Name, MountPath: cp.MountPath, Device: r.copyDevice(i),
			Partition: cp.Partition, ReadOnly: !cp.Writable})
	}
	return nil
}

// findCopy resolves syncdata's --volume: a copied volume's name or mount path.
func (r Record) findCopy(name string) (int, error) {
	for i, c := range r.Copies {
		if c.Name == name || c.MountPath == name {
			return i, nil
		}
	}
	names := make([]string, 0, len(r.Copies))
	for _, c := range r.Copies {
		names = append(names, c.Name+" ("+c.MountPath+")")
	}
	if len(names) == 0 {
		return 0, fmt.Errorf("the cluster has no volume copied to its nodes (SHARE = copy or DATA_SNAPSHOTS in its template)")
	}
	slices.Sort(names)
	return 0, fmt.Errorf("the cluster has no copied volume %q (its copied volumes: %v)", name, names)
}

// CopiesToLaunch lists the copies every node of a new cluster gets, from the template's
// snapshots, for the dry run's plan.
func (r Record) CopiesToLaunch() []cloud.LaunchVolume { return r.launchVolumes(nil) }
