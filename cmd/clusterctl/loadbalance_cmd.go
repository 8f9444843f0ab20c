package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/balancer"
)

// balanceOptions are loadbalance's flags.
type balanceOptions struct {
	maxNodes, minNodes, addPerIter int
	wait, interval, stab, lookback durationFlag
	killAfter, drainTimeout        durationFlag
	killCluster                    bool
	bid                            float64
	dumpStats, plotStats           bool
	statsFile, plotDir, plotFormat string
	policy, loadTable, metricURL   string
	background, kill               bool
	pidFile, logFile               string
	verbose                        int
	experimental                   bool
	// notes say how -m/-n cap a load table; runBalancer prints them once.
	notes []string
}

func newLoadBalanceCmd(a *app) *cobra.Command {
	o := &balanceOptions{wait: durationFlag{d: 300 * time.Second, unit: time.Second}, interval: durationFlag{d: 60 * time.Second, unit: time.Second},
		stab: durationFlag{d: 180 * time.Second, unit: time.Second}, lookback: durationFlag{d: time.Hour, unit: time.Second},
		killAfter: durationFlag{d: 10 * time.Minute, unit: time.Minute}, drainTimeout: durationFlag{d: 5 * time.Minute, unit: time.Second}}
	cmd := &cobra.Command{
		Use:     "loadbalance TAG",
		Aliases: []string{"bal"},
		Short:   "Grow and shrink a cluster with its scheduler's queue (or a load table)",
		Long: heredoc.Doc(`
			Watch the cluster's queue and add nodes when jobs have waited longer than -w and more
			slots are queued than free, as many as the queued slots need (capped by -a and -m);
			remove nodes idle for -k minutes when the queue is empty, never below -n and never
			the master. Grid Engine and Slurm clusters are balanced alike. A node is drained
			before removal, so no job starts on a node that is going away, and removed only once
			no job runs there: a job that started since the balancer looked is waited for (up
			to --drain-timeout; then the node takes jobs again and the next iteration decides
			anew), never killed. Vanished nodes (spot interruptions) are cleaned up after as
			repair does (their jobs requeued) and replaced, with their own settings, when jobs
			wait or the cluster is below -n. Jobs that can never run (more memory than any
			host) do not make the cluster grow. One balancer runs per cluster: a second one is
			refused.

			--policy table keeps the number of workers within the [min, max] of the row of a
			load table (lines "threshold min max") selected by a metric fetched from
			--metric-url (a number, or Apache mod_status ReqPerSec). The table's rows are then the
			bounds: -m and -n are only needed to cap it, and a cap is stated once at start.

			One line is logged per iteration. -d writes a CSV row per iteration, -p redraws
			plots. It runs in the foreground until Ctrl-C, or in the background with
			--background (stop it with --kill).

			Durations take a plain number in the documented unit (-w 300) or a Go duration
			(-w 5m, -i 30s). StarCluster's ENABLE_EXPERIMENTAL is not needed.`),
		Example: heredoc.Doc(`
			clusterctl loadbalance -m 20 -n 2 mycluster
			clusterctl loadbalance -w 120 -a 4 -b 0.05 -d -p mycluster
			clusterctl loadbalance --policy table --load-table load.txt --metric-url 'http://web/server-status?auto' -i 30s render
			clusterctl loadbalance --background --pidfile bal.pid --logfile bal.log mycluster
			clusterctl loadbalance --kill --pidfile bal.pid`),
		Args: func(cmd *cobra.Command, args []string) error {
			if o.kill {
				return cobra.NoArgs(cmd, args)
			}
			return exactArgs(1, "the cluster TAG")(cmd, args)
		},
		ValidArgsFunction: completeClusters(a),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.kill {
				return killBalancer(cmd.Context(), a, o)
			}
			return runBalancer(cmd, a, o, args[0])
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.maxNodes, "max-nodes", "m", 0, "most nodes, master included (default: the template's CLUSTER_SIZE; with --policy table, the table's largest row)")
	f.IntVarP(&o.minNodes, "min-nodes", "n", 1, "fewest nodes, master included (0 with -K)")
	f.VarP(&o.wait, "job-wait-time", "w", "seconds the oldest job must wait before nodes are added")
	f.VarP(&o.interval, "interval", "i", "seconds between iterations")
	f.IntVarP(&o.addPerIter, "add-nodes-per-iter", "a", 0, "most nodes added per iteration (default: as many as the queue needs)")
	f.VarP(&o.stab, "stabilization-time", "s", "seconds without changes after a change")
	f.VarP(&o.lookback, "lookback-window", "l", "seconds of finished jobs averaged in the stats")
	f.VarP(&o.killAfter, "kill-after", "k", "minutes a node must be idle before it is removed")
	f.Var(&o.drainTimeout, "drain-timeout", "seconds a removal waits for jobs running on the drained nodes")
	f.BoolVarP(&o.killCluster, "kill-cluster", "K", false, "terminate the cluster when everything is idle and the queue is empty")
	f.Float64VarP(&o.bid, "bid", "b", 0, "launch new nodes as spot with this maximum hourly price")
	f.BoolVarP(&o.dumpStats, "dump-stats", "d", false, "append a CSV row per iteration")
	f.StringVarP(&o.statsFile, "dump-stats-file", "D", "", "CSV file (default ~/.clusterctl/balancer/TAG/stats.csv)")
	f.BoolVarP(&o.plotStats, "plot-stats", "p", false, "redraw plots each iteration")
	f.StringVarP(&o.plotDir, "plot-output-dir", "P", "", "plot directory (default ~/.clusterctl/balancer/TAG)")
	f.StringVar(&o.plotFormat, "plot-format", "png", "plot format: png or svg")
	f.StringVar(&o.policy, "policy", "queue", "queue, or table (with --load-table and --metric-url)")
	f.StringVar(&o.loadTable, "load-table", "", "file of 'threshold min max' rows for --policy table")
	f.StringVar(&o.metricURL, "metric-url", "", "URL of the load metric for --policy table")
	f.BoolVar(&o.background, "background", false, "run as a background daemon (needs --pidfile)")
	f.BoolVar(&o.kill, "kill", false, "stop the background balancer named by --pidfile")
	f.StringVar(&o.pidFile, "pidfile", "", "pid file of a background balancer")
	f.StringVar(&o.logFile, "logfile", "", "log file of a background balancer (default ~/.clusterctl/balancer/TAG/balancer.log)")
	f.CountVarP(&o.verbose, "verbose", "v", "more detail per iteration (repeat for more)")
	f.BoolVar(&o.experimental, "enable-experimental", false, "accepted for StarCluster compatibility; not needed")
	_ = f.MarkHidden("enable-experimental")
	f.SetNormalizeFunc(underscoresAsDashes)
	return cmd
}

func runBalancer(cmd *cobra.Command, a *app, o *balanceOptions, tag string) error {
	ctx := cmd.Context()
	dir := filepath.Join(a.env.Home, ".clusterctl", "balancer", tag)
	if o.background {
		return startBackground(a, o, dir)
	}
	eng, err := a.engineFor(ctx, tag)
	if err != nil {
		return err
	}
	// One balancer per cluster: a second one is refused, naming the first.
	unlock, err := eng.LockBalancer(ctx, tag)
	if err != nil {
		return err
	}
	defer unlock()
	target, rec, err := eng.Balanced(ctx, tag, a.setupOptions(ctx), o.lookback.d)
	if err != nil {
		return err
	}
	defer target.Close()
	target.DrainTimeout = o.drainTimeout.d
	s := balancer.DefaultSettings(rec.ClusterSize)
	if err := o.apply(cmd, &s, dir); err != nil {
		return err
	}
	for _, n := range o.notes {
		a.streams.Status().Warnf("%s", n)
	}
	if o.pidFile != "" {
		pf, err := balancer.WritePidFile(o.pidFile, os.Getpid())
		if err != nil {
			return err
		}
		defer pf.Release()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	level := slog.LevelInfo
	if o.verbose > 0 {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(a.streams.SafeErrOut(), &slog.HandlerOptions{Level: level}), a.logger.Handler()))
	a.streams.Status().Infof("Balancing %s: %d to %d nodes, every %s (Ctrl-C to stop).", tag, s.MinNodes, s.MaxNodes, s.Interval)
	return balancer.Run(ctx, balancer.Loop{Settings: s, Stats: target, Nodes: target, Actions: target, Logger: logger})
}

// apply turns the flags into balancer settings.
func (o *balanceOptions) apply(cmd *cobra.Command, s *balancer.Settings, dir string) error {
	f := cmd.Flags()
	if f.Changed("max-nodes") {
		s.MaxNodes = o.maxNodes
	}
	if f.Changed("min-nodes") || o.killCluster {
		s.MinNodes = o.minNodes
		if o.killCluster && !f.Changed("min-nodes") {
			s.MinNodes = 0
		}
	}
	s.JobWaitTime, s.Interval, s.StabilizationTime, s.LookbackWindow, s.KillAfter = o.wait.d, o.interval.d, o.stab.d, o.lookback.d, o.killAfter.d
	s.AddNodesPerIter, s.KillCluster, s.SpotBid = o.addPerIter, o.killCluster, o.bid
	s.Policy = balancer.Policy(o.policy)
	if o.loadTable != "" {
		t, err := balancer.ReadLoadTable(o.loadTable)
		if err != nil {
			return err
		}
		s.LoadTable = t
	}
	s.MetricURL = o.metricURL
	o.notes = balancer.ApplyTableBounds(s, f.Changed("max-nodes"), f.Changed("min-nodes"))
	if o.dumpStats || o.statsFile != "" {
		s.StatsFile = orDefault(o.statsFile, filepath.Join(dir, "stats.csv"))
	}
	if o.plotStats || o.plotDir != "" {
		s.PlotDir = orDefault(o.plotDir, dir)
	}
	s.PlotFormat = o.plotFormat
	for _, p := range []string{s.StatsFile, s.PlotDir} {
		if p == "" {
			continue
		}
		if p == s.StatsFile {
			p = filepath.Dir(p)
		}
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", p, err)
		}
	}
	if err := s.Validate(); err != nil {
		return usageErrorf(err.Error())
	}
	return nil
}

// startBackground re-runs this command as a daemon in its own session, logging to a file, and
// returns once it has written its pid file.
func startBackground(a *app, o *balanceOptions, dir string) error {
	if o.pidFile == "" {
		return usageErrorf("--background needs --pidfile, so the balancer can be stopped with --kill")
	}
	logFile := orDefault(o.logFile, filepath.Join(dir, "balancer.log"))
	if err := os.MkdirAll(filepath.Dir(logFile), 0o700); err != nil {
		return err
	}
	// The log says what the balancer did to the cluster: the user's alone.
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	defer logf.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var args []string
	for _, arg := range os.Args[1:] {
		if arg != "--background" {
			args = append(args, arg)
		}
	}
	c := exec.Command(self, args...)
	c.Stdin, c.Stdout, c.Stderr = nil, logf, logf
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		return fmt.Errorf("start background balancer: %w", err)
	}
	pid := c.Process.Pid
	_ = c.Process.Release()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, err := balancer.ReadPidFile(o.pidFile); err == nil && got == pid {
			a.streams.Status().Donef("balancer running in the background (pid %d), log in %s; stop it with `clusterctl loadbalance --kill --pidfile %s`", pid, logFile, o.pidFile)
			return nil
		}
		if !processAlive(pid) {
			tail, _ := os.ReadFile(logFile)
			return fmt.Errorf("the background balancer exited at once; its log %s ends with:\n%s", logFile, lastLines(string(tail), 10))
		}
	}
	return fmt.Errorf("the background balancer (pid %d) wrote no pid file in 20 s; see %s", pid, logFile)
}

func killBalancer(ctx context.Context, a *app, o *balanceOptions) error {
	if o.pidFile == "" {
		return usageErrorf("--kill needs --pidfile")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := balancer.Kill(ctx, o.pidFile)
	if errors.Is(err, balancer.ErrNotRunning) {
		a.streams.Status().Infof("No balancer running for %s (stale pid file removed).", o.pidFile)
		return nil
	}
	if err != nil {
		return err
	}
	a.streams.Status().Donef("stopped the balancer of %s", o.pidFile)
	return nil
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// durationFlag takes a plain number in its unit (StarCluster's -w 900 seconds, -k 45 minutes)
// or a Go duration (30s, 5m).
type durationFlag struct {
	d    time.Duration
	unit time.Duration
}

func (f *durationFlag) String() string { return f.d.String() }
func (f *durationFlag) Type() string   { return "duration" }
func (f *durationFlag) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		f.d = time.Duration(n * float64(f.unit))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is neither a number nor a duration like 30s or 5m", s)
	}
	f.d = d
	return nil
}
