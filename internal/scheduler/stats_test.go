package scheduler

import (
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	s := Stats{Time: t0,
		Hosts: []Host{{Name: "master", Slots: 2, UsedSlots: 2, Load: 1}, {Name: "node001", Slots: 4, UsedSlots: 1, Load: 0.5},
			{Name: "node002", Slots: 4, Disabled: true}, {Name: "node003", Slots: 8, Unreachable: true}},
		Jobs: []Job{
			{ID: "1", State: Running, Host: "master", Slots: 2},
			{ID: "2", State: Running, Host: "node001", Slots: 1},
			{ID: "3", Task: "1", State: Queued, Slots: 1, Submitted: t0.Add(-5 * time.Minute)},
			{ID: "3", Task: "2", State: Queued, Slots: 1, Submitted: t0.Add(-5 * time.Minute)},
			{ID: "4", State: Queued, Slots: 4, Submitted: t0.Add(-20 * time.Minute)},
		}}
	if got := s.QueuedSlots(); got != 6 {
		t.Errorf("QueuedSlots = %d", got)
	}
	if got := s.TotalSlots(); got != 6 {
		t.Errorf("TotalSlots = %d (disabled and unreachable hosts do not count)", got)
	}
	if got := s.UsedSlots(); got != 3 {
		t.Errorf("UsedSlots = %d", got)
	}
	if got := s.OldestWait(); got != 20*time.Minute {
		t.Errorf("OldestWait = %s", got)
	}
	if q := s.Queued(); len(q) != 3 || q[0].ID != "4" {
		t.Errorf("Queued = %+v", q)
	}
	if !s.Busy("node001") || s.Busy("node002") {
		t.Error("Busy")
	}
	if got := s.AverageLoad(); got < 0.49 || got > 0.51 {
		t.Errorf("AverageLoad = %v (node002 counts, unreachable node003 does not)", got)
	}
	if got := s.FreeSlots(); got != 3 {
		t.Errorf("FreeSlots = %d", got)
	}
	if (Stats{Jobs: []Job{{State: Queued, Submitted: t0}}}).OldestWait() != 0 {
		t.Error("OldestWait without a snapshot time")
	}
	if (Stats{}).OldestWait() != 0 || (Stats{}).AverageLoad() != 0 {
		t.Error("empty stats")
	}
}
