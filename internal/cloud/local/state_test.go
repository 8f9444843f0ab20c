package local

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestRecordsRoundTrip(t *testing.T) {
	p, err := New(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := clusterRecord{Version: stateVersion, Tag: "demo", CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Subnet: netip.MustParsePrefix("10.213.3.0/24"), Bridge: "cc0a1b2c",
		Mounts: []cloud.Mount{{Path: "/home"}, {Path: "/data", VolumeID: "vol-0123456789ab"}}, Recorded: []byte(`{"a":1}`)}
	if err := os.MkdirAll(p.instancesDir("demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(p.clusterDir("demo"), clusterFile), c); err != nil {
		t.Fatal(err)
	}
	gotC, err := p.readCluster("demo")
	if err != nil || !reflect.DeepEqual(gotC, c) {
		t.Fatalf("cluster round trip: got %+v, %v; want %+v", gotC, err, c)
	}
	in := instanceRecord{Version: stateVersion, ID: "i-0123456789ab", Cluster: "demo", Alias: "node001", Role: cloud.RoleNode,
		State: cloud.StateRunning, Address: netip.MustParseAddr("10.213.3.11"), Lifecycle: cloud.Spot, SpotPrice: "0.05",
		LaunchTime: c.CreatedAt, InstanceType: "m5.large", ImageID: "debian-12", HostKey: "ssh-ed25519 AAAA", PID: 4242}
	if err := os.MkdirAll(p.instanceDir("demo", in.ID), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.saveInstance(in); err != nil {
		t.Fatal(err)
	}
	got, err := p.findInstance(in.ID)
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("instance round trip: got %+v, %v; want %+v", got, err, in)
	}
	// A directory without a record (an interrupted launch) is not an instance.
	if err := os.MkdirAll(p.instanceDir("demo", "i-ffffffffffff"), 0o755); err != nil {
		t.Fatal(err)
	}
	if recs, err := p.readInstances("demo"); err != nil || len(recs) != 1 {
		t.Fatalf("readInstances = %d records, %v; want 1", len(recs), err)
	}
	for _, id := range []string{"i-ffffffffffff", "i-000000000000", "../x", ""} {
		if _, err := p.findInstance(id); !errors.Is(err, cloud.ErrNotFound) {
			t.Errorf("findInstance(%q) = %v, want ErrNotFound", id, err)
		}
	}
	for _, tag := range []string{"other", "../demo", ""} {
		if _, err := p.readCluster(tag); !errors.Is(err, cloud.ErrNotFound) {
			t.Errorf("readCluster(%q) = %v, want ErrNotFound", tag, err)
		}
	}
}

func TestObservedState(t *testing.T) {
	now := time.Now()
	cases := []struct {
		recorded       string
		alive, mounted bool
		launched       time.Duration // ago
		want           string
	}{
		{recorded: cloud.StateRunning, alive: true, mounted: true, want: cloud.StateRunning},
		{recorded: cloud.StateRunning, alive: false, mounted: true, want: cloud.StateDead},
		{recorded: cloud.StateRunning, alive: false, mounted: false, want: cloud.StateDead},
		{recorded: cloud.StatePending, launched: time.Second, want: cloud.StatePending},
		{recorded: cloud.StatePending, launched: time.Hour, want: cloud.StateDead},
		{recorded: cloud.StatePending, alive: true, launched: time.Hour, want: cloud.StatePending},
		{recorded: cloud.StateStopping, alive: true, mounted: true, want: cloud.StateStopping},
		{recorded: cloud.StateStopping, mounted: true, want: cloud.StateStopping},
		{recorded: cloud.StateStopping, want: cloud.StateStopped},
		{recorded: cloud.StateStopped, want: cloud.StateStopped},
		{recorded: cloud.StateStopped, mounted: true, want: cloud.StateStopping},
	}
	for _, c := range cases {
		r := instanceRecord{State: c.recorded, LaunchTime: now.Add(-c.launched)}
		if got := observedState(r, c.alive, c.mounted, now); got != c.want {
			t.Errorf("recorded %s alive=%v mounted=%v launched %s ago: got %s, want %s",
				c.recorded, c.alive, c.mounted, c.launched, got, c.want)
		}
	}
}

func TestToInstance(t *testing.T) {
	r := instanceRecord{ID: "i-00000000abcd", Cluster: "demo", Alias: "master", Role: cloud.RoleMaster,
		Address: netip.MustParseAddr("10.213.0.10"), Lifecycle: cloud.Spot, HostKey: "ssh-ed25519 AAAA", ImageID: "debian-12"}
	in := toInstance(r, clusterRecord{Subnet: netip.MustParsePrefix("10.213.0.0/24"), Bridge: "cc000000"}, cloud.StateRunning)
	want := map[string]string{cloud.TagCluster: "demo", cloud.TagAlias: "master", cloud.TagRole: "master",
		cloud.TagName: "demo-master", cloud.TagHostKey: "ssh-ed25519 AAAA"}
	if !reflect.DeepEqual(in.Tags, want) {
		t.Errorf("tags = %v, want %v", in.Tags, want)
	}
	if in.PrivateIP != "10.213.0.10" || in.PublicIP != "" || in.Addr() != "10.213.0.10" {
		t.Errorf("addresses: private %q public %q", in.PrivateIP, in.PublicIP)
	}
	if in.Zone != Zone || in.HostKey != r.HostKey || in.SpotRequestID == "" || in.SubnetID != "10.213.0.0/24" {
		t.Errorf("instance = %+v", in)
	}
	r.Lifecycle = cloud.OnDemand
	if in := toInstance(r, clusterRecord{}, cloud.StateRunning); in.SpotRequestID != "" {
		t.Errorf("on-demand instance has a spot request %q", in.SpotRequestID)
	}
}

func TestSortInstances(t *testing.T) {
	in := []cloud.Instance{{Alias: "node010"}, {Alias: ""}, {Alias: "node002"}, {Alias: "node1000"}, {Alias: "master"}, {Alias: "node999"}}
	cloud.SortInstances(in)
	var got []string
	for _, i := range in {
		got = append(got, i.Alias)
	}
	want := []string{"master", "node002", "node010", "node999", "node1000", ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}
