package balancer

import (
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/scheduler"
)

func TestHistoryObserve(t *testing.T) {
	earlier := base().Add(-time.Hour)
	prev := History{LastChange: earlier, IdleSince: map[string]time.Time{
		"node001": earlier, "node002": earlier, "node004": earlier}}
	st := scheduler.Stats{
		Hosts: []scheduler.Host{{Name: "master", Slots: 4}, {Name: "node001", Slots: 4},
			{Name: "node002", Slots: 4}, {Name: "node003", Slots: 4, UsedSlots: 1}},
		Jobs: []scheduler.Job{{ID: "1", State: scheduler.Running, Host: "node002", Slots: 1}},
	}
	nodes := append(cluster(3), Node{Alias: "node004", Gone: true})
	got := prev.Observe(st, nodes, base())
	tests := []struct {
		alias string
		idle  bool
		since time.Time
	}{
		{"master", true, base()},        // newly idle: now
		{"node001", true, earlier},      // still idle: keeps its start
		{"node002", false, time.Time{}}, // runs a job
		{"node003", false, time.Time{}}, // holds a slot
		{"node004", false, time.Time{}}, // gone: forgotten
	}
	for _, tc := range tests {
		since, ok := got.IdleSince[tc.alias]
		if ok != tc.idle || !since.Equal(tc.since) {
			t.Errorf("%s: idle %v since %v, want %v since %v", tc.alias, ok, since, tc.idle, tc.since)
		}
	}
	if !got.LastChange.Equal(earlier) {
		t.Errorf("LastChange = %v", got.LastChange)
	}
	if _, ok := prev.IdleSince["master"]; ok {
		t.Error("Observe modified its receiver")
	}
	changed := got.Changed(base(), []string{"node001"})
	if _, ok := changed.IdleSince["node001"]; ok || !changed.LastChange.Equal(base()) {
		t.Errorf("Changed = %+v", changed)
	}
	if _, ok := got.IdleSince["node001"]; !ok {
		t.Error("Changed modified its receiver")
	}
}

func TestNodesFromInstances(t *testing.T) {
	insts := []cloud.Instance{
		{Alias: "master", Role: cloud.RoleMaster, State: cloud.StateRunning},
		{Alias: "node001", Role: cloud.RoleNode, State: cloud.StatePending},
		{Alias: "node002", Role: cloud.RoleNode, State: cloud.StateDead},
		{Alias: "node003", Role: cloud.RoleNode, State: cloud.StateShuttingDown},
	}
	want := []Node{{Alias: "master", Master: true}, {Alias: "node001"},
		{Alias: "node002", Gone: true}, {Alias: "node003", Gone: true}}
	got := NodesFromInstances(insts)
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("node %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestNewestFirst(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"node002", "node010", "node001"}, []string{"node010", "node002", "node001"}},
		{[]string{"tag-node999", "tag-node1000"}, []string{"tag-node1000", "tag-node999"}},
		{[]string{"gpu", "node001", "cpu"}, []string{"node001", "gpu", "cpu"}},
	}
	for _, tc := range tests {
		got := append([]string(nil), tc.in...)
		newestFirst(got)
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("newestFirst(%v) = %v, want %v", tc.in, got, tc.want)
				break
			}
		}
	}
}
