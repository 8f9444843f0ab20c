package balancer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

const goodTable = `# requests/s  min  max workers
1    1 2

10   2 4   # busy
50.5 4 8
`

func TestParseLoadTable(t *testing.T) {
	got, err := ParseLoadTable(strings.NewReader(goodTable))
	if err != nil {
		t.Fatal(err)
	}
	want := LoadTable{{1, 1, 2}, {10, 2, 4}, {50.5, 4, 8}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	bad := []struct {
		name, text string
		errs       []string
	}{
		{"too few fields", "1 2\n", []string{"line 1: want 3 fields"}},
		{"threshold not a number", "# c\nten 1 2\n", []string{`line 2: threshold "ten" is not a number`}},
		{"min not a number", "1 one 2\n", []string{`line 1: min "one"`}},
		{"negative max", "1 0 -2\n", []string{`line 1: max "-2"`}},
		{"min above max", "1 1 2\n5 4 3\n", []string{"line 2: min 4 is more than max 3"}},
		{"thresholds not increasing", "1 1 2\n\n1 2 3\n0.5 2 3\n", []string{
			"line 3: threshold 1 is not greater than the previous row's 1",
			"line 4: threshold 0.5 is not greater"}},
		{"no rows", "# only a comment\n\n", []string{"no rows"}},
		{"NaN", "NaN 1 2\n", []string{"line 1: threshold"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLoadTable(strings.NewReader(tc.text))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, sub := range tc.errs {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q lacks %q", err, sub)
				}
			}
		})
	}
	path := filepath.Join(t.TempDir(), "table")
	if err := os.WriteFile(path, []byte("1 1 2\n1 1 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLoadTable(path); err == nil || !strings.Contains(err.Error(), path+": line 2") {
		t.Errorf("ReadLoadTable error %v does not name the file and line", err)
	}
}

func TestLoadTableLookup(t *testing.T) {
	table := LoadTable{{1, 1, 2}, {10, 2, 4}, {50, 4, 8}}
	tests := []struct {
		metric float64
		want   Row
		found  bool
	}{
		{0.5, Row{}, false}, // below the first threshold: no workers
		{1, Row{1, 1, 2}, true},
		{9.99, Row{1, 1, 2}, true},
		{10, Row{10, 2, 4}, true},
		{30, Row{10, 2, 4}, true},
		{1000, Row{50, 4, 8}, true}, // above the last: the last row
	}
	for _, tc := range tests {
		got, ok := table.Lookup(tc.metric)
		if got != tc.want || ok != tc.found {
			t.Errorf("Lookup(%g) = %v %v, want %v %v", tc.metric, got, ok, tc.want, tc.found)
		}
	}
}

func TestDecideTable(t *testing.T) {
	table := LoadTable{{1, 1, 2}, {10, 2, 4}, {50, 4, 8}}
	allIdle := func(workers int) History {
		h := History{IdleSince: map[string]time.Time{}}
		for _, n := range cluster(workers) {
			h.IdleSince[n.Alias] = base().Add(-time.Hour)
		}
		return h
	}
	hostsFor := func(workers int) []scheduler.Host {
		m := map[string]int{}
		for _, n := range cluster(workers) {
			m[n.Alias] = 4
		}
		return idleHosts(m)
	}
	busy3 := []scheduler.Job{{ID: "1", State: scheduler.Running, Host: "node003", Slots: 1}}
	tests := []struct {
		name    string
		metric  float64
		workers int
		jobs    []scheduler.Job
		hist    History
		max     int
		want    Decision
		reason  string
	}{
		{name: "within range: no flapping", metric: 12, workers: 3, want: Decision{Action: Nothing},
			reason: "3 workers within 2..4"},
		{name: "at the row's max: nothing", metric: 12, workers: 4, want: Decision{Action: Nothing}},
		{name: "add up to the row's min", metric: 60, workers: 1, want: Decision{Action: Add, Add: 3},
			reason: "1 worker < 4: adding 3"},
		{name: "max nodes still caps", metric: 60, workers: 1, max: 3, want: Decision{Action: Add, Add: 1}},
		{name: "remove idle down to the row's max", metric: 1.5, workers: 4, hist: allIdle(4),
			want: Decision{Action: Remove, Remove: []string{"node004", "node003"}}, reason: "4 workers > 2"},
		{name: "busy workers are kept", metric: 1.5, workers: 3, jobs: busy3, hist: allIdle(3),
			want: Decision{Action: Remove, Remove: []string{"node002"}}},
		{name: "below the first threshold: no workers", metric: 0.2, workers: 2, hist: allIdle(2),
			want: Decision{Action: Remove, Remove: []string{"node002", "node001"}}, reason: "below the first threshold 1"},
		{name: "stabilization holds", metric: 60, workers: 1, hist: History{LastChange: base().Add(-time.Minute)},
			want: Decision{Action: Nothing}, reason: "stabilizing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings(10)
			if tc.max > 0 {
				s.MaxNodes = tc.max
			}
			s.Policy, s.LoadTable, s.MetricURL = PolicyTable, table, "http://metric"
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			got := Decide(Input{Stats: scheduler.Stats{Time: base(), Hosts: hostsFor(tc.workers), Jobs: tc.jobs},
				Nodes: cluster(tc.workers), History: tc.hist, Settings: s, Now: base(), Metric: tc.metric})
			if got.Action != tc.want.Action || got.Add != tc.want.Add || !slices.Equal(got.Remove, tc.want.Remove) {
				t.Errorf("got %s, want %s; reason: %s", got, tc.want, got.Reason)
			}
			if !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", got.Reason, tc.reason)
			}
		})
	}
}
