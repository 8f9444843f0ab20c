package balancer

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

func TestDecideQueue(t *testing.T) {
	full4 := func(names ...string) ([]scheduler.Host, []scheduler.Job) {
		m := map[string]int{}
		for _, n := range names {
			m[n] = 4
		}
		return fullHosts(m)
	}
	busyMasterNode, running2 := full4("master", "node001")
	busyMaster, running1 := full4("master")
	hetero, runningHetero := fullHosts(map[string]int{"master": 2, "node001": 2, "node002": 4, "node003": 8})
	idle4 := idleHosts(map[string]int{"master": 4, "node001": 4, "node002": 4, "node003": 4})
	bigMem := func(n int) []scheduler.Job {
		jobs := queuedJobs("big", n, time.Hour)
		for i := range jobs {
			jobs[i].Memory = 32 << 30 // per slot, hosts have 16 GiB
		}
		return jobs
	}
	wide := queuedJobs("wide", 1, time.Hour)
	wide[0].Slots = 16
	masterRuns := []scheduler.Job{{ID: "m", State: scheduler.Running, Slots: 1, Host: "master"}}

	tests := []struct {
		name     string
		settings func(*Settings)
		hosts    []scheduler.Host
		jobs     []scheduler.Job
		nodes    []Node
		hist     History
		want     Decision // Action, Add, Remove, Vanished compared
		reason   []string // substrings of the reason
	}{
		{name: "grow when jobs waited long enough", hosts: busyMasterNode, nodes: cluster(1),
			jobs: concat(running2, queuedJobs("q", 8, 6*time.Minute)),
			want: Decision{Action: Add, Add: 2}, reason: []string{"8 queued slots", "need 2 nodes"}},
		{name: "no growth before job wait time", hosts: busyMasterNode, nodes: cluster(1),
			jobs: concat(running2, queuedJobs("q", 8, 4*time.Minute)),
			want: Decision{Action: Nothing}, reason: []string{"< job wait time 5m0s"}},
		{name: "queued jobs that fit in free slots do not grow", hosts: idle4, nodes: cluster(3),
			jobs: queuedJobs("q", 8, time.Hour), want: Decision{Action: Nothing}, reason: []string{"fit in 16 free slots"}},
		{name: "heterogeneous slots use the workers' median", hosts: hetero, nodes: cluster(3),
			settings: func(s *Settings) { s.MaxNodes = 20 },
			jobs:     concat(runningHetero, queuedJobs("q", 20, time.Hour)),
			want:     Decision{Action: Add, Add: 5}, reason: []string{"20 slots at 4 per node need 5 nodes"}},
		{name: "NodeSlots overrides the estimate", hosts: hetero, nodes: cluster(3),
			settings: func(s *Settings) { s.MaxNodes = 20; s.NodeSlots = 10 },
			jobs:     concat(runningHetero, queuedJobs("q", 20, time.Hour)),
			want:     Decision{Action: Add, Add: 2}},
		{name: "never above max nodes", hosts: busyMasterNode, nodes: cluster(1),
			settings: func(s *Settings) { s.MaxNodes = 3 },
			jobs:     concat(running2, queuedJobs("q", 40, time.Hour)),
			want:     Decision{Action: Add, Add: 1}, reason: []string{"capped at 1 by max nodes 3"}},
		{name: "at max nodes nothing is added", hosts: busyMasterNode, nodes: cluster(1),
			settings: func(s *Settings) { s.MaxNodes = 2 },
			jobs:     concat(running2, queuedJobs("q", 40, time.Hour)),
			want:     Decision{Action: Nothing}, reason: []string{"at max nodes 2"}},
		{name: "add capped by add_nodes_per_iter", hosts: busyMasterNode, nodes: cluster(1),
			settings: func(s *Settings) { s.AddNodesPerIter = 1 },
			jobs:     concat(running2, queuedJobs("q", 40, time.Hour)),
			want:     Decision{Action: Add, Add: 1}, reason: []string{"capped at 1 per iteration"}},
		{name: "below min nodes adds at once despite stabilization", hosts: idleHosts(map[string]int{"master": 4}),
			nodes: cluster(0), settings: func(s *Settings) { s.MinNodes = 3 },
			hist: History{LastChange: base().Add(-time.Minute)},
			want: Decision{Action: Add, Add: 2}, reason: []string{"1 node < min nodes 3"}},
		{name: "array job tasks count one slot each", hosts: busyMaster, nodes: cluster(0),
			jobs: concat(running1, arrayJob("77", 20, time.Hour)),
			want: Decision{Action: Add, Add: 5}, reason: []string{"20 queued slots (20 jobs)", "need 5 nodes"}},
		{name: "jobs needing more memory than any host do not grow", hosts: busyMaster, nodes: cluster(0),
			jobs: concat(running1, bigMem(2)), want: Decision{Action: Nothing},
			reason: []string{"2 jobs can never run: they ask more memory than any host has"}},
		{name: "impossible jobs are left out of the count", hosts: busyMaster, nodes: cluster(0),
			jobs:   concat(running1, bigMem(3), queuedJobs("q", 4, time.Hour)),
			want:   Decision{Action: Add, Add: 1},
			reason: []string{"4 queued slots (4 jobs)", "3 jobs can never run: they ask more memory"}},
		{name: "jobs wider than any host do not grow", hosts: busyMaster, nodes: cluster(0),
			jobs: concat(running1, wide), want: Decision{Action: Nothing},
			reason: []string{"1 job can never run: it asks more slots than any host has"}},
		{name: "stabilization window blocks growth", hosts: busyMasterNode, nodes: cluster(1),
			jobs: concat(running2, queuedJobs("q", 8, time.Hour)),
			hist: History{LastChange: base().Add(-time.Minute)},
			want: Decision{Action: Nothing}, reason: []string{"stabilizing: last change 1m0s ago < 3m0s"}},
		{name: "stabilization window blocks removal", hosts: idle4, nodes: cluster(3),
			hist: History{LastChange: base().Add(-time.Minute),
				IdleSince: idleSince(map[string]time.Duration{"node001": time.Hour, "node002": time.Hour, "node003": time.Hour})},
			want: Decision{Action: Nothing}, reason: []string{"stabilizing"}},
		{name: "remove idle nodes past kill_after, newest first", hosts: idle4, nodes: cluster(3),
			hist: History{IdleSince: idleSince(map[string]time.Duration{"master": time.Hour,
				"node001": 20 * time.Minute, "node002": 10 * time.Minute, "node003": 5 * time.Minute})},
			want: Decision{Action: Remove, Remove: []string{"node002", "node001"}}},
		{name: "removal stops at min nodes", hosts: idle4, nodes: cluster(3),
			settings: func(s *Settings) { s.MinNodes = 3 },
			hist: History{IdleSince: idleSince(map[string]time.Duration{"master": time.Hour,
				"node001": time.Hour, "node002": time.Hour, "node003": time.Hour})},
			want: Decision{Action: Remove, Remove: []string{"node003"}}},
		{name: "the master is never removed", hosts: idleHosts(map[string]int{"master": 4}), nodes: cluster(0),
			settings: func(s *Settings) { s.MinNodes = 0 },
			hist:     History{IdleSince: idleSince(map[string]time.Duration{"master": 10 * time.Hour})},
			want:     Decision{Action: Nothing}, reason: []string{"no node idle"}},
		{name: "a busy node is kept whatever history says", hosts: idle4, nodes: cluster(3),
			jobs: []scheduler.Job{{ID: "1", State: scheduler.Running, Host: "node003", Slots: 1}},
			hist: History{IdleSince: idleSince(map[string]time.Duration{"node003": time.Hour})},
			want: Decision{Action: Nothing}},
		{name: "waiting runnable jobs block removal", hosts: busyMasterNode, nodes: cluster(2),
			jobs: concat(running2, queuedJobs("q", 2, time.Minute)),
			hist: History{IdleSince: idleSince(map[string]time.Duration{"node002": time.Hour})},
			want: Decision{Action: Nothing}, reason: []string{"oldest waited 1m0s"}},
		{name: "vanished nodes are reported and replaced", nodes: append(cluster(2), Node{Alias: "node003"}),
			hosts: append(busyMasterNode,
				scheduler.Host{Name: "node002", Slots: 4, Unreachable: true},
				scheduler.Host{Name: "node003", Slots: 4, Unreachable: true},
				scheduler.Host{Name: "node004", Slots: 4}),
			settings: func(s *Settings) { s.MaxNodes = 4 },
			jobs:     concat(running2, queuedJobs("q", 8, time.Hour)),
			want:     Decision{Action: Add, Add: 2, Vanished: []string{"node002", "node003", "node004"}},
			reason:   []string{"3 hosts vanished"}},
		{name: "a gone instance is reported", nodes: append(cluster(1), Node{Alias: "node002", Gone: true}),
			hosts: busyMasterNode, jobs: running2,
			want: Decision{Action: Nothing, Vanished: []string{"node002"}}},
		{name: "kill-cluster terminates an idle master-only cluster", hosts: idleHosts(map[string]int{"master": 4}),
			nodes: cluster(0), settings: func(s *Settings) { s.KillCluster = true },
			hist: History{IdleSince: idleSince(map[string]time.Duration{"master": 15 * time.Minute})},
			want: Decision{Action: Terminate}, reason: []string{"only the master is left"}},
		{name: "kill-cluster waits for the master's kill_after", hosts: idleHosts(map[string]int{"master": 4}),
			nodes: cluster(0), settings: func(s *Settings) { s.KillCluster = true },
			hist: History{IdleSince: idleSince(map[string]time.Duration{"master": 5 * time.Minute})},
			want: Decision{Action: Nothing}, reason: []string{"master idle 5m0s < kill after"}},
		{name: "kill-cluster keeps a master that runs a job", hosts: idleHosts(map[string]int{"master": 4}),
			nodes: cluster(0), settings: func(s *Settings) { s.KillCluster = true }, jobs: masterRuns,
			hist: History{IdleSince: idleSince(map[string]time.Duration{"master": time.Hour})},
			want: Decision{Action: Nothing}, reason: []string{"1 job still running"}},
		{name: "kill-cluster keeps a cluster with queued jobs", hosts: idleHosts(map[string]int{"master": 4}),
			nodes: cluster(0), settings: func(s *Settings) { s.KillCluster = true }, jobs: wide,
			hist: History{IdleSince: idleSince(map[string]time.Duration{"master": time.Hour})},
			want: Decision{Action: Nothing}, reason: []string{"not terminating with 1 job queued"}},
		{name: "kill-cluster removes idle workers first, down to the master", hosts: idle4, nodes: cluster(3),
			settings: func(s *Settings) { s.KillCluster = true },
			hist: History{IdleSince: idleSince(map[string]time.Duration{"master": time.Hour,
				"node001": time.Hour, "node002": time.Hour, "node003": time.Hour})},
			want: Decision{Action: Remove, Remove: []string{"node003", "node002", "node001"}}},
		{name: "no master, no decision", hosts: idle4, nodes: cluster(3)[1:],
			want: Decision{Action: Nothing}, reason: []string{"master is not running"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings(10)
			if tc.settings != nil {
				tc.settings(&s)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			in := Input{Stats: scheduler.Stats{Time: base(), Hosts: tc.hosts, Jobs: tc.jobs},
				Nodes: tc.nodes, History: tc.hist, Settings: s, Now: base()}
			got := Decide(in)
			if got.Action != tc.want.Action || got.Add != tc.want.Add ||
				!slices.Equal(got.Remove, tc.want.Remove) || !slices.Equal(got.Vanished, tc.want.Vanished) {
				t.Errorf("got %s (vanished %v), want %s (vanished %v); reason: %s",
					got, got.Vanished, tc.want, tc.want.Vanished, got.Reason)
			}
			for _, sub := range tc.reason {
				if !strings.Contains(got.Reason, sub) {
					t.Errorf("reason %q lacks %q", got.Reason, sub)
				}
			}
			if got.Reason == "" {
				t.Error("empty reason")
			}
			if n := got.Nodes + got.Add; got.Action == Add && (n > s.MaxNodes) {
				t.Errorf("%d nodes after adding, above max %d", n, s.MaxNodes)
			}
			if got.Action == Remove && got.Nodes-len(got.Remove) < s.minNodes() {
				t.Errorf("%d nodes after removing, below min %d", got.Nodes-len(got.Remove), s.minNodes())
			}
			if slices.Contains(got.Remove, "master") {
				t.Error("the master was chosen for removal")
			}
		})
	}
}
