package local

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// fakeCluster writes the records of a cluster with a master, as Launch would, without booting
// anything: volume bookkeeping needs only the records.
func fakeCluster(t *testing.T, p *Provider, tag string, mounts []cloud.Mount) instanceRecord {
	t.Helper()
	c := clusterRecord{Version: stateVersion, Tag: tag, Subnet: netip.MustParsePrefix("10.213.9.0/24"), Bridge: "ccffffff", Mounts: mounts}
	master := instanceRecord{ID: newID("i-"), Cluster: tag, Alias: "master", Role: cloud.RoleMaster, State: cloud.StateStopped,
		Address: netip.MustParseAddr("10.213.9.10"), LaunchTime: time.Now()}
	if err := os.MkdirAll(p.instanceDir(tag, master.ID), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(p.clusterDir(tag), clusterFile), c); err != nil {
		t.Fatal(err)
	}
	if err := p.saveInstance(master); err != nil {
		t.Fatal(err)
	}
	return master
}

func TestVolumeLifecycle(t *testing.T) {
	ctx := context.Background()
	p, err := New(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []cloud.VolumeSpec{{SizeGB: 0}, {SizeGB: 1, Zone: "us-east-1a"}} {
		if _, err := p.CreateVolume(ctx, bad); err == nil {
			t.Errorf("CreateVolume(%+v) succeeded", bad)
		}
	}
	data, err := p.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: 5, Name: "data", Tags: map[string]string{"project": "segway"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := p.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: 1, Zone: Zone, Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if !volumeIDPattern.MatchString(data.ID) || data.State != volumeAvailable || data.Zone != Zone || data.Encrypted || data.SizeGB != 5 {
		t.Fatalf("new volume = %+v", data)
	}
	if st, err := os.Stat(filepath.Join(p.volumeDir(data.ID), "data")); err != nil || !st.IsDir() {
		t.Fatalf("volume has no data directory: %v", err)
	}

	filters := []struct {
		name string
		f    cloud.VolumeFilter
		want []string
	}{
		{"all, sorted by name", cloud.VolumeFilter{}, []string{data.ID, other.ID}},
		{"by id", cloud.VolumeFilter{IDs: []string{other.ID, "vol-000000000000"}}, []string{other.ID}},
		{"by name", cloud.VolumeFilter{Name: "data"}, []string{data.ID}},
		{"by tag value", cloud.VolumeFilter{Tags: map[string]string{"project": "segway"}}, []string{data.ID}},
		{"by tag key", cloud.VolumeFilter{Tags: map[string]string{"project": ""}}, []string{data.ID}},
		{"by state", cloud.VolumeFilter{State: volumeInUse}, nil},
		{"by zone", cloud.VolumeFilter{Zone: "elsewhere"}, nil},
	}
	for _, c := range filters {
		vols, err := p.Volumes(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vols {
			got = append(got, v.ID)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}

	// A cluster that mounts the volume: its master holds it once it exists.
	master := fakeCluster(t, p, "demo", []cloud.Mount{{Path: "/home"}, {Path: "/data", VolumeID: data.ID}})
	vols, _ := p.Volumes(ctx, cloud.VolumeFilter{IDs: []string{data.ID}})
	if len(vols) != 1 || vols[0].State != volumeInUse || vols[0].AttachedTo != master.ID {
		t.Fatalf("mounted volume = %+v, want in use by %s", vols, master.ID)
	}
	// A volume the cluster does not mount is attached to the (stopped) master alone, to be bound
	// under AttachDir at its next boot; it is in use until detached.
	if err := p.AttachVolume(ctx, other.ID, master.ID, "/dev/sdy"); err != nil {
		t.Fatalf("attaching a volume the cluster does not mount: %v", err)
	}
	if vols, _ := p.Volumes(ctx, cloud.VolumeFilter{IDs: []string{other.ID}}); len(vols) != 1 || vols[0].AttachedTo != master.ID || vols[0].Device != "/dev/sdy" {
		t.Fatalf("volume attached to one instance = %+v", vols)
	}
	if binds, err := p.instanceVolumeBinds(master, clusterRecord{Tag: "demo", Mounts: []cloud.Mount{{Path: "/data", VolumeID: data.ID}}}); err != nil ||
		len(binds) != 1 || binds[0] != "--bind="+filepath.Join(p.volumeDir(other.ID), "data")+":"+AttachDir+"/"+other.ID {
		t.Errorf("boot binds of the master: %q %v", binds, err)
	}
	if err := p.DetachVolume(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.AttachVolume(ctx, data.ID, "i-000000000000", "/dev/sdz"); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("attaching to a missing instance: %v", err)
	}
	if err := p.AttachVolume(ctx, data.ID, master.ID, "/dev/sdz"); err != nil {
		t.Fatal(err)
	}
	vols, _ = p.Volumes(ctx, cloud.VolumeFilter{State: volumeInUse})
	if len(vols) != 1 || vols[0].AttachedTo != master.ID || vols[0].Device != "/dev/sdz" {
		t.Fatalf("attached volume = %+v", vols)
	}
	if err := p.DeleteVolume(ctx, data.ID); err == nil {
		t.Fatal("deleted an attached volume")
	}
	if err := p.DetachVolume(ctx, data.ID); err != nil {
		t.Fatal(err)
	}
	vols, _ = p.Volumes(ctx, cloud.VolumeFilter{IDs: []string{data.ID}})
	if len(vols) != 1 || vols[0].State != volumeAvailable || vols[0].AttachedTo != "" {
		t.Fatalf("detached volume = %+v", vols)
	}
	if err := p.DeleteVolume(ctx, data.ID); err == nil || !strings.Contains(err.Error(), "bound into the instances of cluster demo") {
		t.Fatalf("deleting a volume still bound into a cluster's nodes: %v", err)
	}
	if _, err := p.CreateCluster(ctx, cloud.GroupSpec{Tag: "second", Mounts: []cloud.Mount{{Path: "/data", VolumeID: data.ID}}}); err == nil ||
		!strings.Contains(err.Error(), "already mounted by cluster demo") {
		t.Errorf("a second cluster mounting the same volume: %v", err)
	}
	// Once the cluster's instances are gone the volume can go.
	if err := os.RemoveAll(p.instanceDir("demo", master.ID)); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteVolume(ctx, data.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.volumeDir(data.ID)); !os.IsNotExist(err) {
		t.Errorf("volume directory left: %v", err)
	}
	if err := p.DeleteVolume(ctx, data.ID); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("deleting a deleted volume: %v", err)
	}
}
