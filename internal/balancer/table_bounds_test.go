package balancer

import (
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// TestApplyTableBounds is the GBrowse case from the field: a 1-node template (CLUSTER_SIZE 1,
// so -m defaulted to 1) balanced by the table `0 1 1`, `5 3 3`, `50 4 4` with a metric of 12.5
// never grew. The table's rows are now the bounds unless -m/-n are given, and a bound that caps
// the table is said once, in words.
func TestApplyTableBounds(t *testing.T) {
	table := LoadTable{{0, 1, 1}, {5, 3, 3}, {50, 4, 4}}
	tests := []struct {
		name           string
		maxNodes       int // 0: -m not given
		minNodes       int // 0: -n not given
		metric         float64
		wantMax        int
		wantAdd        int
		wantNotes      []string
		wantNoteAbsent bool
	}{
		{name: "no bounds given: the table's rows are the bounds", metric: 12.5, wantMax: 5, wantAdd: 3, wantNoteAbsent: true},
		{name: "-m above the table: no note", maxNodes: 8, metric: 12.5, wantMax: 8, wantAdd: 3, wantNoteAbsent: true},
		{name: "-m 5 equals the table's top row", maxNodes: 5, metric: 60, wantMax: 5, wantAdd: 4, wantNoteAbsent: true},
		{name: "-m caps the table", maxNodes: 3, metric: 12.5, wantMax: 3, wantAdd: 2,
			wantNotes: []string{"max nodes 3 (-m) allows at most 2 workers", "from threshold >= 5 on (up to 4 workers) are capped at 2 workers", "leave out -m"}},
		{name: "-m 1 caps every row", maxNodes: 1, metric: 12.5, wantMax: 1, wantAdd: 0,
			wantNotes: []string{"max nodes 1 (-m) allows at most 0 workers", "from threshold >= 0 on"}},
		{name: "-n raises the floor", minNodes: 3, metric: 1, wantMax: 5, wantAdd: 2,
			wantNotes: []string{"min nodes 3 (-n) keeps at least 2 workers", "below its first threshold, 0, it asks for none", "leave out -n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings(1) // the template's CLUSTER_SIZE, -m's old default
			s.Policy, s.LoadTable, s.MetricURL = PolicyTable, table, "http://metric"
			if tc.maxNodes > 0 {
				s.MaxNodes = tc.maxNodes
			}
			if tc.minNodes > 0 {
				s.MinNodes = tc.minNodes
			}
			notes := ApplyTableBounds(&s, tc.maxNodes > 0, tc.minNodes > 0)
			if s.MaxNodes != tc.wantMax {
				t.Errorf("max nodes %d, want %d", s.MaxNodes, tc.wantMax)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(notes, "\n")
			if tc.wantNoteAbsent && len(notes) > 0 {
				t.Errorf("unexpected notes: %q", text)
			}
			if len(tc.wantNotes) > 0 && len(notes) != 1 {
				t.Errorf("want one note, got %q", notes)
			}
			for _, want := range tc.wantNotes {
				if !strings.Contains(text, want) {
					t.Errorf("notes %q lack %q", text, want)
				}
			}
			// The master alone, as in the report: the decision must follow the table now.
			d := Decide(Input{Stats: scheduler.Stats{Time: base(), Hosts: idleHosts(map[string]int{"master": 2})},
				Nodes: cluster(0), History: History{IdleSince: map[string]time.Time{}}, Settings: s, Now: base(), Metric: tc.metric})
			if d.Add != tc.wantAdd {
				t.Errorf("metric %g on the master alone: got %s (%s), want to add %d", tc.metric, d, d.Reason, tc.wantAdd)
			}
		})
	}
	queue := DefaultSettings(4)
	if notes := ApplyTableBounds(&queue, false, false); notes != nil || queue.MaxNodes != 4 {
		t.Errorf("the queue policy keeps CLUSTER_SIZE as max nodes: %d %q", queue.MaxNodes, notes)
	}
}
