// Package sge sets up and tracks Grid Engine from the distribution's gridengine packages:
// qmaster on the master, execd on every exec host, @allhosts, all.q over it with /bin/bash,
// the parallel environments orte ($fill_up) and smp ($pe_slots), and the mem_requested
// consumable with each exec host's memory (from its instance type) as its capacity. Changes on
// the master are one script per operation whatever the number of hosts, so adding hosts costs
// O(1) master commands.
package sge

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// Settings are the sge plugin's parameters.
type Settings struct {
	// MasterIsExecHost runs jobs on the master too (StarCluster's default); false keeps the
	// master out of the exec queue, as Segway users asked.
	MasterIsExecHost bool
	// SlotsPerHost is each exec host's job slots; 0 means its CPU count.
	SlotsPerHost int
}

// SGE is the Grid Engine scheduler.
type SGE struct{ s Settings }

// New returns Grid Engine with these settings.
func New(s Settings) *SGE { return &SGE{s: s} }

var _ scheduler.Scheduler = (*SGE)(nil)

// Name is how status lines name it.
func (g *SGE) Name() string { return "Grid Engine" }

// Commands are Grid Engine's user commands.
func (g *SGE) Commands() scheduler.Commands {
	return scheduler.Commands{Submit: "qsub", Queue: `qstat -u "*"`, Hosts: "qhost", Cancel: "qdel",
		// Every host of the cluster is an admin host, so root on a node may disable its own queue.
		DrainSelf: envLine + `; qmod -d "all.q@$(hostname)"`}
}

// Root and cell of Debian's and Ubuntu's gridengine packages.
const (
	sgeRoot = "/var/lib/gridengine"
	sgeCell = "default"
	envLine = "export SGE_ROOT=" + sgeRoot + " SGE_CELL=" + sgeCell
)

// execHosts are the nodes that run jobs.
func (g *SGE) execHosts(nodes []scheduler.Node) []scheduler.Node {
	return scheduler.JobNodes(nodes, g.s.MasterIsExecHost)
}

// sudo runs a script as root on a node.
func sudo(ctx context.Context, c scheduler.Cluster, host, script string) error {
	_, err := c.Shell(host).Run(ctx, script)
	return err
}

// Setup installs Grid Engine on every node and configures the master for all exec hosts.
func (g *SGE) Setup(ctx context.Context, c scheduler.Cluster) error {
	nodes := c.Nodes()
	m, ok := scheduler.Master(nodes)
	if !ok {
		return fmt.Errorf("the cluster has no running master")
	}
	if err := c.ForEach(ctx, "Grid Engine packages", nodes, func(ctx context.Context, n scheduler.Node) error {
		return sudo(ctx, c, n.Name, installScript(m.Name, n.Master))
	}); err != nil {
		return err
	}
	if err := c.Step(ctx, "Grid Engine qmaster on "+m.Name, func(ctx context.Context) error {
		return sudo(ctx, c, m.Name, qmasterScript(m.Name))
	}); err != nil {
		return err
	}
	return g.register(ctx, c, m, g.execHosts(nodes), nodes, true)
}

// AddHosts registers new nodes: packages and act_qmaster on them, one master script for all of
// them, then their execds.
func (g *SGE) AddHosts(ctx context.Context, c scheduler.Cluster, nodes []scheduler.Node) error {
	m, ok := scheduler.Master(c.Nodes())
	if !ok {
		return fmt.Errorf("the cluster has no running master")
	}
	if err := c.ForEach(ctx, "Grid Engine packages", nodes, func(ctx context.Context, n scheduler.Node) error {
		return sudo(ctx, c, n.Name, installScript(m.Name, false))
	}); err != nil {
		return err
	}
	return g.register(ctx, c, m, g.execHosts(nodes), nodes, false)
}

// register sizes the exec hosts (CPUs, memory), configures the master for them in one script
// whose qconf calls do not grow with them, then has each exec host register its own capacity
// and start its execd, all at once.
func (g *SGE) register(ctx context.Context, c scheduler.Cluster, m scheduler.Node, exec, submit []scheduler.Node, full bool) error {
	facts, err := g.measure(ctx, c, exec)
	if err != nil {
		return err
	}
	u := c.User()
	cfg := masterConfig{Exec: facts, Submit: scheduler.Names(submit), Full: full, MinUID: u.UID, MinGID: u.GID}
	if err := c.Step(ctx, fmt.Sprintf("Grid Engine: queue for %d exec hosts", len(exec)), func(ctx context.Context) error {
		return untilResolved(ctx, func(ctx context.Context) error { return sudo(ctx, c, m.Name, cfg.script()) })
	}); err != nil {
		return err
	}
	byName := make(map[string]hostFacts, len(facts))
	for _, f := range facts {
		byName[f.Name] = f
	}
	if err := c.ForEach(ctx, "Grid Engine execd", exec, func(ctx context.Context, n scheduler.Node) error {
		return untilResolved(ctx, func(ctx context.Context) error { return sudo(ctx, c, n.Name, execHostScript(byName[n.Name])) })
	}); err != nil {
		return err
	}
	if len(exec) == 0 {
		return nil
	}
	return c.Step(ctx, "Grid Engine: exec hosts reporting", func(ctx context.Context) error {
		return sudo(ctx, c, m.Name, waitReportingScript(scheduler.Names(exec)))
	})
}

// resolvePatience bounds how long a script is run again while the qmaster cannot resolve a
// new host yet. It caches failed lookups of names and of addresses for 60 s and refreshes known
// ones every 120 s: a node that takes the name of one removed minutes ago can meet either.
const resolvePatience = 90 * time.Second

// untilResolved runs fn, an idempotent script that talks to the qmaster, again every few
// seconds while it fails only because the qmaster could not resolve a host (a name it looked
// up, or the address of the node the script runs on), up to resolvePatience.
func untilResolved(ctx context.Context, fn func(context.Context) error) error {
	deadline := time.Now().Add(resolvePatience)
	for {
		err := fn(ctx)
		if err == nil || !unresolved(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(2 * time.Second):
		}
	}
}

// unresolved reports whether a failed script failed on a host the qmaster (or qconf) could
// not resolve. A node the qmaster cannot resolve by its address is refused as "neither submit
// nor admin host" although the master's script has just made it both.
func unresolved(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "can't resolve hostname") || strings.Contains(msg, "unable to resolve host") ||
		strings.Contains(msg, "is neither submit nor admin host")
}

// hostFacts is what the master needs to know of an exec host.
type hostFacts struct {
	Name     string
	Slots    int
	MemoryKB int64
}

// measure sizes each exec host from its instance type: its CPUs are its slots and the memory
// jobs may use (scheduler.JobMemory) its mem_requested capacity. Only a node whose type the
// provider cannot size is asked for its CPU count and memory.
func (g *SGE) measure(ctx context.Context, c scheduler.Cluster, exec []scheduler.Node) ([]hostFacts, error) {
	var mu sync.Mutex
	facts := make([]hostFacts, 0, len(exec))
	add := func(f hostFacts) {
		if g.s.SlotsPerHost > 0 {
			f.Slots = g.s.SlotsPerHost
		}
		mu.Lock()
		facts = append(facts, f)
		mu.Unlock()
	}
	var unknown []scheduler.Node
	for _, n := range exec {
		if n.CPUs > 0 && n.Memory > 0 {
			add(hostFacts{Name: n.Name, Slots: n.CPUs, MemoryKB: scheduler.JobMemory(n.Memory) >> 10})
		} else {
			unknown = append(unknown, n)
		}
	}
	err := c.ForEach(ctx, "measure exec hosts", unknown, func(ctx context.Context, n scheduler.Node) error {
		out, err := c.Shell(n.Name).Run(ctx, `nproc; awk '/^MemTotal:/ { print $2 }' /proc/meminfo`)
		if err != nil {
			return err
		}
		f := strings.Fields(out)
		if len(f) != 2 {
			return fmt.Errorf("unexpected answer %q", out)
		}
		cpus, err1 := strconv.Atoi(f[0])
		mem, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("unexpected answer %q", out)
		}
		add(hostFacts{Name: n.Name, Slots: cpus, MemoryKB: mem})
		return nil
	})
	return facts, err
}

// Drain disables the hosts' queue instances: no job starts there, running jobs go on.
func (g *SGE) Drain(ctx context.Context, c scheduler.Cluster, hosts []string) error {
	return g.onMaster(ctx, c, queueStateScript("-d", hosts))
}

// Resume enables the hosts' queue instances again.
func (g *SGE) Resume(ctx context.Context, c scheduler.Cluster, hosts []string) error {
	return g.onMaster(ctx, c, queueStateScript("-e", hosts))
}

// Running counts the slots in use on each host (a job, an array task, or a parallel task each).
func (g *SGE) Running(ctx context.Context, c scheduler.Cluster, hosts []string) (map[string]int, error) {
	m, ok := scheduler.Master(c.Nodes())
	if !ok {
		return nil, fmt.Errorf("the cluster has no running master")
	}
	out, err := c.Shell(m.Name).Run(ctx, runningScript(hosts))
	if err != nil {
		return nil, err
	}
	hs, err := parseQhost(out)
	if err != nil {
		return nil, err
	}
	used := map[string]int{}
	for _, h := range hs {
		used[h.Name] = h.UsedSlots
	}
	return used, nil
}

// RemoveHosts removes drained hosts from the queue, @allhosts and the host lists in one master
// script (which first checks that none of them runs a job, unless force, which deletes their
// jobs), then stops their execds. The jobs of hosts whose machine is gone are rescheduled to
// run elsewhere instead of deleted.
func (g *SGE) RemoveHosts(ctx context.Context, c scheduler.Cluster, nodes []scheduler.Node, force bool) error {
	names := scheduler.Names(nodes)
	var dead []string
	for _, n := range nodes {
		if !n.Running {
			dead = append(dead, n.Name)
		}
	}
	if err := c.Step(ctx, fmt.Sprintf("Grid Engine: remove %d hosts", len(names)), func(ctx context.Context) error {
		if len(dead) > 0 {
			if err := g.onMaster(ctx, c, requeueScript(dead)); err != nil {
				return err
			}
		}
		if force {
			if err := g.onMaster(ctx, c, killScript(names)); err != nil {
				return err
			}
		}
		return g.onMaster(ctx, c, removeScript(names))
	}); err != nil {
		return err
	}
	var alive []scheduler.Node
	for _, n := range nodes {
		if n.Running {
			alive = append(alive, n)
		}
	}
	return c.ForEach(ctx, "stop Grid Engine execd", alive, func(ctx context.Context, n scheduler.Node) error {
		return sudo(ctx, c, n.Name, "systemctl stop gridengine-exec")
	})
}

// Stats runs StatsScript on the master and parses it.
func (g *SGE) Stats(ctx context.Context, master scheduler.Shell, since time.Time) (scheduler.Stats, error) {
	out, err := master.Run(ctx, StatsScript(since))
	if err != nil {
		return scheduler.Stats{}, fmt.Errorf("read Grid Engine state: %w", err)
	}
	return ParseStats(out)
}

func (g *SGE) onMaster(ctx context.Context, c scheduler.Cluster, script string) error {
	m, ok := scheduler.Master(c.Nodes())
	if !ok {
		return fmt.Errorf("the cluster has no running master")
	}
	return sudo(ctx, c, m.Name, script)
}
