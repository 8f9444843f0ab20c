package cloud

import (
	"context"
	"regexp"
	"sort"
	"time"
)

// Snapshot is a point-in-time copy of a volume: an EBS snapshot, or on the local provider a
// read-only copy of a volume's directory. Volumes created from it start with its data.
type Snapshot struct {
	ID          string            `json:"id"`
	VolumeID    string            `json:"volume_id,omitempty"`
	SizeGB      int               `json:"size_gb"`
	State       string            `json:"state"`
	StartTime   time.Time         `json:"start_time"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// SnapshotCompleted is the state of a snapshot that volumes can be created from.
const SnapshotCompleted = "completed"

// SnapshotFilter narrows a snapshot listing to the account's own snapshots; empty fields match
// everything. A tag with an empty value matches any value.
type SnapshotFilter struct {
	IDs     []string
	Cluster string
	Tags    map[string]string
}

// SnapshotSpec describes a new snapshot of a volume.
type SnapshotSpec struct {
	VolumeID    string
	Description string
	Tags        map[string]string
}

// Snapshotter is implemented by providers that copy volumes to snapshots and back: what copies
// a cluster's data to every node (SHARE = copy) and what `syncdata` makes.
type Snapshotter interface {
	// CreateSnapshot snapshots a volume, tagged at creation, and waits until it is completed
	// (volumes can be created from it).
	CreateSnapshot(ctx context.Context, spec SnapshotSpec) (Snapshot, error)
	// Snapshots lists the account's own snapshots matching f, newest first.
	Snapshots(ctx context.Context, f SnapshotFilter) ([]Snapshot, error)
	// DeleteSnapshot deletes a snapshot; one that does not exist is an error wrapping
	// ErrNotFound.
	DeleteSnapshot(ctx context.Context, id string) error
}

// LaunchVolume is a volume every instance of a launch gets of its own, created from a snapshot
// in the instance's zone and attached before it boots (SHARE = copy).
type LaunchVolume struct {
	// Name is the [volume] section's name, for messages and tags.
	Name       string
	SnapshotID string
	// Device is the name it is attached as (/dev/sdy); NVMe instances show it under its volume
	// id instead.
	Device string
	// MountPath and ReadOnly say where and how it is mounted, for providers that mount
	// volumes themselves (Capabilities.SharedFilesystem); on others setup mounts it.
	MountPath string
	ReadOnly  bool
	// Keep leaves the volume behind when its instance is terminated; by default it goes with
	// the instance.
	Keep bool
}

// SnapshotIDPattern is what a snapshot id looks like on either provider (EC2's snap- with 8 or
// 17 hex digits, the local provider's 12); ids read from tags are checked against it.
var SnapshotIDPattern = regexp.MustCompile(`^snap-[0-9a-f]{8,17}$`)

// SortSnapshots orders snapshots newest first (then by id), the order every provider lists
// them in: the first of a volume's syncdata snapshots is its current data.
func SortSnapshots(s []Snapshot) {
	sort.SliceStable(s, func(i, j int) bool {
		if !s[i].StartTime.Equal(s[j].StartTime) {
			return s[i].StartTime.After(s[j].StartTime)
		}
		return s[i].ID < s[j].ID
	})
}
