package cluster

import (
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestVanishedNodes: which nodes count as vanished, and what the warning says to do. Dead
// containers and instances terminated outside clusterctl are; running, pending and stopped
// ones are not; a terminated instance whose alias a live one has taken since was replaced; a
// gone instance whose alias tag is no host name is not named.
func TestVanishedNodes(t *testing.T) {
	master := cloud.Instance{ID: "i-m", Alias: "master", Role: cloud.RoleMaster, State: cloud.StateRunning}
	node := func(alias, state, reason string) cloud.Instance {
		return cloud.Instance{ID: "i-" + alias, Alias: alias, Role: cloud.RoleNode, State: state, StateReason: reason}
	}
	for _, tc := range []struct {
		name    string
		members []cloud.Instance
		gone    []cloud.Instance
		want    []string // alias: why
	}{
		{"healthy", []cloud.Instance{master, node("node001", cloud.StateRunning, ""), node("node002", cloud.StatePending, "")}, nil, nil},
		{"stopped is not vanished", []cloud.Instance{master, node("node001", cloud.StateStopped, "")}, nil, nil},
		{"dead container", []cloud.Instance{master, node("node001", cloud.StateDead, "its container exited without being stopped")}, nil,
			[]string{"node001: its container exited without being stopped"}},
		{"spot interruption in progress", []cloud.Instance{master, node("node002", cloud.StateShuttingDown, "Server.SpotInstanceTermination: Spot instance termination")}, nil,
			[]string{"node002: it was terminated outside clusterctl (Server.SpotInstanceTermination: Spot instance termination)"}},
		{"terminated an hour ago", []cloud.Instance{master}, []cloud.Instance{node("node003", cloud.StateTerminated, "Client.UserInitiatedShutdown: User initiated shutdown")},
			[]string{"node003: it was terminated outside clusterctl (Client.UserInitiatedShutdown: User initiated shutdown)"}},
		{"replaced since", []cloud.Instance{master, node("node003", cloud.StateRunning, "")}, []cloud.Instance{node("node003", cloud.StateTerminated, "")}, nil},
		{"hostile alias", []cloud.Instance{master}, []cloud.Instance{node("x;id", cloud.StateTerminated, "")}, nil},
		{"control characters in a reason", []cloud.Instance{master, node("node001", cloud.StateDead, "gone\x1b[2J\nnow")}, nil,
			[]string{"node001: gone [2J now"}},
	} {
		var got []string
		for _, v := range vanishedNodes(tc.members, tc.gone) {
			got = append(got, v.Alias+": "+v.Why)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}

	msg := vanishedMessage("c", VanishedNode{Alias: "node001", Instance: node("node001", cloud.StateDead, ""), Why: "x"})
	for _, want := range []string{"node001 (i-node001) vanished: x", "`clusterctl repair c`", "requeues its jobs", "--replace"} {
		if !strings.Contains(msg, want) {
			t.Errorf("worker message %q lacks %q", msg, want)
		}
	}
	deadMaster := master
	deadMaster.State = cloud.StateDead
	if msg := vanishedMessage("c", VanishedNode{Alias: "master", Instance: deadMaster, Why: "x"}); !strings.Contains(msg, "`clusterctl start -x c` starts it again") {
		t.Errorf("dead master: %s", msg)
	}
	goneMaster := master
	goneMaster.State = cloud.StateTerminated
	if msg := vanishedMessage("c", VanishedNode{Alias: "master", Instance: goneMaster, Why: "x"}); !strings.Contains(msg, "cannot work without its master") {
		t.Errorf("terminated master: %s", msg)
	}
}

// TestReplacements: vanished nodes come back in as few launches as their settings allow, each
// with its own type, image and spot bid; a node only the master knew of gets the defaults.
func TestReplacements(t *testing.T) {
	spot := func(alias, typ, bid string) VanishedNode {
		return VanishedNode{Alias: alias, Instance: cloud.Instance{Alias: alias, InstanceType: typ, ImageID: "ami-1", SpotPrice: bid}}
	}
	got := replacements([]VanishedNode{spot("node001", "c5.large", "0.05"), spot("node002", "m5.large", ""),
		spot("node003", "c5.large", "0.05"), {Alias: "node009"}})
	if len(got) != 3 {
		t.Fatalf("%d launches: %+v", len(got), got)
	}
	if a := got[0]; strings.Join(a.Aliases, ",") != "node001,node003" || a.Count != 2 || a.Type != "c5.large" || a.Bid == nil || *a.Bid != 0.05 || a.Image != "ami-1" {
		t.Errorf("spot replacements: %+v", a)
	}
	if b := got[1]; strings.Join(b.Aliases, ",") != "node002" || b.Bid != nil || b.Type != "m5.large" {
		t.Errorf("on-demand replacement: %+v", b)
	}
	if c := got[2]; strings.Join(c.Aliases, ",") != "node009" || c.Type != "" || c.Image != "" || c.Bid != nil {
		t.Errorf("a node only the master knew of: %+v", c)
	}
}
