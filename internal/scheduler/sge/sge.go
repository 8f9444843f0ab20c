// Package sge sets up and tracks Grid Engine from the distribution's gridengine packages:
// qmaster on the master, execd on every exec host, @allhosts, all.q over it with /bin/bash,
// the parallel environments orte ($fill_up) and smp ($pe_slots), and the mem_requested
// consumable with each exec host's memory as its capacity. Changes on the master are one
// script per operation whatever the number of hosts, so adding hosts costs O(1) master
// commands.
package sge

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/internal/setup"
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

var _ setup.Scheduler = (*SGE)(nil)

// Name is how status lines name it.
func (g *SGE) Name() string { return "Grid Engine" }

// Root and cell of Debian's and Ubuntu's gridengine packages.
const (
	sgeRoot = "/var/lib/gridengine"
	sgeCell = "default"
	envLine = "export SGE_ROOT=" + sgeRoot + " SGE_CELL=" + sgeCell
)

// execHosts are the nodes that run jobs.
func (g *SGE) execHosts(nodes []*setup.Node) []*setup.Node {
	var out []*setup.Node
	for _, n := range nodes {
		if !n.IsMaster() || g.s.MasterIsExecHost {
			out = append(out, n)
		}
	}
	return out
}

// Run installs Grid Engine on every node and configures the master for all exec hosts.
func (g *SGE) Run(ctx context.Context, c *setup.Cluster) error {
	m := c.Master()
	if err := c.ForEach(ctx, "Grid Engine packages", c.Nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, installScript(m.Alias, n.IsMaster()))
		return err
	}); err != nil {
		return err
	}
	if err := c.Step(ctx, "Grid Engine qmaster on "+m.Alias, func(ctx context.Context) error {
		_, err := c.Sudo(ctx, m, qmasterScript(m.Alias))
		return err
	}); err != nil {
		return err
	}
	return g.register(ctx, c, g.execHosts(c.Nodes), c.Nodes, true)
}

// AddHosts registers new nodes: packages and act_qmaster on them, one master script for all of
// them, then their execds.
func (g *SGE) AddHosts(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	m := c.Master()
	if err := c.ForEach(ctx, "Grid Engine packages", nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, installScript(m.Alias, false))
		return err
	}); err != nil {
		return err
	}
	return g.register(ctx, c, g.execHosts(nodes), nodes, false)
}

// register measures the exec hosts (CPUs, memory), configures the master for them in one
// script, and starts their execds.
func (g *SGE) register(ctx context.Context, c *setup.Cluster, exec, submit []*setup.Node, full bool) error {
	facts, err := g.measure(ctx, c, exec)
	if err != nil {
		return err
	}
	m := c.Master()
	cfg := masterConfig{Exec: facts, Submit: nodeNames(submit), Full: full, MinUID: c.UID, MinGID: c.GID}
	if err := c.Step(ctx, fmt.Sprintf("Grid Engine: %d exec hosts with mem_requested", len(exec)), func(ctx context.Context) error {
		_, err := c.Sudo(ctx, m, cfg.script())
		return err
	}); err != nil {
		return err
	}
	if err := c.ForEach(ctx, "Grid Engine execd", exec, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, execdScript)
		return err
	}); err != nil {
		return err
	}
	if len(exec) == 0 {
		return nil
	}
	return c.Step(ctx, "Grid Engine: exec hosts reporting", func(ctx context.Context) error {
		_, err := c.Sudo(ctx, m, waitReportingScript(nodeNames(exec)))
		return err
	})
}

// hostFacts is what the master needs to know of an exec host.
type hostFacts struct {
	Name     string
	Slots    int
	MemoryKB int64
}

// measure reads each exec host's CPU count and memory.
func (g *SGE) measure(ctx context.Context, c *setup.Cluster, exec []*setup.Node) ([]hostFacts, error) {
	var mu sync.Mutex
	facts := make([]hostFacts, 0, len(exec))
	err := c.ForEach(ctx, "measure exec hosts", exec, func(ctx context.Context, n *setup.Node) error {
		res, err := c.Sudo(ctx, n, `nproc; awk '/^MemTotal:/ { print $2 }' /proc/meminfo`)
		if err != nil {
			return err
		}
		f := strings.Fields(res.Stdout)
		if len(f) != 2 {
			return fmt.Errorf("unexpected answer %q", res.Stdout)
		}
		cpus, err1 := strconv.Atoi(f[0])
		mem, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("unexpected answer %q", res.Stdout)
		}
		if g.s.SlotsPerHost > 0 {
			cpus = g.s.SlotsPerHost
		}
		mu.Lock()
		facts = append(facts, hostFacts{Name: n.Alias, Slots: cpus, MemoryKB: mem})
		mu.Unlock()
		return nil
	})
	return facts, err
}

// RemoveHosts disables the nodes' queue instances (so no job starts there), then removes them
// from the queue, @allhosts and the host lists in one master script, and stops their execds.
func (g *SGE) RemoveHosts(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	m := c.Master()
	names := nodeNames(nodes)
	if err := c.Step(ctx, fmt.Sprintf("Grid Engine: remove %d hosts", len(names)), func(ctx context.Context) error {
		_, err := c.Sudo(ctx, m, removeScript(names))
		return err
	}); err != nil {
		return err
	}
	var alive []*setup.Node
	for _, n := range nodes {
		if n.State == "running" {
			alive = append(alive, n)
		}
	}
	return c.ForEach(ctx, "stop Grid Engine execd", alive, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, "systemctl stop gridengine-exec")
		return err
	})
}

func nodeNames(nodes []*setup.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Alias
	}
	return out
}
