// Package slurm sets up and tracks Slurm from the distribution's packages (Debian's slurm-wlm
// with munge): a munge key of the cluster's own on every node, slurmctld on the master, slurmd
// on every compute node in configless mode (nodes fetch slurm.conf from the controller),
// select/cons_tres with CR_Core_Memory so memory is a consumable as mem_requested is in Grid
// Engine, one default partition over all nodes, node lines with the CPUs and memory of each
// node's instance type, and job completion records in a text file the balancer reads without a
// database. Adding or removing any number of nodes is one script on the controller.
package slurm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// Settings are the slurm plugin's parameters.
type Settings struct {
	// MasterIsComputeNode runs jobs on the master too (as Grid Engine's master_is_exec_host);
	// false leaves it the controller only.
	MasterIsComputeNode bool
}

// Slurm is the Slurm scheduler.
type Slurm struct{ s Settings }

// New returns Slurm with these settings.
func New(s Settings) *Slurm { return &Slurm{s: s} }

var _ scheduler.Scheduler = (*Slurm)(nil)

// Name is how status lines name it.
func (*Slurm) Name() string { return "Slurm" }

// Commands are Slurm's user commands.
func (*Slurm) Commands() scheduler.Commands {
	return scheduler.Commands{Submit: "sbatch", Queue: "squeue", Hosts: "sinfo -N -l", Cancel: "scancel",
		DrainSelf: `scontrol update NodeName="$(hostname)" State=DRAIN Reason="EC2 spot interruption notice"`}
}

// computeNodes are the nodes that run jobs.
func (s *Slurm) computeNodes(nodes []scheduler.Node) []scheduler.Node {
	return scheduler.JobNodes(nodes, s.s.MasterIsComputeNode)
}

func master(c scheduler.Cluster) (scheduler.Node, error) {
	m, ok := scheduler.Master(c.Nodes())
	if !ok {
		return m, fmt.Errorf("the cluster has no running master")
	}
	return m, nil
}

func run(ctx context.Context, c scheduler.Cluster, host, script string) error {
	_, err := c.Shell(host).Run(ctx, script)
	return err
}

// Setup installs Slurm and munge on every node, gives every node the cluster's munge key,
// writes slurm.conf on the master with a node line per compute node, starts slurmctld and the
// slurmds, and waits until every compute node has registered.
func (s *Slurm) Setup(ctx context.Context, c scheduler.Cluster) error {
	m, err := master(c)
	if err != nil {
		return err
	}
	return s.join(ctx, c, m, c.Nodes())
}

// AddHosts brings new nodes in: packages and the munge key on them, their node lines in one
// change on the controller, then their slurmds.
func (s *Slurm) AddHosts(ctx context.Context, c scheduler.Cluster, nodes []scheduler.Node) error {
	m, err := master(c)
	if err != nil {
		return err
	}
	return s.join(ctx, c, m, nodes)
}

// join is Setup (nodes = every node, master included) and AddHosts (nodes = the new ones).
func (s *Slurm) join(ctx context.Context, c scheduler.Cluster, m scheduler.Node, nodes []scheduler.Node) error {
	if err := c.ForEach(ctx, "Slurm packages", nodes, func(ctx context.Context, n scheduler.Node) error {
		return run(ctx, c, n.Name, installScript(n.Master))
	}); err != nil {
		return err
	}
	if err := shareMungeKey(ctx, c, m, nodes); err != nil {
		return err
	}
	compute := s.computeNodes(nodes)
	lines, err := nodeLines(ctx, c, compute)
	if err != nil {
		return err
	}
	changed := false
	if err := c.Step(ctx, fmt.Sprintf("Slurm: slurmctld on %s, node lines of %s", m.Name, scheduler.HostList(scheduler.Names(compute))), func(ctx context.Context) error {
		current, err := readNodeLines(ctx, c.Shell(m.Name))
		if err != nil {
			return err
		}
		changed, err = s.configure(ctx, c, m, mergeNodes(current, lines, nil))
		return err
	}); err != nil {
		return err
	}
	if err := c.ForEach(ctx, "Slurm slurmd", compute, func(ctx context.Context, n scheduler.Node) error {
		return run(ctx, c, n.Name, slurmdScript(m.Name, n.Master))
	}); err != nil {
		return err
	}
	if len(compute) > 0 {
		if err := c.Step(ctx, "Slurm: compute nodes registered", func(ctx context.Context) error {
			return run(ctx, c, m.Name, waitRegisteredScript(scheduler.Names(compute)))
		}); err != nil {
			return err
		}
	}
	return reconfigure(ctx, c, m, changed)
}

// reconfigure, when slurm.conf changed, makes the running slurmds fetch the new node list
// (reconfigureScript says why only once the new ones run).
func reconfigure(ctx context.Context, c scheduler.Cluster, m scheduler.Node, changed bool) error {
	if !changed {
		return nil
	}
	return c.Step(ctx, "Slurm: slurmds read the new node list", func(ctx context.Context) error {
		return run(ctx, c, m.Name, reconfigureScript)
	})
}

// nodeLines sizes each compute node from its instance type: its CPUs, and the memory jobs may
// use (scheduler.JobMemory) as RealMemory. Only a node whose type the provider cannot size is
// asked for its CPU count and memory.
func nodeLines(ctx context.Context, c scheduler.Cluster, compute []scheduler.Node) ([]nodeLine, error) {
	out := make([]nodeLine, len(compute))
	var unknown []scheduler.Node
	index := map[string]int{}
	for i, n := range compute {
		index[n.Name] = i
		out[i] = nodeLine{Name: n.Name, CPUs: n.CPUs, MemoryMB: scheduler.JobMemory(n.Memory) >> 20}
		if n.CPUs <= 0 || n.Memory <= 0 {
			unknown = append(unknown, n)
		}
	}
	results := make([]nodeLine, len(compute))
	err := c.ForEach(ctx, "measure compute nodes", unknown, func(ctx context.Context, n scheduler.Node) error {
		text, err := c.Shell(n.Name).Run(ctx, `nproc; awk '/^MemTotal:/ { print $2 }' /proc/meminfo`)
		if err != nil {
			return err
		}
		var cpus int
		var memKB int64
		if _, err := fmt.Sscan(text, &cpus, &memKB); err != nil || cpus < 1 || memKB < 1 {
			return fmt.Errorf("unexpected answer %q", text)
		}
		results[index[n.Name]] = nodeLine{Name: n.Name, CPUs: cpus, MemoryMB: scheduler.JobMemory(memKB<<10) >> 20}
		return nil
	})
	for _, n := range unknown {
		out[index[n.Name]] = results[index[n.Name]]
	}
	return out, err
}

// Drain sets the nodes to DRAIN: no job starts there, running jobs go on. It refuses to drain
// the last compute nodes, which could not be removed afterwards.
func (s *Slurm) Drain(ctx context.Context, c scheduler.Cluster, hosts []string) error {
	m, err := master(c)
	if err != nil {
		return err
	}
	if err := keepOne(ctx, c, m, hosts); err != nil {
		return err
	}
	return run(ctx, c, m.Name, nodeStateScript(hosts, "DRAIN"))
}

// keepOne fails when removing hosts would leave slurm.conf without a node.
func keepOne(ctx context.Context, c scheduler.Cluster, m scheduler.Node, hosts []string) error {
	current, err := readNodeLines(ctx, c.Shell(m.Name))
	if err != nil {
		return err
	}
	if len(current) > 0 && len(mergeNodes(current, nil, hosts)) == 0 {
		return fmt.Errorf("removing %s would leave no compute node: %w", scheduler.HostList(hosts), errNoComputeNode)
	}
	return nil
}

// Resume puts drained nodes back in service.
func (s *Slurm) Resume(ctx context.Context, c scheduler.Cluster, hosts []string) error {
	m, err := master(c)
	if err != nil {
		return err
	}
	return run(ctx, c, m.Name, nodeStateScript(hosts, "RESUME"))
}

// Running counts the CPUs allocated to jobs on each host (a completing job counts one).
func (s *Slurm) Running(ctx context.Context, c scheduler.Cluster, hosts []string) (map[string]int, error) {
	m, err := master(c)
	if err != nil {
		return nil, err
	}
	out, err := c.Shell(m.Name).Run(ctx, "scontrol -o show nodes")
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, h := range hosts {
		want[h] = true
	}
	used := map[string]int{}
	for _, n := range parseNodes(out) {
		if want[n.name] {
			used[n.name] = n.alloc
			if n.alloc == 0 && strings.Contains(n.state, "COMPLETING") {
				used[n.name] = 1
			}
		}
	}
	return used, nil
}

// RemoveHosts takes drained nodes out: the controller checks they run nothing (unless force,
// which sets them DOWN so Slurm requeues or ends their jobs), their slurmds stop, and their node
// lines leave slurm.conf in one change on the controller.
func (s *Slurm) RemoveHosts(ctx context.Context, c scheduler.Cluster, nodes []scheduler.Node, force bool) error {
	m, err := master(c)
	if err != nil {
		return err
	}
	names := scheduler.Names(nodes)
	if err := keepOne(ctx, c, m, names); err != nil {
		return err
	}
	if err := c.Step(ctx, fmt.Sprintf("Slurm: take %s out of service", scheduler.HostList(names)), func(ctx context.Context) error {
		return run(ctx, c, m.Name, retireScript(names, force))
	}); err != nil {
		return err
	}
	var alive []scheduler.Node
	for _, n := range nodes {
		if n.Running && !n.Master {
			alive = append(alive, n)
		}
	}
	if err := c.ForEach(ctx, "stop Slurm slurmd", alive, func(ctx context.Context, n scheduler.Node) error {
		return run(ctx, c, n.Name, "systemctl disable --quiet slurmd\nsystemctl stop slurmd")
	}); err != nil {
		return err
	}
	changed := false
	if err := c.Step(ctx, fmt.Sprintf("Slurm: remove the node lines of %s", scheduler.HostList(names)), func(ctx context.Context) error {
		current, err := readNodeLines(ctx, c.Shell(m.Name))
		if err != nil {
			return err
		}
		changed, err = s.configure(ctx, c, m, mergeNodes(current, nil, names))
		return err
	}); err != nil {
		return err
	}
	return reconfigure(ctx, c, m, changed)
}

// errNoComputeNode is Slurm 22.05's limit: slurmctld does not start without a node ("no nodes
// configured").
var errNoComputeNode = errors.New("slurmctld needs at least one compute node: add a worker, or set MASTER_IS_COMPUTE_NODE = true in the cluster's [plugin] with SETUP_CLASS = slurm")

// configure writes slurm.conf with these node lines and makes slurmctld run with it; changed
// says the file changed (and slurmctld restarted).
func (s *Slurm) configure(ctx context.Context, c scheduler.Cluster, m scheduler.Node, nodes []nodeLine) (changed bool, err error) {
	if len(nodes) == 0 {
		return false, errNoComputeNode
	}
	conf := config{Cluster: c.Tag(), Controller: m.Name, Nodes: nodes}
	out, err := c.Shell(m.Name).Run(ctx, controllerScript(conf.render()))
	if err != nil {
		return false, err
	}
	return strings.Contains(out, changedMarker), nil
}

// Stats runs StatsScript on the master and parses it.
func (s *Slurm) Stats(ctx context.Context, master scheduler.Shell, since time.Time) (scheduler.Stats, error) {
	out, err := master.Run(ctx, StatsScript())
	if err != nil {
		return scheduler.Stats{}, fmt.Errorf("read Slurm state: %w", err)
	}
	return ParseStats(out, since)
}
