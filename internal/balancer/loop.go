package balancer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// Loop is what Run needs: the settings and the parts that touch the world, each an interface
// so the loop runs against fakes in tests and against the engine in `clusterctl loadbalance`.
type Loop struct {
	Settings Settings
	Stats    StatsSource
	Nodes    NodeLister
	Actions  Actuator
	// Metric feeds the table policy; nil means HTTPMetric on Settings.MetricURL.
	Metric MetricSource
	// Clock is the loop's time; nil means the wall clock.
	Clock Clock
	// Logger gets one Info line per iteration and a Warn line per failure; nil discards.
	Logger *slog.Logger
	// Iterations stops the loop after that many iterations when > 0 (a one-shot check);
	// 0 runs until ctx ends or the cluster is terminated.
	Iterations int
}

// Run balances the cluster every Settings.Interval until ctx is cancelled (a clean stop,
// nil), the cluster is terminated (-K), or Iterations are done. Failures to read the
// scheduler, list nodes, fetch the metric or act are logged and retried next iteration: a
// balancer that dies on one SSH hiccup leaves the cluster at whatever size it had.
func Run(ctx context.Context, l Loop) error {
	if err := l.Settings.Validate(); err != nil {
		return err
	}
	if l.Stats == nil || l.Nodes == nil || l.Actions == nil {
		return errors.New("balancer: the loop needs a stats source, a node lister and an actuator")
	}
	if l.Clock == nil {
		l.Clock = realClock{}
	}
	if l.Logger == nil {
		l.Logger = slog.New(slog.DiscardHandler)
	}
	if l.Metric == nil && l.Settings.Policy == PolicyTable {
		timeout := l.Settings.MetricTimeout
		if timeout <= 0 {
			timeout = DefaultMetricTimeout
		}
		l.Metric = HTTPMetric{URL: l.Settings.MetricURL, Client: &http.Client{Timeout: timeout}}
	}
	if l.Settings.StatsFile == "" && l.Settings.PlotDir != "" {
		l.Settings.StatsFile = filepath.Join(l.Settings.PlotDir, "stats.csv")
	}
	var hist History
	failures := 0
	for i := 1; ; i++ {
		done, err := l.iterate(ctx, &hist)
		switch {
		case ctx.Err() != nil || done:
			return nil
		case err != nil:
			failures++
			l.Logger.Warn(fmt.Sprintf("balancer: %v (%d in a row; retrying in %s)", err, failures, l.Settings.Interval))
		default:
			failures = 0
		}
		if l.Iterations > 0 && i >= l.Iterations {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.Clock.After(l.Settings.Interval):
		}
	}
}

// iterate is one look, decision and action. It returns done when the cluster was terminated,
// and an error when there was nothing to decide from (stats, nodes or metric unavailable).
func (l *Loop) iterate(ctx context.Context, hist *History) (bool, error) {
	// Nodes an earlier add launched but left unfinished become hosts (or are removed) before
	// the look, so the scheduler's view and the node count agree.
	did, err := l.Actions.FinishNodes(ctx)
	if did != "" {
		l.Logger.Info("balancer: " + did)
	}
	if err != nil {
		l.Logger.Warn(fmt.Sprintf("balancer: finish the setup of nodes added earlier: %v", err))
	}
	st, err := l.Stats.Stats(ctx)
	if err != nil {
		return false, fmt.Errorf("scheduler stats: %w", err)
	}
	nodes, err := l.Nodes.Nodes(ctx)
	if err != nil {
		return false, fmt.Errorf("cluster nodes: %w", err)
	}
	var metric float64
	if l.Settings.Policy == PolicyTable {
		if metric, err = l.Metric.Metric(ctx); err != nil {
			return false, err
		}
	}
	now := l.Clock.Now()
	*hist = hist.Observe(st, nodes, now)
	d := Decide(Input{Stats: st, Nodes: nodes, History: *hist, Settings: l.Settings, Now: now, Metric: metric})
	l.Logger.Info(summary(st, d))
	l.record(now, st, d)
	if len(d.Vanished) > 0 {
		if err := l.Actions.RemoveFromScheduler(ctx, d.Vanished); err != nil {
			l.Logger.Warn(fmt.Sprintf("balancer: remove vanished hosts %v from the scheduler: %v", d.Vanished, err))
		}
	}
	var actErr error
	switch d.Action {
	case Add:
		actErr = l.Actions.AddNodes(ctx, d.Add, l.Settings.SpotBid)
		*hist = hist.Changed(now, nil)
	case Remove:
		actErr = l.Actions.RemoveNodes(ctx, d.Remove)
		*hist = hist.Changed(now, d.Remove)
	case Terminate:
		if actErr = l.Actions.Terminate(ctx); actErr == nil {
			l.Logger.Info("balancer: cluster terminated (kill-cluster)")
			return true, nil
		}
	}
	if actErr != nil {
		// The change may have half happened; stabilization applies all the same.
		l.Logger.Warn(fmt.Sprintf("balancer: %s: %v", d, actErr))
	}
	return false, nil
}

// record appends the stats row and redraws the plots when asked; failures are logged only,
// since losing a plot must not stop the balancing.
func (l *Loop) record(now time.Time, st scheduler.Stats, d Decision) {
	s := l.Settings
	if s.StatsFile == "" {
		return
	}
	if err := AppendRecord(s.StatsFile, NewRecord(now, st, d.Nodes, s.LookbackWindow, d)); err != nil {
		l.Logger.Warn("balancer: " + err.Error())
		return
	}
	if s.PlotDir == "" {
		return
	}
	recs, err := ReadRecords(s.StatsFile)
	if err == nil {
		_, err = WritePlots(s.PlotDir, s.PlotFormat, recs)
	}
	if err != nil {
		l.Logger.Warn("balancer: " + err.Error())
	}
}

// summary is the iteration's log line: what the scheduler showed and what the balancer does.
func summary(st scheduler.Stats, d Decision) string {
	hosts := 0
	for _, h := range st.Hosts {
		if !h.Unreachable {
			hosts++
		}
	}
	running := 0
	for _, j := range st.Running() {
		running += max(j.Slots, 1)
	}
	return fmt.Sprintf("%s, %s; running %s (%d slots); queued %s (%d slots), oldest waited %s; %s: %s",
		plural(hosts, "host"), plural(d.Nodes, "node"), plural(len(st.Running()), "job"), running,
		plural(len(st.Queued()), "job"), st.QueuedSlots(), st.OldestWait(), d, d.Reason)
}

// StatsSource gives the scheduler's current state (the scheduler's hosts, jobs and accounting over SSH
// to the master). Errors are logged and retried next iteration.
type StatsSource interface {
	Stats(ctx context.Context) (scheduler.Stats, error)
}

// NodeLister lists the cluster's machines from the provider (NodesFromInstances converts),
// including ones gone or dead since the last look.
type NodeLister interface {
	Nodes(ctx context.Context) ([]Node, error)
}

// Actuator changes the cluster through the same engine paths as addnode and removenode, so
// a balanced node is set up and torn down exactly like a hand-added one.
type Actuator interface {
	// AddNodes launches and sets up k nodes with fresh aliases; spotBid > 0 makes them spot
	// instances at that bid.
	AddNodes(ctx context.Context, k int, spotBid float64) error
	// RemoveNodes disables the hosts in the queue first (so nothing new lands on them), then
	// removes them as removenode does (plugins' on-remove hooks, scheduler, terminate).
	RemoveNodes(ctx context.Context, aliases []string) error
	// RemoveFromScheduler forgets hosts whose machine vanished or stopped answering; it must
	// tolerate hosts the scheduler no longer knows, and should terminate any machine still
	// listed under those aliases, since an unreachable machine cannot be drained.
	RemoveFromScheduler(ctx context.Context, aliases []string) error
	// FinishNodes sets up the nodes an earlier AddNodes launched but failed to set up, or
	// removes those that failed too often, and says what it did ("" for nothing); it is
	// called at the start of every iteration.
	FinishNodes(ctx context.Context) (string, error)
	// Terminate ends the whole cluster (-K).
	Terminate(ctx context.Context) error
}

// MetricSource gives the load-table metric; HTTPMetric is the real one.
type MetricSource interface {
	Metric(ctx context.Context) (float64, error)
}

// Clock is the loop's time, injected so tests step simulated time instead of sleeping.
type Clock interface {
	Now() time.Time
	// After delivers once d has passed, as time.After does.
	After(d time.Duration) <-chan time.Time
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
