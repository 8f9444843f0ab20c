package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// snapshotFile is a snapshot's record, next to its data/ directory:
//
//	STATE/snapshots/SNAPID/snapshot.json, data/
const snapshotFile = "snapshot.json"

var _ cloud.Snapshotter = (*Provider)(nil)

// snapshotRecord is a local snapshot: a read-only copy of a volume's files. Volumes created
// from it are overlays with it as their lower layer, so it costs its size once however many
// nodes use it, and it cannot be deleted while one does.
type snapshotRecord struct {
	Version     int               `json:"version"`
	ID          string            `json:"id"`
	VolumeID    string            `json:"volume_id"`
	SizeGB      int               `json:"size_gb"`
	StartTime   time.Time         `json:"start_time"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func (p *Provider) snapshotsDir() string         { return filepath.Join(p.stateDir, "snapshots") }
func (p *Provider) snapshotDir(id string) string { return filepath.Join(p.snapshotsDir(), id) }

// CreateSnapshot copies a volume's files (cp -a, sharing extents where the filesystem can) into
// a new snapshot. The copy is made outside the state lock and the record written last, so a
// snapshot is listed only once it is complete.
func (p *Provider) CreateSnapshot(ctx context.Context, spec cloud.SnapshotSpec) (cloud.Snapshot, error) {
	src, vol, err := p.snapshotSource(ctx, spec.VolumeID)
	if err != nil {
		return cloud.Snapshot{}, err
	}
	r := snapshotRecord{Version: stateVersion, ID: newID("snap-"), VolumeID: vol.ID, SizeGB: vol.SizeGB,
		StartTime: time.Now().UTC(), Description: spec.Description, Tags: maps.Clone(spec.Tags)}
	if err := os.MkdirAll(p.snapshotsDir(), 0o755); err != nil {
		return cloud.Snapshot{}, fmt.Errorf("snapshot volume %s: %w", vol.ID, err)
	}
	tmp, err := os.MkdirTemp(p.snapshotsDir(), ".tmp-"+r.ID+"-")
	if err != nil {
		return cloud.Snapshot{}, fmt.Errorf("snapshot volume %s: %w", vol.ID, err)
	}
	fail := func(err error) (cloud.Snapshot, error) {
		_ = os.RemoveAll(tmp)
		return cloud.Snapshot{}, fmt.Errorf("snapshot volume %s: %w", vol.ID, err)
	}
	data := filepath.Join(tmp, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		return fail(err)
	}
	if _, err := p.run(ctx, cmd("cp", "-a", "--reflink=auto", "--", src+"/.", data+"/")); err != nil {
		return fail(err)
	}
	if err := writeJSON(filepath.Join(tmp, snapshotFile), r); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, p.snapshotDir(r.ID)); err != nil {
		return fail(err)
	}
	p.log.Info("created snapshot", "id", r.ID, "volume", vol.ID)
	return r.toSnapshot(), nil
}

// snapshotSource is the directory holding a volume's files, mounted if the volume is a
// copy-on-write copy whose overlay is not mounted.
func (p *Provider) snapshotSource(ctx context.Context, volumeID string) (string, volumeRecord, error) {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return "", volumeRecord{}, fmt.Errorf("snapshot volume %s: %w", volumeID, err)
	}
	defer lock.Unlock()
	vol, err := p.readVolume(volumeID)
	if err != nil {
		return "", vol, fmt.Errorf("snapshot: %w", err)
	}
	if err := p.mountCopy(vol); err != nil {
		return "", vol, fmt.Errorf("snapshot volume %s: %w", vol.ID, err)
	}
	return filepath.Join(p.volumeDir(vol.ID), "data"), vol, nil
}

// Snapshots lists the snapshots matching f, newest first.
func (p *Provider) Snapshots(_ context.Context, f cloud.SnapshotFilter) ([]cloud.Snapshot, error) {
	recs, err := p.readSnapshots()
	if err != nil {
		return nil, err
	}
	var out []cloud.Snapshot
	for _, r := range recs {
		s := r.toSnapshot()
		if (len(f.IDs) == 0 || slices.Contains(f.IDs, s.ID)) && (f.Cluster == "" || s.Tags[cloud.TagCluster] == f.Cluster) && matchTags(s.Tags, f.Tags) {
			out = append(out, s)
		}
	}
	cloud.SortSnapshots(out)
	return out, nil
}

// DeleteSnapshot removes a snapshot's files. It refuses while a volume was created from it:
// the snapshot is that volume's lower layer.
func (p *Provider) DeleteSnapshot(ctx context.Context, id string) error {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return fmt.Errorf("delete snapshot %s: %w", id, err)
	}
	defer lock.Unlock()
	if _, err := p.readSnapshot(id); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	vols, err := p.readVolumes()
	if err != nil {
		return err
	}
	var users []string
	for _, v := range vols {
		if v.SnapshotID == id {
			users = append(users, v.ID)
		}
	}
	if len(users) > 0 {
		return fmt.Errorf("delete snapshot %s: volumes %s were created from it and use its files; delete them first",
			id, strings.Join(users, ", "))
	}
	if err := os.RemoveAll(p.snapshotDir(id)); err != nil {
		return fmt.Errorf("delete snapshot %s: %w", id, err)
	}
	p.log.Info("deleted snapshot", "id", id)
	return nil
}

// readSnapshot returns a snapshot's record or an error wrapping cloud.ErrNotFound.
func (p *Provider) readSnapshot(id string) (snapshotRecord, error) {
	return readRecord[snapshotRecord]("snapshot", id, snapshotIDPattern, func() string {
		return filepath.Join(p.snapshotDir(id), snapshotFile)
	})
}

// readRecord reads the record of resource id (what: its kind, for errors) from the file path
// names, failing with an error wrapping cloud.ErrNotFound when the id is malformed (it could
// name a path outside the state directory) or has no record.
func readRecord[R any](what, id string, pattern *regexp.Regexp, path func() string) (R, error) {
	var r R
	if !pattern.MatchString(id) {
		return r, fmt.Errorf("%s %q: %w", what, id, cloud.ErrNotFound)
	}
	err := readJSON(path(), &r)
	if errors.Is(err, os.ErrNotExist) {
		return r, fmt.Errorf("%s %s: %w", what, id, cloud.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w", what, id, err)
	}
	return r, nil
}

// readSnapshots returns every snapshot's record; directories without one (a copy in progress,
// named .tmp-*) are skipped.
func (p *Provider) readSnapshots() ([]snapshotRecord, error) {
	return readRecords(p.snapshotsDir(), "snapshots", p.readSnapshot)
}

// readRecords reads the record of every entry of dir with read (by the entry's name), skipping
// entries that have none (read wraps cloud.ErrNotFound); a missing dir holds no records.
func readRecords[R any](dir, what string, read func(name string) (R, error)) ([]R, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	var out []R
	for _, e := range entries {
		r, err := read(e.Name())
		if errors.Is(err, cloud.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (r snapshotRecord) toSnapshot() cloud.Snapshot {
	return cloud.Snapshot{ID: r.ID, VolumeID: r.VolumeID, SizeGB: r.SizeGB, State: cloud.SnapshotCompleted,
		StartTime: r.StartTime, Description: r.Description, Tags: maps.Clone(r.Tags)}
}

// matchTags applies a tag filter; an empty wanted value matches any value.
func matchTags(tags, want map[string]string) bool {
	for k, v := range want {
		got, ok := tags[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	return true
}

// checkPlanSnapshots reports snapshots a plan copies to its nodes that do not exist.
func (p *Provider) checkPlanSnapshots(plan cloud.Plan) []error {
	var errs []error
	seen := map[string]bool{}
	for _, req := range plan.Requests {
		for _, v := range req.Volumes {
			if seen[v.SnapshotID] {
				continue
			}
			seen[v.SnapshotID] = true
			if _, err := p.readSnapshot(v.SnapshotID); err != nil {
				errs = append(errs, fmt.Errorf("volume %s: %w (local snapshots are made with `clusterctl createsnapshot` or syncdata)", v.Name, err))
			}
		}
	}
	return errs
}
