package scale

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/sim"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// Tag is the tag of every simulated cluster the figures start.
const Tag = "scale"

// SetupFigure is one start with full setup of a simulated cluster.
type SetupFigure struct {
	Nodes     int
	ViaMaster bool
	Wall      time.Duration
	Net       sim.Counters
	Calls     map[string]int
	// MasterCommands are the commands the master ran; NodeSessions the most sessions (each a
	// round trip or more) any other node had.
	MasterCommands int64
	NodeSessions   int64
	// Steps are the status lines' steps with their times, in order: where the time went.
	Steps []StepTime
	// MemoryPerConn is the heap one SSH connection took (client and simulated server), from
	// holding a connection to every node at once after setup.
	MemoryPerConn float64
}

// StepTime is one step of an operation and how long it took.
type StepTime struct {
	Name string
	Time time.Duration
}

// stepRE reads a finished step's status line: "✓ name (37/64 nodes, 1.2s)" or "✓ name (0.1s)".
var stepRE = regexp.MustCompile(`^✓ (.*) \((?:[^,]*, )?([0-9.]+)s\)$`)

// StepLog collects the steps of the status lines written to it (give it to ui.NewStreams as
// the error stream), for "where the time goes".
type StepLog struct {
	mu    sync.Mutex
	buf   strings.Builder
	steps []StepTime
}

func (l *StepLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	sc := bufio.NewScanner(strings.NewReader(l.buf.String()))
	l.steps = l.steps[:0]
	for sc.Scan() {
		if m := stepRE.FindStringSubmatch(sc.Text()); m != nil {
			var secs float64
			fmt.Sscan(m[2], &secs)
			l.steps = append(l.steps, StepTime{m[1], time.Duration(secs * float64(time.Second))})
		}
	}
	return len(p), nil
}

// Take returns the steps finished since the last Take.
func (l *StepLog) Take() []StepTime {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]StepTime(nil), l.steps...)
	l.buf.Reset()
	l.steps = nil
	return out
}

// Setup starts a simulated cluster of n nodes with full setup and measures it; the cluster is
// left running in the returned Sim for the figures that follow.
func Setup(ctx context.Context, dir string, o SimOptions, n int) (SetupFigure, *Sim, error) {
	steps := &StepLog{}
	o.Status = steps
	s, err := NewSim(dir, o)
	if err != nil {
		return SetupFigure{}, nil, err
	}
	f := SetupFigure{Nodes: n, ViaMaster: !o.PublicNodes}
	start := time.Now()
	if err := s.Start(ctx, Tag, n); err != nil {
		return f, s, err
	}
	f.Wall = time.Since(start)
	f.Net, f.Calls, f.Steps = s.Network.Stats(), s.Provider.Calls(), steps.Take()
	for alias, c := range hostCounters(s) {
		if alias == "master" {
			f.MasterCommands = c.Commands
		} else {
			f.NodeSessions = max(f.NodeSessions, c.Sessions)
		}
	}
	return f, s, nil
}

func hostCounters(s *Sim) map[string]sim.HostCounters {
	out := map[string]sim.HostCounters{}
	for alias, h := range s.Provider.Hosts(Tag) {
		out[alias] = h.Counters()
	}
	return out
}

// ChangeFigure is addnode or removenode of one node on a cluster of Nodes nodes.
type ChangeFigure struct {
	Nodes int
	Wall  time.Duration
	// MasterCommands are the commands the master ran, PerExisting the most sessions any
	// other node that was there before and after had.
	MasterCommands, PerExisting int64
	Calls                       map[string]int
	Net                         sim.Counters
}

// AddRemove adds one node to the cluster of s, then removes it, and measures both.
func AddRemove(ctx context.Context, s *Sim, nodes int) (add, remove ChangeFigure, err error) {
	measure := func(op func() error) (ChangeFigure, error) {
		before, calls, net := hostCounters(s), s.Provider.Calls(), s.Network.Stats()
		s.Network.ResetPeaks()
		start := time.Now()
		if err := op(); err != nil {
			return ChangeFigure{}, err
		}
		f := ChangeFigure{Nodes: nodes, Wall: time.Since(start), Calls: diffCalls(s.Provider.Calls(), calls),
			Net: s.Network.Stats().Sub(net)}
		after := hostCounters(s)
		for alias, c := range after {
			b, existed := before[alias]
			switch {
			case alias == "master":
				f.MasterCommands = c.Commands - b.Commands
			case existed:
				f.PerExisting = max(f.PerExisting, c.Sessions-b.Sessions)
			}
		}
		return f, nil
	}
	if add, err = measure(func() error { return s.AddNodes(ctx, Tag, 1) }); err != nil {
		return add, remove, fmt.Errorf("addnode: %w", err)
	}
	if remove, err = measure(func() error { return s.RemoveNodes(ctx, Tag, 1) }); err != nil {
		return add, remove, fmt.Errorf("removenode: %w", err)
	}
	return add, remove, nil
}

func diffCalls(now, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// ConnectionMemory holds a connection to every node of the cluster of s at once and returns the
// heap each took (the client's and the simulated server's share together), and how many were
// held.
func ConnectionMemory(ctx context.Context, s *Sim) (float64, int, error) {
	acc, err := s.Engine.Access(ctx, Tag, nil)
	if err != nil {
		return 0, 0, err
	}
	var targets []remote.Target
	for _, in := range acc.Instances {
		if in.State != cloud.StateRunning {
			continue
		}
		t, err := acc.Target(in, "")
		if err != nil {
			return 0, 0, err
		}
		targets = append(targets, t)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heap()
	pool := remote.NewPool(acc.Options())
	defer pool.Close()
	err = remote.FanOut(ctx, targets, func(t remote.Target) string { return t.Name }, remote.FanOutOpts{},
		func(ctx context.Context, t remote.Target) error {
			_, err := pool.Get(ctx, t)
			return err
		})
	if err != nil {
		return 0, 0, err
	}
	after := heap()
	return float64(after-before) / float64(len(targets)), len(targets), nil
}

// calls formats API call counts, most frequent first.
func calls(c map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range c {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].k < all[j].k
	})
	var parts []string
	for _, e := range all {
		parts = append(parts, fmt.Sprintf("%s %d", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

// writeSteps prints the steps of two runs side by side.
func writeSteps(w io.Writer, a, b SetupFigure) {
	bt := map[string]time.Duration{}
	for _, s := range b.Steps {
		bt[normStep(s.Name)] = s.Time
	}
	for _, s := range a.Steps {
		fmt.Fprintf(w, "  %-52s %8.2fs %8.2fs\n", normStep(s.Name), s.Time.Seconds(), bt[normStep(s.Name)].Seconds())
	}
}

// normStep drops the counts from a step's name ("launch 999 nodes" and "launch 9 nodes" are
// one step).
func normStep(name string) string {
	return regexp.MustCompile(`[0-9]+ `).ReplaceAllString(name, "N ")
}
