package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/config"
)

// TestRecordCopies: copied volumes are recorded apart from shared ones, in a record older
// clusterctl refuses; each gets a device of its own that no shared volume takes, and launches
// use syncdata's newest snapshot where there is one.
func TestRecordCopies(t *testing.T) {
	tmpl := &config.Template{Name: "render", ClusterSize: 2, ClusterUser: "clusteruser", ClusterShell: "bash",
		NodeImageID: "ami-0123456789abcdef0", NodeInstanceType: []config.InstanceSpec{{Type: "m5.large"}}, Volumes: []*config.Volume{
			{Name: "results", VolumeID: "vol-1", MountPath: "/results", Share: config.ShareMaster},
			{Name: "refs", MountPath: "/refs", Share: config.ShareCopy, SnapshotID: "snap-11111111", ReadOnly: true},
			{Name: "data", MountPath: "/data", Share: config.ShareCopy, SnapshotID: "snap-22222222", KeepCopies: true, FromDataSnapshots: true},
		}}
	r := NewRecord(tmpl, "ec2", nil, time.Date(2026, 11, 1, 12, 0, 0, 5, time.UTC), nil)
	if r.Version != copiesRecordVersion || len(r.Volumes) != 1 || len(r.Copies) != 2 {
		t.Fatalf("record: version %d, volumes %+v, copies %+v", r.Version, r.Volumes, r.Copies)
	}
	got, err := DecodeRecord(r.Encode())
	if err != nil || len(got.Copies) != 2 || !got.Copies[1].List || !got.Copies[1].Keep || got.Copies[0].Writable {
		t.Fatalf("round trip: %+v %v", got.Copies, err)
	}
	if got.syncKey() != "2026-11-01T12:00:00.000000005Z" {
		t.Errorf("sync key %q keeps the record's time to the nanosecond", got.syncKey())
	}
	if plain := NewRecord(&config.Template{Name: "plain"}, "ec2", nil, time.Now(), nil); plain.Version != recordVersion {
		t.Errorf("a record without copies stays at version %d, got %d", recordVersion, plain.Version)
	}
	future := r
	future.Version = copiesRecordVersion + 1
	if _, err := DecodeRecord(future.Encode()); err == nil || !strings.Contains(err.Error(), "newer clusterctl") {
		t.Errorf("a newer record: %v", err)
	}

	// results takes /dev/sdz on the master; the copies follow below it.
	lv := r.launchVolumes(map[string]string{"data": "snap-33333333"})
	if lv[0].Device != "/dev/sdy" || lv[1].Device != "/dev/sdx" || lv[0].SnapshotID != "snap-11111111" || lv[1].SnapshotID != "snap-33333333" ||
		!lv[0].ReadOnly || lv[0].Keep || !lv[1].Keep || lv[1].MountPath != "/data" {
		t.Errorf("launch volumes: %+v", lv)
	}
	if err := r.checkCopyDevices(); err != nil {
		t.Error(err)
	}
	clash := r
	clash.Copies = append([]RecordVolume(nil), r.Copies...)
	clash.Copies[0].Device = "/dev/sdz"
	if err := clash.checkCopyDevices(); err == nil || !strings.Contains(err.Error(), "volume refs: DEVICE /dev/sdz is the device volume results is attached as") {
		t.Errorf("a copy on the shared volume's device: %v", err)
	}
	for _, name := range []string{"refs", "/refs"} {
		if i, err := r.findCopy(name); err != nil || i != 0 {
			t.Errorf("findCopy(%s) = %d %v", name, i, err)
		}
	}
	if _, err := r.findCopy("results"); err == nil || !strings.Contains(err.Error(), "data (/data)") {
		t.Errorf("a shared volume is not a copy: %v", err)
	}
}
