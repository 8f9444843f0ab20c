package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestVolumeCopies boots a two-instance cluster whose launches copy a snapshot to every
// instance and checks the local equivalent of EBS volumes from a snapshot: each instance has
// its own copy, read-only unless asked otherwise, writes stay on their node, the snapshot is
// kept while copies use it, a volume attached to a running instance shows up in it and goes
// again on detach, and terminating an instance takes its copies along unless they are kept.
func TestVolumeCopies(t *testing.T) {
	t.Parallel()
	p := newRealProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	seed, err := p.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: 2, Name: "seed"})
	if err != nil {
		t.Fatal(err)
	}
	seedData := filepath.Join(p.volumeDir(seed.ID), "data")
	if err := os.MkdirAll(filepath.Join(seedData, "genomes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seedData, "genomes", "hg38.txt"), []byte("ACGT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := p.CreateSnapshot(ctx, cloud.SnapshotSpec{VolumeID: seed.ID, Description: "seed", Tags: map[string]string{"purpose": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.State != cloud.SnapshotCompleted || snap.SizeGB != 2 || !cloud.SnapshotIDPattern.MatchString(snap.ID) {
		t.Fatalf("snapshot %+v", snap)
	}
	if got, err := p.Snapshots(ctx, cloud.SnapshotFilter{Tags: map[string]string{"purpose": "test"}}); err != nil || len(got) != 1 || got[0].ID != snap.ID {
		t.Fatalf("snapshots by tag: %+v %v", got, err)
	}
	// Later changes to the volume do not reach the snapshot.
	if err := os.WriteFile(filepath.Join(seedData, "genomes", "later.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	tc := startCluster(ctx, t, p, clusterSpec{tag: "copies", nodes: 1, volumes: []cloud.LaunchVolume{
		{Name: "ref", SnapshotID: snap.ID, Device: "/dev/sdz", MountPath: "/ref", ReadOnly: true},
		{Name: "scratch", SnapshotID: snap.ID, Device: "/dev/sdy", MountPath: "/scratch", Keep: true},
	}})
	for _, alias := range []string{"master", "node001"} {
		if got := tc.mustRun(t, alias, "cat /ref/genomes/hg38.txt /scratch/genomes/hg38.txt; ls /ref/genomes"); got != "ACGT\nACGT\nhg38.txt" {
			t.Errorf("%s sees %q", alias, got)
		}
	}
	if out, err := tc.run(t, "master", "sudo touch /ref/genomes/new"); err == nil || !strings.Contains(out, "Read-only") {
		t.Errorf("a write to the read-only copy: %v %q", err, out)
	}
	tc.mustRun(t, "master", "echo mine | sudo tee /scratch/genomes/hg38.txt >/dev/null")
	if got := tc.mustRun(t, "node001", "cat /scratch/genomes/hg38.txt"); got != "ACGT" {
		t.Errorf("a write on master reached node001: %q", got)
	}
	copies, err := p.Volumes(ctx, cloud.VolumeFilter{Cluster: "copies"})
	if err != nil || len(copies) != 4 {
		t.Fatalf("want 4 copies (2 per instance), got %+v %v", copies, err)
	}
	for _, v := range copies {
		if v.SnapshotID != snap.ID || v.State != volumeInUse || v.AttachedTo == "" || v.Tags[cloud.TagVolume] == "" {
			t.Errorf("copy %+v", v)
		}
	}
	if err := p.DeleteSnapshot(ctx, snap.ID); err == nil || !strings.Contains(err.Error(), "use its files") {
		t.Errorf("deleting a snapshot copies use: %v", err)
	}

	// A volume attached to the running master appears under AttachDir, writable, and goes.
	stage, err := p.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: 1, Name: "stage"})
	if err != nil {
		t.Fatal(err)
	}
	master := tc.instance(t, "master")
	if err := p.AttachVolume(ctx, stage.ID, master.ID, "/dev/sdx"); err != nil {
		t.Fatal(err)
	}
	at := AttachDir + "/" + stage.ID
	tc.mustRun(t, "master", "echo staged | sudo tee "+at+"/f >/dev/null")
	if data, err := os.ReadFile(filepath.Join(p.volumeDir(stage.ID), "data", "f")); err != nil || string(data) != "staged\n" {
		t.Errorf("host side of the attached volume: %q %v", data, err)
	}
	if err := p.AttachVolume(ctx, stage.ID, tc.instance(t, "node001").ID, "/dev/sdx"); err == nil {
		t.Error("attached a volume to a second instance")
	}
	if err := p.DetachVolume(ctx, stage.ID); err != nil {
		t.Fatal(err)
	}
	if got := tc.mustRun(t, "master", "mountpoint -q "+at+" && echo mounted || echo gone"); got != "gone" {
		t.Errorf("after detach the master still has %s: %s", at, got)
	}
	if err := p.DeleteVolume(ctx, stage.ID); err != nil {
		t.Fatal(err)
	}

	// Terminating node001 deletes its read-only copy and keeps (detached) its kept one.
	node := tc.instance(t, "node001")
	if err := p.Terminate(ctx, []string{node.ID}); err != nil {
		t.Fatal(err)
	}
	left, err := p.Volumes(ctx, cloud.VolumeFilter{Cluster: "copies"})
	if err != nil {
		t.Fatal(err)
	}
	var kept []cloud.Volume
	for _, v := range left {
		if v.AttachedTo == node.ID {
			t.Errorf("a volume is still attached to the terminated node: %+v", v)
		}
		if v.AttachedTo == "" {
			kept = append(kept, v)
		}
	}
	if len(left) != 3 || len(kept) != 1 || kept[0].Tags[cloud.TagVolume] != "scratch" {
		t.Fatalf("after terminating node001: %+v", left)
	}
	if err := p.DeleteVolume(ctx, kept[0].ID); err != nil {
		t.Fatal(err)
	}
	tc.teardown(t)
	left, err = p.Volumes(ctx, cloud.VolumeFilter{Cluster: "copies"})
	if err != nil || len(left) != 1 || left[0].State != volumeAvailable {
		t.Errorf("after terminate, want only the master's kept copy, available, got %+v %v", left, err)
	}
	mps, _ := mountsUnder(p.StateDir())
	if len(mps) != 0 {
		t.Errorf("mounts left under the state directory: %v", mps)
	}
	if err := p.DeleteSnapshot(ctx, snap.ID); err == nil {
		t.Error("deleted a snapshot the master's kept copy still uses")
	}
	for _, v := range left {
		if err := p.DeleteVolume(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.DeleteSnapshot(ctx, snap.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteSnapshot(ctx, snap.ID); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}
