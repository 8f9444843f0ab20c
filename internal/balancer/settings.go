// Package balancer is clusterctl's autoscaler ("loadbalance"): a pure policy that turns a
// scheduler snapshot, the cluster's nodes and a little history into a decision (add k nodes,
// remove these, terminate, nothing), and a loop that polls, decides, acts through the engine,
// and records what it saw (CSV, plots). It is StarCluster's SGE balancer with its known failures
// fixed: heterogeneous slots, per-second billing, jobs that can never run, vanished spot nodes.
package balancer

import (
	"errors"
	"fmt"
	"time"
)

// Policy names how the balancer picks a target size.
type Policy string

// The policies. The queue policy follows the scheduler's queue (StarCluster's); the table policy
// follows an external load metric through a load table (GBrowse's render farm).
const (
	PolicyQueue Policy = "queue"
	PolicyTable Policy = "table"
)

// Defaults, chosen where StarCluster's were wrong for today's clouds.
const (
	// DefaultInterval is StarCluster's polling interval: a minute is quick enough for batch
	// queues and cheap in SSH round trips.
	DefaultInterval = 60 * time.Second
	// DefaultJobWaitTime is shorter than StarCluster's 900 s, which left users watching a
	// queue for a quarter of an hour before anything happened.
	DefaultJobWaitTime = 300 * time.Second
	// DefaultStabilizationTime lets a change settle (new nodes join the queue, jobs start)
	// before the next one is judged.
	DefaultStabilizationTime = 180 * time.Second
	// DefaultLookbackWindow is how far back finished jobs count for the average duration and
	// wait written to the stats: one hour follows the current workload; StarCluster's three
	// hours smoothed away the changes the plots are meant to show.
	DefaultLookbackWindow = time.Hour
	// DefaultKillAfter is how long a node must be idle before removal. Billing is per second
	// now, so StarCluster's "45 minutes past the billing hour" rule only wasted money; ten
	// minutes keeps a node through the gaps between jobs of a workflow.
	DefaultKillAfter = 10 * time.Minute
	// DefaultMinNodes is the master alone.
	DefaultMinNodes = 1
	// DefaultMetricTimeout bounds one fetch of the load-table metric.
	DefaultMetricTimeout = 10 * time.Second
)

// Settings are the balancer's knobs, one per `clusterctl loadbalance` flag. Counts of nodes
// always include the master: MinNodes 1 is the master alone.
type Settings struct {
	// Policy is PolicyQueue (default when empty) or PolicyTable.
	Policy Policy
	// MaxNodes (-m) is never exceeded; the CLI defaults it to the template's CLUSTER_SIZE.
	MaxNodes int
	// MinNodes (-n, default 1) is restored at once when the cluster falls below it, without
	// waiting for jobs or stabilization. KillCluster makes it 0.
	MinNodes int
	// JobWaitTime (-w) is how long the oldest runnable job must have waited before nodes are
	// added, so short bursts that the current nodes absorb do not buy machines.
	JobWaitTime time.Duration
	// Interval (-i) is the time between iterations.
	Interval time.Duration
	// AddNodesPerIter (-a) caps how many nodes one iteration adds; 0 means no cap beyond
	// MaxNodes (as many as the queued slots need), unlike StarCluster's one at a time.
	AddNodesPerIter int
	// StabilizationTime (-s) is the quiet period after any add or remove.
	StabilizationTime time.Duration
	// LookbackWindow (-l) is how far back finished jobs count for the average job duration
	// and wait in the stats (default one hour).
	LookbackWindow time.Duration
	// KillAfter (-k) is how long a node must be idle (no job) before it may be removed.
	KillAfter time.Duration
	// KillCluster (-K) terminates the whole cluster once only the master is left, nothing
	// runs, the queue is empty and the master has been idle for KillAfter.
	KillCluster bool
	// SpotBid (-b) is the spot bid (USD/h) for new nodes; 0 launches them on demand.
	SpotBid float64
	// NodeSlots and NodeMemory describe a new node (from its instance type) when the caller
	// knows it; 0 means estimate from the current hosts. They size additions and widen the
	// "can this job ever run" check to machines not launched yet.
	NodeSlots  int
	NodeMemory int64
	// LoadTable is the parsed --load-table file (see ReadLoadTable), for PolicyTable.
	LoadTable LoadTable
	// MetricURL (--metric-url) is where the table policy's metric is fetched each iteration.
	MetricURL string
	// MetricTimeout bounds one metric fetch (default DefaultMetricTimeout).
	MetricTimeout time.Duration
	// StatsFile (-D), when set, gets one CSV row per iteration (see CSVHeader). PlotDir (-P),
	// when set, gets the charts redrawn from that file each iteration; with plots on and no
	// StatsFile, PlotDir/stats.csv is used. PlotFormat is "png" (default) or "svg".
	StatsFile  string
	PlotDir    string
	PlotFormat string
}

// DefaultSettings returns the defaults for a cluster whose template has clusterSize nodes, the
// value -m falls back to.
func DefaultSettings(clusterSize int) Settings {
	return Settings{
		Policy:            PolicyQueue,
		MaxNodes:          clusterSize,
		MinNodes:          DefaultMinNodes,
		JobWaitTime:       DefaultJobWaitTime,
		Interval:          DefaultInterval,
		StabilizationTime: DefaultStabilizationTime,
		LookbackWindow:    DefaultLookbackWindow,
		KillAfter:         DefaultKillAfter,
		MetricTimeout:     DefaultMetricTimeout,
		PlotFormat:        "png",
	}
}

// Validate reports every inconsistent setting at once, so the user fixes the command line in
// one go instead of finding the next problem after an hour of balancing.
func (s Settings) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.MaxNodes < 1 {
		add("max nodes must be at least 1 (the master), got %d", s.MaxNodes)
	}
	if s.MinNodes < 0 {
		add("min nodes must not be negative, got %d", s.MinNodes)
	}
	if s.MaxNodes >= 1 && s.minNodes() > s.MaxNodes {
		add("min nodes %d is more than max nodes %d", s.MinNodes, s.MaxNodes)
	}
	if s.Interval <= 0 {
		add("interval must be positive, got %s", s.Interval)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"job wait time", s.JobWaitTime}, {"stabilization time", s.StabilizationTime},
		{"lookback window", s.LookbackWindow}, {"kill after", s.KillAfter},
		{"metric timeout", s.MetricTimeout}} {
		if d.d < 0 {
			add("%s must not be negative, got %s", d.name, d.d)
		}
	}
	if s.AddNodesPerIter < 0 {
		add("add nodes per iteration must not be negative, got %d", s.AddNodesPerIter)
	}
	if s.SpotBid < 0 {
		add("spot bid must not be negative, got %g", s.SpotBid)
	}
	switch s.Policy {
	case "", PolicyQueue:
	case PolicyTable:
		if len(s.LoadTable) == 0 {
			add("the table policy needs a load table (--load-table FILE)")
		}
		if s.MetricURL == "" {
			add("the table policy needs a metric URL (--metric-url URL)")
		}
	default:
		add("unknown policy %q (use %q or %q)", s.Policy, PolicyQueue, PolicyTable)
	}
	switch s.PlotFormat {
	case "", "png", "svg":
	default:
		add("plot format must be png or svg, got %q", s.PlotFormat)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("balancer settings: %w", err)
	}
	return nil
}

// minNodes is the floor the policy keeps: 0 with KillCluster, which lets the cluster end.
func (s Settings) minNodes() int {
	if s.KillCluster {
		return 0
	}
	return s.MinNodes
}
