// Package scheduler is what clusterctl knows of a batch scheduler without knowing which one: the
// Scheduler interface every scheduler implements (Grid Engine in sge/, Slurm in slurm/), the
// view of the cluster a scheduler works on (Cluster, Node), the statistics the balancer reads
// (Stats), and the drain that comes before every removal (Remove). Choosing a scheduler is a
// lookup in the registry/ package; nothing outside this tree names a scheduler's commands.
package scheduler

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// Scheduler is a batch scheduler clusterctl installs on a cluster and keeps in step with its
// nodes. Changes on the master are batched: adding or removing any number of hosts costs O(1)
// commands on the master.
type Scheduler interface {
	// Name is how status lines and errors name it ("Grid Engine", "Slurm").
	Name() string
	// Setup installs and configures the scheduler on every node of c. It is idempotent: a
	// rerun (start -x, restart) converges without disturbing running jobs.
	Setup(ctx context.Context, c Cluster) error
	// AddHosts brings new nodes (already in c.Nodes, set up by the other steps) into a running
	// scheduler.
	AddHosts(ctx context.Context, c Cluster, nodes []Node) error
	// Drain stops new jobs from starting on hosts; jobs running there go on.
	Drain(ctx context.Context, c Cluster, hosts []string) error
	// Resume undoes Drain, for a removal that gave up waiting.
	Resume(ctx context.Context, c Cluster, hosts []string) error
	// Running counts the jobs (array tasks, parallel slots) running on each of hosts; hosts the
	// scheduler no longer knows count 0.
	Running(ctx context.Context, c Cluster, hosts []string) (map[string]int, error)
	// RemoveHosts takes drained hosts out of the scheduler. It checks once more that they run
	// nothing and fails with the scheduler's own message when one does, unless force, which
	// ends their jobs first. Nodes that are not running (a vanished spot node) only leave the
	// master's lists, and the jobs the scheduler still counts there are requeued to run on
	// another host.
	RemoveHosts(ctx context.Context, c Cluster, nodes []Node, force bool) error
	// Stats reads hosts, jobs and the jobs finished since then from the master, in one round
	// trip, for the balancer.
	Stats(ctx context.Context, master Shell, since time.Time) (Stats, error)
	// Commands names the commands users run, for plugins' profiles and messages.
	Commands() Commands
}

// Commands are a scheduler's user commands, so plugins and messages need not know which
// scheduler runs.
type Commands struct {
	// Submit queues a batch script.
	Submit string
	// Queue lists every user's jobs.
	Queue string
	// Hosts lists the execution hosts with their state.
	Hosts string
	// Cancel removes a job.
	Cancel string
	// DrainSelf, run as root on a node, stops new jobs from starting on that node (running
	// ones go on): what a spot node does when EC2 gives notice that it takes it back.
	DrainSelf string
}

// Node is a machine of the cluster as a scheduler sees it.
type Node struct {
	// Name is the node's alias, its host name in the cluster.
	Name string
	// Master is true for the cluster's master (the scheduler's controller).
	Master bool
	// Running is false for a node whose machine is gone (a vanished spot node): it can only be
	// forgotten, not reached.
	Running bool
	// CPUs and Memory (bytes) are what the node's instance type offers, 0 when the provider
	// cannot tell (the scheduler then measures the node).
	CPUs   int
	Memory int64
}

// User is the cluster user jobs run as.
type User struct {
	Name     string
	UID, GID int
}

// Shell runs a script as root on one host and returns its standard output. A non-zero exit is
// an error naming the host, the script, its exit status and the tail of its output.
type Shell interface {
	Run(ctx context.Context, script string) (string, error)
}

// ShellFunc makes a function a Shell.
type ShellFunc func(ctx context.Context, script string) (string, error)

// Run calls f.
func (f ShellFunc) Run(ctx context.Context, script string) (string, error) { return f(ctx, script) }

// Cluster is what a scheduler needs of the cluster it runs on: its nodes, its user, root shells
// on its nodes, file uploads, and status lines for its steps. internal/setup provides it.
type Cluster interface {
	// Tag is the cluster's name.
	Tag() string
	// Nodes are the running nodes, master first; during a removal they include the nodes
	// being removed.
	Nodes() []Node
	// User is the cluster user.
	User() User
	// Shell is a root shell on the node named host.
	Shell(host string) Shell
	// WriteFile writes data to path on host over SFTP, atomically, with mode and owner
	// ("user:group").
	WriteFile(ctx context.Context, host, path string, data []byte, mode fs.FileMode, owner string) error
	// ForEach runs fn on every node at once (bounded) as one status line; every failure is
	// reported with its host.
	ForEach(ctx context.Context, name string, nodes []Node, fn func(context.Context, Node) error) error
	// Step runs fn as one status line.
	Step(ctx context.Context, name string, fn func(context.Context) error) error
}

// Master returns the master among nodes, and false when there is none.
func Master(nodes []Node) (Node, bool) {
	for _, n := range nodes {
		if n.Master {
			return n, true
		}
	}
	return Node{}, false
}

// JobNodes are the nodes that run jobs: every node but the master, and the master too when
// masterRuns (Grid Engine's master_is_exec_host, Slurm's master_is_compute_node).
func JobNodes(nodes []Node, masterRuns bool) []Node {
	var out []Node
	for _, n := range nodes {
		if !n.Master || masterRuns {
			out = append(out, n)
		}
	}
	return out
}

// Names lists the nodes' names.
func Names(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

// HostList names hosts for a status line: all of them when they are few, else how many.
func HostList(hosts []string) string {
	if len(hosts) > 4 {
		return fmt.Sprintf("%d hosts", len(hosts))
	}
	return strings.Join(hosts, ", ")
}
