package cluster

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// Defaults of syncdata.
const (
	// DefaultHeadroom is how much larger than its data a new snapshot's volume is made, in
	// percent: room for the filesystem and for a later sync of slightly more data.
	DefaultHeadroom = 20
	// DefaultKeepSnapshots is how many of a volume's syncdata snapshots syncdata keeps.
	DefaultKeepSnapshots = 3
	// snapshotTimeout bounds the wait for a snapshot: EBS copies a large volume for a while.
	snapshotTimeout = 4 * time.Hour
)

// SyncOptions say what syncdata copies into a new snapshot of a copied volume.
type SyncOptions struct {
	// Volume is a copied volume's name (or mount path).
	Volume string
	// Dirs are absolute directories on the master; each is copied as a directory of its own
	// at the volume's root, or (ending in /) its contents are, as rsync does.
	Dirs []string
	// SizeGB is the new volume's size; 0 makes it the data's size plus Headroom percent.
	SizeGB   int
	Headroom int
	// Keep is how many of the volume's syncdata snapshots to keep, newest first; 0 keeps all.
	Keep int
	// Rollout replaces the workers whose copy is older, one at a time.
	Rollout bool
	// Copier does the work on the master; nil runs clusterctl's own scripts there over SSH.
	// Tests of the cloud side on moto, whose instances run nothing, bring their own.
	Copier DataCopier
}

// DataCopier measures and copies the data syncdata snapshots, on the master.
type DataCopier interface {
	// Measure returns how many bytes the directories hold, failing when one is missing.
	Measure(ctx context.Context, dirs []string) (int64, error)
	// Copy puts the directories on the empty volume attached to the master.
	Copy(ctx context.Context, dirs []string, v Staging) error
	// Release unmounts what Copy left mounted, after a failure; it must not fail when
	// nothing is.
	Release(ctx context.Context, v Staging) error
}

// Staging is the volume syncdata fills: its id, the device it is attached as, and (for
// providers without block devices) the directory it shows up as instead.
type Staging struct {
	ID, Device string
	// Dir is Capabilities.AttachDir/ID when the provider attaches directories, else "".
	Dir string
	// Name is the copied volume's name, for messages.
	Name string
}

// SyncResult is what syncdata made.
type SyncResult struct {
	Snapshot cloud.Snapshot
	// Volume is the copied volume the snapshot is for.
	Volume RecordVolume
	// ConfigLines are what to put in the config file, so later clusters start from the data.
	ConfigLines []string
	// Pruned are the older snapshots deleted (Keep).
	Pruned []string
	// Replaced are the workers --rollout replaced; Kept says which nodes keep older copies.
	Replaced []string
	Kept     []string
}

// SyncData copies directories of the master into a new snapshot for one of the cluster's
// copied volumes: a volume sized for the data is created in the master's zone, attached to it,
// formatted and filled there, detached, snapshotted and deleted again (also when any step
// fails). The snapshot is tagged with the cluster, so nodes launched from then on get it; older
// ones beyond Keep are deleted, and Rollout replaces the workers that have older copies.
func (e *Engine) SyncData(ctx context.Context, tag string, o SyncOptions, so SetupOptions) (res *SyncResult, err error) {
	sn, err := e.snapshotter()
	if err != nil {
		return nil, err
	}
	s, err := e.lockedSession(ctx, tag, so)
	if err != nil {
		return nil, err
	}
	defer s.close()
	rec := s.acc.Record
	idx, err := rec.findCopy(o.Volume)
	if err != nil {
		return nil, err
	}
	vol := rec.Copies[idx]
	if err := checkSyncDirs(o.Dirs); err != nil {
		return nil, err
	}
	master := s.c.Master()
	if master == nil {
		return nil, errNoRunningMaster(tag)
	}
	copier := o.Copier
	if copier == nil {
		copier = &masterCopier{c: s.c, master: master}
	}
	size := o.SizeGB
	if size <= 0 {
		var bytes int64
		if err := e.step(ctx, fmt.Sprintf("measure %d directories on %s", len(o.Dirs), master.Alias), func(ctx context.Context, _ *ui.Step) error {
			bytes, err = copier.Measure(ctx, o.Dirs)
			return err
		}); err != nil {
			return nil, err
		}
		size = stagingSizeGB(bytes, o.Headroom)
	}
	var staging cloud.Volume
	if err := e.step(ctx, fmt.Sprintf("create a %d GB volume in %s", size, master.Zone), func(ctx context.Context, _ *ui.Step) error {
		staging, err = e.Provider.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: size, Zone: master.Zone, Name: tag + "-" + vol.Name + "-sync",
			Tags: map[string]string{cloud.TagCluster: tag, cloud.TagVolume: vol.Name}})
		return err
	}); err != nil {
		return nil, err
	}
	st := Staging{ID: staging.ID, Name: vol.Name}
	dropped := false
	defer func() {
		if !dropped {
			err = errors.Join(err, e.dropStaging(ctx, copier, st))
		}
	}()
	if st.Device, err = e.freeDevice(ctx, tag, rec, master.ID); err != nil {
		return nil, err
	}
	if dir := e.Provider.Capabilities().AttachDir; dir != "" {
		st.Dir = dir + "/" + st.ID
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{fmt.Sprintf("attach %s to %s", st.ID, master.Alias), func(ctx context.Context) error {
			return e.Provider.AttachVolume(ctx, st.ID, master.ID, st.Device)
		}},
		{fmt.Sprintf("copy %s to %s on %s", strings.Join(o.Dirs, " "), st.ID, master.Alias), func(ctx context.Context) error {
			return copier.Copy(ctx, o.Dirs, st)
		}},
		{"detach " + st.ID, func(ctx context.Context) error { return e.Provider.DetachVolume(ctx, st.ID) }},
	}
	for _, stp := range steps {
		if err := e.step(ctx, stp.name, func(ctx context.Context, _ *ui.Step) error { return stp.fn(ctx) }); err != nil {
			return nil, err
		}
	}
	res = &SyncResult{Volume: vol}
	if err := e.step(ctx, "snapshot "+st.ID, func(ctx context.Context, _ *ui.Step) error {
		ctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
		defer cancel()
		res.Snapshot, err = sn.CreateSnapshot(ctx, cloud.SnapshotSpec{VolumeID: st.ID,
			Description: fmt.Sprintf("clusterctl syncdata %s %s: %s", tag, vol.Name, strings.Join(o.Dirs, " ")),
			Tags: map[string]string{cloud.TagCluster: tag, cloud.TagVolume: vol.Name, cloud.TagSyncData: rec.syncKey(),
				cloud.TagName: tag + "-" + vol.Name}})
		return err
	}); err != nil {
		return nil, err
	}
	dropped = true
	if err := e.dropStaging(ctx, copier, st); err != nil {
		return res, err
	}
	current, err := e.currentSnapshots(ctx, tag, rec)
	if err != nil {
		return res, err
	}
	current[vol.Name] = res.Snapshot.ID
	res.ConfigLines = configLines(rec, idx, current)
	if o.Keep > 0 {
		if res.Pruned, err = e.PruneSnapshots(ctx, tag, vol.Name, o.Keep); err != nil {
			return res, err
		}
	}
	if o.Rollout {
		s.close()
		res.Replaced, res.Kept, err = e.rollout(ctx, tag, rec, idx, res.Snapshot.ID, so)
	}
	return res, err
}

// checkSyncDirs accepts clean absolute directories other than /, a trailing / allowed (copy
// the contents).
func checkSyncDirs(dirs []string) error {
	if len(dirs) == 0 {
		return errors.New("name at least one directory of the master to copy")
	}
	for _, d := range dirs {
		trimmed := strings.TrimSuffix(d, "/")
		if !path.IsAbs(d) || trimmed == "" || path.Clean(trimmed) != trimmed || strings.ContainsAny(d, "\n\x00") {
			return fmt.Errorf("directory %q: want an absolute path on the master, such as /data/genomes (end it with / to copy its contents)", d)
		}
	}
	return nil
}

// stagingSizeGB is a volume size for bytes of data plus headroom percent (default
// DefaultHeadroom), with a GB more for the filesystem itself, at least 1 GB.
func stagingSizeGB(bytes int64, headroom int) int {
	if headroom <= 0 {
		headroom = DefaultHeadroom
	}
	const gb = 1 << 30
	withRoom := bytes + bytes*int64(headroom)/100
	return int((withRoom+gb-1)/gb) + 1
}

// freeDevice picks a device for the staging volume on the master that none of the cluster's
// volumes use, counting up from /dev/sdf (the cluster's own count down from /dev/sdz).
func (e *Engine) freeDevice(ctx context.Context, tag string, r Record, masterID string) (string, error) {
	taken := map[string]bool{}
	for i := range r.Volumes {
		taken[VolumeDevice(r.Volumes, i)] = true
	}
	for i := range r.Copies {
		taken[r.copyDevice(i)] = true
	}
	vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{Cluster: tag})
	if err != nil {
		return "", err
	}
	for _, v := range vols {
		if v.AttachedTo == masterID {
			taken[v.Device] = true
		}
	}
	for c := 'f'; c <= 'z'; c++ {
		if dev := "/dev/sd" + string(c); !taken[dev] {
			return dev, nil
		}
	}
	return "", errors.New("the master has no free device name between /dev/sdf and /dev/sdz for the new volume")
}

// dropStaging removes the staging volume, whatever state a failure left it in: unmounted on the
// master, detached, deleted. It runs even when ctx was cancelled, and names what it could not
// remove.
func (e *Engine) dropStaging(ctx context.Context, copier DataCopier, st Staging) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	var errs []error
	err := e.step(ctx, "delete "+st.ID, func(ctx context.Context, _ *ui.Step) error {
		vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{IDs: []string{st.ID}})
		if err != nil {
			return err
		}
		if len(vols) == 1 && vols[0].AttachedTo != "" {
			errs = append(errs, copier.Release(ctx, st))
			if err := e.Provider.DetachVolume(ctx, st.ID); err != nil {
				return err
			}
		}
		return e.Provider.DeleteVolume(ctx, st.ID)
	})
	if err = errors.Join(append(errs, err)...); err != nil {
		return fmt.Errorf("the staging volume %s could not be removed, delete it with `clusterctl removevolume %s`: %w", st.ID, st.ID, err)
	}
	return nil
}

// configLines are the config lines that make later clusters start from the cluster's current
// data: the new snapshot of copy idx, and for a DATA_SNAPSHOTS list the current snapshot of each.
func configLines(r Record, idx int, current map[string]string) []string {
	c := r.Copies[idx]
	if !c.List {
		return []string{"[volume " + c.Name + "]", "SNAPSHOT_ID = " + current[c.Name]}
	}
	var items []string
	for _, v := range r.Copies {
		if !v.List {
			continue
		}
		id := v.SnapshotID
		if s := current[v.Name]; s != "" {
			id = s
		}
		if v.MountPath != "/"+v.Name {
			id += ":" + v.MountPath
		}
		items = append(items, id)
	}
	return []string{"[cluster " + r.Template + "]", "DATA_SNAPSHOTS = " + strings.Join(items, " ")}
}

func errNoRunningMaster(tag string) error {
	return fmt.Errorf("cluster %s has no running master to copy data from; start it with `clusterctl start -x %s`", tag, tag)
}
