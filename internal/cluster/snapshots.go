package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// SnapshotInfo is a snapshot as listsnapshots shows it: syncdata's snapshots of a cluster, and
// the snapshots its template copies to nodes.
type SnapshotInfo struct {
	cloud.Snapshot
	Cluster string `json:"cluster"`
	Volume  string `json:"volume"`
	// Current marks the snapshot nodes launched now get a copy of.
	Current bool `json:"current"`
	// Origin is "syncdata", or "template" for the SNAPSHOT_ID (DATA_SNAPSHOTS) the cluster
	// was started with.
	Origin string `json:"origin"`
}

// Snapshots lists a cluster's snapshots: those syncdata made for it (also for earlier clusters
// with the same tag) and, while the cluster exists, its template's. Newest first.
func (e *Engine) Snapshots(ctx context.Context, tag string) ([]SnapshotInfo, error) {
	sn, err := e.snapshotter()
	if err != nil {
		return nil, err
	}
	made, err := sn.Snapshots(ctx, cloud.SnapshotFilter{Cluster: tag, Tags: map[string]string{cloud.TagSyncData: ""}})
	if err != nil {
		return nil, err
	}
	var rec *Record
	if _, r, err := e.loadCluster(ctx, tag); err == nil {
		rec = &r
	} else if !errors.Is(err, ErrClusterNotFound) {
		return nil, err
	}
	if rec == nil && len(made) == 0 {
		return nil, e.NotFound(ctx, tag)
	}
	current := map[string]string{}
	var out []SnapshotInfo
	if rec != nil {
		for _, s := range made {
			if name := s.Tags[cloud.TagVolume]; s.Tags[cloud.TagSyncData] == rec.syncKey() && current[name] == "" && s.State == cloud.SnapshotCompleted {
				current[name] = s.ID
			}
		}
		var ids []string
		for _, c := range rec.Copies {
			ids = append(ids, c.SnapshotID)
		}
		fromTemplate, err := sn.Snapshots(ctx, cloud.SnapshotFilter{IDs: ids})
		if err != nil {
			return nil, err
		}
		byID := map[string]cloud.Snapshot{}
		for _, s := range fromTemplate {
			byID[s.ID] = s
		}
		for _, c := range rec.Copies {
			s, ok := byID[c.SnapshotID]
			if !ok {
				s = cloud.Snapshot{ID: c.SnapshotID, State: "-", Description: "another account's (shared or public)"}
			}
			out = append(out, SnapshotInfo{Snapshot: s, Cluster: tag, Volume: c.Name, Current: current[c.Name] == "", Origin: "template"})
		}
	}
	for _, s := range made {
		name := s.Tags[cloud.TagVolume]
		out = append(out, SnapshotInfo{Snapshot: s, Cluster: tag, Volume: name, Current: current[name] == s.ID, Origin: "syncdata"})
	}
	slices.SortStableFunc(out, func(a, b SnapshotInfo) int { return b.StartTime.Compare(a.StartTime) })
	return out, nil
}

// PruneSnapshots deletes syncdata's older snapshots of a cluster's copied volume (every volume
// when volume is ""), keeping the newest keep of each and always the one nodes get now. A
// snapshot the provider refuses to delete (still in use) is reported, the rest go on.
func (e *Engine) PruneSnapshots(ctx context.Context, tag, volume string, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("keep at least 1 snapshot, got %d", keep)
	}
	sn, err := e.snapshotter()
	if err != nil {
		return nil, err
	}
	all, err := e.Snapshots(ctx, tag)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	var drop []SnapshotInfo
	for _, s := range all { // newest first
		if s.Origin != "syncdata" || (volume != "" && s.Volume != volume) {
			continue
		}
		seen[s.Volume]++
		if seen[s.Volume] > keep && !s.Current {
			drop = append(drop, s)
		}
	}
	if len(drop) == 0 {
		return nil, nil
	}
	var deleted []string
	var errs []error
	err = e.step(ctx, fmt.Sprintf("delete %d older snapshots", len(drop)), func(ctx context.Context, st *ui.Step) error {
		for i, s := range drop {
			if err := sn.DeleteSnapshot(ctx, s.ID); err != nil {
				errs = append(errs, err)
				continue
			}
			deleted = append(deleted, s.ID)
			if st != nil {
				st.Count(i+1, len(drop))
			}
		}
		return errors.Join(errs...)
	})
	return deleted, err
}
