package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/clusterctl/clusterctl/internal/balancer"
	"github.com/clusterctl/clusterctl/internal/cloud/sim/scale"
	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/internal/scheduler/sge"
)

// balancerIteration runs one balancer iteration on a Grid Engine cluster of hosts exec hosts, each
// running a job, with queued jobs waiting for ten minutes; the statistics go to a file in dir.
func balancerIteration(ctx context.Context, dir string, hosts, queued int) (scale.BalancerFigure, error) {
	now := time.Now().UTC().Truncate(time.Second)
	out := sgeStatsOutput(now, hosts, queued)
	f := scale.BalancerFigure{Hosts: hosts, Queued: queued, Running: hosts, OutputBytes: len(out)}
	nodes := []balancer.Node{{Alias: "master", Master: true, LaunchTime: now.Add(-time.Hour)}}
	for i := 1; i < hosts; i++ {
		nodes = append(nodes, balancer.Node{Alias: fmt.Sprintf("node%03d", i), LaunchTime: now.Add(-time.Hour)})
	}
	s := balancer.DefaultSettings(hosts + 100)
	s.StatsFile = filepath.Join(dir, "stats.csv")
	act := &recordedActions{}
	loop := balancer.Loop{Settings: s, Iterations: 1,
		Stats: statsFunc(func(context.Context) (scheduler.Stats, error) { return sge.ParseStats(out) }),
		Nodes: nodesFunc(func(context.Context) ([]balancer.Node, error) { return nodes, nil }), Actions: act}
	runtime.GC()
	cpu0 := cpuTime()
	start := time.Now()
	if err := balancer.Run(ctx, loop); err != nil {
		return f, err
	}
	f.Wall, f.CPU = time.Since(start), cpuTime()-cpu0
	f.Decision = act.did
	if f.Decision == "" {
		return f, fmt.Errorf("the balancer decided nothing with %d jobs queued for ten minutes", queued)
	}
	return f, nil
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type statsFunc func(context.Context) (scheduler.Stats, error)

func (f statsFunc) Stats(ctx context.Context) (scheduler.Stats, error) { return f(ctx) }

type nodesFunc func(context.Context) ([]balancer.Node, error)

func (f nodesFunc) Nodes(ctx context.Context) ([]balancer.Node, error) { return f(ctx) }

// recordedActions does nothing but remember what the balancer asked for.
type recordedActions struct{ did string }

func (a *recordedActions) AddNodes(_ context.Context, k int, _ float64) error {
	a.did = fmt.Sprintf("add %d nodes", k)
	return nil
}

func (a *recordedActions) RemoveNodes(_ context.Context, aliases []string) error {
	a.did = fmt.Sprintf("remove %d nodes", len(aliases))
	return nil
}

func (a *recordedActions) RemoveFromScheduler(context.Context, []string) error { return nil }

func (a *recordedActions) FinishNodes(context.Context) (string, error) { return "", nil }

func (a *recordedActions) Terminate(context.Context) error {
	a.did = "terminate"
	return nil
}

// sgeStatsOutput is what sge.StatsScript prints on a master with hosts exec hosts (one job
// running on each) and queued jobs waiting since ten minutes before now, in the format of
// Debian's gridengine 8.1.9 (as in internal/scheduler/sge/testdata).
func sgeStatsOutput(now time.Time, hosts, queued int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "now %d +0000\n--- qstat\n<?xml version='1.0'?>\n<job_info  xmlns:xsd=\"http://arc.liv.ac.uk/repos/darcs/sge/source/dist/util/resources/schemas/qstat/qstat.xsd\">\n  <queue_info>\n", now.Unix())
	started := now.Add(-5 * time.Minute).Format("2006-01-02T15:04:05")
	for i := range hosts {
		fmt.Fprintf(&b, `    <job_list state="running">
      <JB_job_number>%d</JB_job_number>
      <JAT_prio>0.25000</JAT_prio>
      <JB_name>work</JB_name>
      <JB_owner>clusteruser</JB_owner>
      <state>r</state>
      <JAT_start_time>%s</JAT_start_time>
      <queue_name>all.q@%s</queue_name>
      <slots>1</slots>
      <full_job_name>work</full_job_name>
      <hard_request name="mem_requested" resource_contribution="0.000000">100M</hard_request>
      <binding>NONE</binding>
    </job_list>
`, i+1, started, hostName(i))
	}
	b.WriteString("  </queue_info>\n  <job_info>\n")
	submitted := now.Add(-10 * time.Minute).Format("2006-01-02T15:04:05")
	for i := range queued {
		fmt.Fprintf(&b, `    <job_list state="pending">
      <JB_job_number>%d</JB_job_number>
      <JAT_prio>0.25000</JAT_prio>
      <JB_name>work</JB_name>
      <JB_owner>clusteruser</JB_owner>
      <state>qw</state>
      <JB_submission_time>%s</JB_submission_time>
      <queue_name></queue_name>
      <slots>1</slots>
      <full_job_name>work</full_job_name>
      <hard_request name="mem_requested" resource_contribution="0.000000">100M</hard_request>
      <binding>NONE</binding>
    </job_list>
`, hosts+i+1, submitted)
	}
	b.WriteString("  </job_info>\n</job_info>\n--- qhost\n<?xml version='1.0'?>\n<qhost xmlns:xsd=\"http://arc.liv.ac.uk/repos/darcs/sge/source/dist/util/resources/schemas/qhost/qhost.xsd\">\n")
	for i := range hosts {
		fmt.Fprintf(&b, ` <host name='%s'>
   <hostvalue name='arch_string'>lx-amd64</hostvalue>
   <hostvalue name='num_proc'>2</hostvalue>
   <hostvalue name='m_socket'>1</hostvalue>
   <hostvalue name='m_core'>2</hostvalue>
   <hostvalue name='m_thread'>2</hostvalue>
   <hostvalue name='load_avg'>1.00</hostvalue>
   <hostvalue name='mem_total'>3.8G</hostvalue>
   <hostvalue name='mem_used'>1.6G</hostvalue>
   <hostvalue name='swap_total'>0.0</hostvalue>
   <hostvalue name='swap_used'>0.0</hostvalue>
   <resourcevalue name='mem_requested' dominance='hc'>3.100G</resourcevalue>
 <queue name='all.q'>
   <queuevalue qname='all.q' name='qtype_string'>BIP</queuevalue>
   <queuevalue qname='all.q' name='slots_used'>1</queuevalue>
   <queuevalue qname='all.q' name='slots'>2</queuevalue>
   <queuevalue qname='all.q' name='slots_resv'>0</queuevalue>
   <queuevalue qname='all.q' name='state_string'></queuevalue>
 </queue>
 </host>
`, hostName(i))
	}
	b.WriteString("</qhost>\n--- qacct\n")
	return b.String()
}

// hostName is the i-th host's name: the master, then node001 and on.
func hostName(i int) string {
	if i == 0 {
		return "master"
	}
	return fmt.Sprintf("node%03d", i)
}
