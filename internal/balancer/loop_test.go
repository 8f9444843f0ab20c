package balancer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// loopSettings are the scenario: max 3 nodes, min 1, 5 minute job wait, 10 minutes
// idle before removal, one minute between iterations.
func loopSettings(dir string) Settings {
	s := DefaultSettings(3)
	s.StatsFile = filepath.Join(dir, "stats.csv")
	s.PlotDir = filepath.Join(dir, "plots")
	s.PlotFormat = "svg"
	return s
}

func TestLoopGrowsAndShrinks(t *testing.T) {
	dir := t.TempDir()
	w := newSim(t, 4)
	w.submit(30, 10*time.Minute)
	w.failStats = map[int]bool{3: true}
	var logs bytes.Buffer
	const iterations = 70
	err := Run(context.Background(), Loop{Settings: loopSettings(dir), Stats: w, Nodes: w, Actions: w,
		Clock: w.clock, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Iterations: iterations})
	if err != nil {
		t.Fatal(err)
	}
	// +5m: the oldest job has waited job_wait_time; 26 slots want 7 nodes, max allows 2 more.
	// The new nodes run jobs from +5m; node002 runs out of work at +25m and leaves after
	// kill_after at +35m; node001 runs the last two jobs until +35m and leaves at +45m,
	// back to the master alone.
	want := []string{"+5m add 2", "+35m remove node002", "+45m remove node001"}
	if !slices.Equal(w.actions, want) {
		t.Errorf("actions = %q, want %q", w.actions, want)
	}
	if len(w.finished) != 30 || len(w.jobs) != 0 {
		t.Errorf("%d jobs finished, %d left", len(w.finished), len(w.jobs))
	}

	f, err := os.Open(loopSettings(dir).StatsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != CSVHeader {
		t.Errorf("header = %v", rows[0])
	}
	// One row per iteration, except the one whose stats failed.
	if got := len(rows) - 1; got != iterations-1 {
		t.Errorf("%d rows for %d iterations with one stats failure", got, iterations)
	}
	recs, err := ReadRecords(loopSettings(dir).StatsFile)
	if err != nil {
		t.Fatal(err)
	}
	nodes := []int{}
	for _, r := range recs {
		if len(nodes) == 0 || nodes[len(nodes)-1] != r.Nodes {
			nodes = append(nodes, r.Nodes)
		}
	}
	if !slices.Equal(nodes, []int{1, 3, 2, 1}) {
		t.Errorf("node counts over the run = %v", nodes)
	}
	first, last := recs[0], recs[len(recs)-1]
	if first.QueuedJobs != 26 || first.RunningJobs != 4 || first.TotalSlots != 4 || first.Decision != "nothing" {
		t.Errorf("first row = %+v", first)
	}
	if last.QueuedJobs != 0 || last.RunningJobs != 0 || last.Nodes != 1 || last.AvgDuration != 10*time.Minute {
		t.Errorf("last row = %+v", last)
	}
	for _, name := range PlotNames() {
		info, err := os.Stat(filepath.Join(dir, "plots", name+".svg"))
		if err != nil || info.Size() < 1000 {
			t.Errorf("plot %s: %v", name, err)
		}
	}

	info := strings.Count(logs.String(), "level=INFO")
	warn := strings.Count(logs.String(), "level=WARN")
	if info != iterations-1 || warn != 1 || !strings.Contains(logs.String(), "connection reset") {
		t.Errorf("%d info and %d warn lines:\n%s", info, warn, logs.String())
	}
	if !strings.Contains(logs.String(), "queued 26 jobs (26 slots), oldest waited 5m0s; add 2") {
		t.Errorf("log lacks the growth line:\n%s", logs.String())
	}
}

func TestLoopKillCluster(t *testing.T) {
	w := newSim(t, 4)
	s := loopSettings(t.TempDir())
	s.KillCluster, s.StatsFile, s.PlotDir = true, "", ""
	err := Run(context.Background(), Loop{Settings: s, Stats: w, Nodes: w, Actions: w, Clock: w.clock, Iterations: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Idle from the first look at +0m; terminated once idle for kill_after, and the loop ends.
	if !slices.Equal(w.actions, []string{"+10m terminate"}) || w.calls != 11 {
		t.Errorf("actions %q after %d iterations", w.actions, w.calls)
	}
}

func TestLoopStopsOnCancel(t *testing.T) {
	w := newSim(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.cancel, w.cancelAt = cancel, 4
	s := loopSettings(t.TempDir())
	s.PlotDir = ""
	if err := Run(ctx, Loop{Settings: s, Stats: w, Nodes: w, Actions: w, Clock: w.clock}); err != nil {
		t.Fatalf("cancel is a clean stop, got %v", err)
	}
	if w.calls != 4 {
		t.Errorf("%d stats calls, want 4", w.calls)
	}
	recs, err := ReadRecords(s.StatsFile)
	if err != nil || len(recs) != 3 {
		t.Errorf("%d records, %v", len(recs), err)
	}
}

func TestLoopRejectsBadSettings(t *testing.T) {
	w := newSim(t, 4)
	s := DefaultSettings(0)
	if err := Run(context.Background(), Loop{Settings: s, Stats: w, Nodes: w, Actions: w, Clock: w.clock}); err == nil {
		t.Error("max nodes 0 accepted")
	}
	if err := Run(context.Background(), Loop{Settings: DefaultSettings(2)}); err == nil {
		t.Error("a loop without its parts accepted")
	}
	if w.calls != 0 {
		t.Error("a rejected loop ran")
	}
}

// metricScript is a MetricSource replaying values; NaN stands for a failed fetch.
type metricScript struct {
	values []float64
	i      int
}

func (m *metricScript) Metric(context.Context) (float64, error) {
	v := m.values[min(m.i, len(m.values)-1)]
	m.i++
	if math.IsNaN(v) {
		return 0, errors.New("metric: connection refused")
	}
	return v, nil
}

func TestLoopTablePolicy(t *testing.T) {
	w := newSim(t, 4)
	s := loopSettings(t.TempDir())
	s.StatsFile, s.PlotDir = "", ""
	s.MaxNodes, s.KillAfter = 5, 0
	s.Policy, s.MetricURL = PolicyTable, "http://unused"
	s.LoadTable = LoadTable{{1, 1, 2}, {10, 3, 4}}
	// +0m below the table: no workers, nothing to remove; +1m busy: 3 workers; +2m the fetch
	// fails (logged, skipped); +3m stabilizing; +4m metric 12 keeps 3 inside 3..4 (no
	// flapping); +5m quiet: down to 2 workers, the newest leaves.
	metric := &metricScript{values: []float64{0.5, 20, math.NaN(), 20, 12, 5}}
	var logs bytes.Buffer
	err := Run(context.Background(), Loop{Settings: s, Stats: w, Nodes: w, Actions: w, Metric: metric,
		Clock: w.clock, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Iterations: 6})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"+1m add 3", "+5m remove node003"}
	if !slices.Equal(w.actions, want) {
		t.Errorf("actions = %q, want %q\n%s", w.actions, want, logs.String())
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the failed fetch was not logged:\n%s", logs.String())
	}
}
