package balancer

import (
	"strings"
	"testing"
	"time"
)

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Settings)
		errs   []string // substrings; none means valid
	}{
		{name: "defaults", modify: func(*Settings) {}},
		{name: "kill-cluster allows min 0", modify: func(s *Settings) { s.KillCluster = true; s.MinNodes = 5; s.MaxNodes = 2 }},
		{name: "min above max", modify: func(s *Settings) { s.MinNodes = 5; s.MaxNodes = 2 },
			errs: []string{"min nodes 5 is more than max nodes 2"}},
		{name: "everything wrong at once", modify: func(s *Settings) {
			s.MaxNodes, s.Interval, s.KillAfter, s.AddNodesPerIter = 0, 0, -time.Second, -1
			s.Policy, s.PlotFormat = "random", "gif"
		}, errs: []string{"max nodes must be at least 1", "interval must be positive", "kill after must not be negative",
			"add nodes per iteration", `unknown policy "random"`, "plot format"}},
		{name: "table policy needs a table and a URL", modify: func(s *Settings) { s.Policy = PolicyTable },
			errs: []string{"needs a load table", "needs a metric URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings(4)
			tc.modify(&s)
			err := s.Validate()
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
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
	d := DefaultSettings(7)
	if d.MaxNodes != 7 || d.MinNodes != 1 || d.JobWaitTime != 300*time.Second || d.KillAfter != 10*time.Minute ||
		d.Interval != time.Minute || d.StabilizationTime != 180*time.Second || d.LookbackWindow != time.Hour ||
		d.AddNodesPerIter != 0 {
		t.Errorf("defaults = %+v", d)
	}
}

func TestDecisionString(t *testing.T) {
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{}, "nothing"},
		{Decision{Action: Add, Add: 3}, "add 3"},
		{Decision{Action: Remove, Remove: []string{"node003", "node002"}}, "remove node003 node002"},
		{Decision{Action: Terminate, Vanished: []string{"node004"}}, "terminate; forget vanished node004"},
	}
	for _, tc := range tests {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
