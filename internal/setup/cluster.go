// Package setup turns launched machines into a working cluster: ordered, idempotent steps (host
// names, /etc/hosts, the cluster user, scratch, volumes, NFS, SSH trust), then the scheduler,
// then plugins. Per-node work fans out through the remote package; every step can run again
// with the same result, so resume, restart and reruns after a failure all converge.
package setup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// Node is one running instance of the cluster and how to reach it.
type Node struct {
	cloud.Instance
	Target remote.Target
	// CPUs and Memory (bytes) are what the node's instance type offers, from the provider; 0
	// when it cannot tell.
	CPUs   int
	Memory int64
}

// Name is the node's alias, its host name in the cluster.
func (n *Node) Name() string { return n.Alias }

// IsMaster reports whether the node is the cluster's master.
func (n *Node) IsMaster() bool { return n.Role == cloud.RoleMaster }

// Volume is a volume the master mounts and shares.
type Volume struct {
	ID        string
	Name      string
	MountPath string
	// Device is the name it was attached as (/dev/sdz); Nitro instances show it as NVMe,
	// found by volume id instead.
	Device    string
	Partition int
	// Format asks for a filesystem when the device has none (createvolume tagged it).
	Format bool
}

// Cluster is what every step works on: the nodes, the settings from the recorded template,
// and the means to reach nodes and report progress.
type Cluster struct {
	Tag   string
	Nodes []*Node // every running node, master first

	User  string // the cluster user
	Shell string
	// UserKeys are public keys (the user's own KEY_LOCATION) that may log in as the cluster
	// user, so `sshmaster -u USER` works.
	UserKeys []string
	Volumes  []Volume
	// Copies are the volumes every node has a copy of its own (SHARE = copy); CopyIDs maps
	// CopyKey(instance, device) to the copy's volume id.
	Copies  []Copy
	CopyIDs map[string]string
	// SharedFS means the provider already shares /home and volume paths (local bind
	// mounts): the volume and NFS steps have nothing to do.
	SharedFS bool
	// HostKeys maps alias to the public host key clusterctl generated, for known_hosts
	// inside the cluster (no scanning).
	HostKeys map[string]string
	// Scheduler is the cluster's batch scheduler; nil when it has none (SCHEDULER = none).
	Scheduler scheduler.Scheduler
	Plugins   []Plugin

	// Region names where the cluster runs (an EC2 region, or "local"), for files plugins save
	// on this machine (ipcluster's <cluster>-<region>.json).
	Region string
	// LocalDir is clusterctl's directory on this machine (~/.clusterctl), where plugins save
	// files for the user.
	LocalDir string

	// SpotMetadata is the instance metadata service spot nodes ask for EC2's interruption
	// notice (their watcher drains them in the scheduler); empty when there is none (local).
	SpotMetadata string

	// Diagnose, when set, says why a node does not answer (its console, its boot state); a
	// failed wait for SSH carries it.
	Diagnose func(ctx context.Context, n *Node) string
	// LastRetry, when set, says why the last attempt to connect to a node failed, for the
	// status line of a wait for SSH.
	LastRetry func(alias string) string

	Pool        *remote.Pool
	Concurrency int
	Status      *ui.Status
	Log         *slog.Logger

	// uid and gid of the cluster user, decided by the user step.
	UID, GID int
}

// Master returns the master node.
func (c *Cluster) Master() *Node {
	for _, n := range c.Nodes {
		if n.IsMaster() {
			return n
		}
	}
	return nil
}

// Workers returns every node but the master.
func (c *Cluster) Workers() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if !n.IsMaster() {
			out = append(out, n)
		}
	}
	return out
}

// Sudo runs a shell script as root on a node (through sudo when the login user is not root) and
// returns its result; a non-zero exit is a *remote.RemoteError naming host, command and output.
//
// Every script run this way must be idempotent (setup's steps, the scheduler's, plugins'), so
// a connection lost while one ran is made again and the script run again, up to
// SudoAttempts times; a script that must not run twice uses SudoOnce.
func (c *Cluster) Sudo(ctx context.Context, n *Node, script string) (remote.Result, error) {
	for attempt := 1; ; attempt++ {
		res, err := c.SudoOnce(ctx, n, script)
		var lost *remote.ConnectionLostError
		if !errors.As(err, &lost) || attempt >= SudoAttempts || ctx.Err() != nil {
			return res, err
		}
		if c.Log != nil {
			c.Log.Warn("connection lost during a step; connecting again to run it again", "node", n.Alias, "attempt", attempt, "error", err.Error())
		}
	}
}

// SudoAttempts bounds how often Sudo runs a script whose connection was lost.
const SudoAttempts = 3

// SudoOnce is Sudo for a script that must not run twice: a connection lost while it ran is a
// *remote.ConnectionLostError saying it may or may not have finished.
func (c *Cluster) SudoOnce(ctx context.Context, n *Node, script string) (remote.Result, error) {
	client, err := c.Client(ctx, n)
	if err != nil {
		return remote.Result{}, err
	}
	return client.RunWith(ctx, script, remote.RunOpts{Sudo: true})
}

// Client returns the node's pooled connection. A node being removed whose machine is gone
// has no address: asking for it fails at once.
func (c *Cluster) Client(ctx context.Context, n *Node) (*remote.Client, error) {
	if n.Target.Addr == "" {
		return nil, fmt.Errorf("%s (%s) cannot be reached: its machine is %s", n.Alias, n.ID, n.State)
	}
	return c.Pool.Get(ctx, n.Target)
}

// Reachable keeps the nodes that have an address to connect to: not the vanished ones a
// removal forgets.
func Reachable(nodes []*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if n.Target.Addr != "" {
			out = append(out, n)
		}
	}
	return out
}

// ForEach runs fn on every node in nodes at once (bounded by Concurrency) as one status line
// with a node count; every failure is reported, prefixed with its host.
func (c *Cluster) ForEach(ctx context.Context, name string, nodes []*Node, fn func(context.Context, *Node) error) error {
	return c.ForEachShown(ctx, name, nodes, func(ctx context.Context, n *Node, _ func(string)) error { return fn(ctx, n) })
}

// ForEachShown is ForEach where fn can show a line of progress (a script's latest output, the
// nodes still awaited) on the step's status line, and without a terminal every
// ui.ReportInterval.
func (c *Cluster) ForEachShown(ctx context.Context, name string, nodes []*Node, fn func(context.Context, *Node, func(string)) error) error {
	if len(nodes) == 0 {
		return nil
	}
	return c.step(ctx, name, func(ctx context.Context, st *ui.Step) error {
		show := func(string) {}
		if st != nil {
			st.Count(0, len(nodes))
			show = st.Report
		}
		return remote.FanOut(ctx, nodes, (*Node).Name, remote.FanOutOpts{Concurrency: c.Concurrency,
			OnDone: func(done, total int, _ string, _ error) {
				if st != nil {
					st.Count(done, total)
				}
			}}, func(ctx context.Context, n *Node) error { return fn(ctx, n, show) })
	})
}

// Step runs fn as one status line.
func (c *Cluster) Step(ctx context.Context, name string, fn func(context.Context) error) error {
	return c.step(ctx, name, func(ctx context.Context, _ *ui.Step) error { return fn(ctx) })
}

func (c *Cluster) step(ctx context.Context, name string, fn func(context.Context, *ui.Step) error) error {
	if c.Status == nil {
		return fn(ctx, nil)
	}
	return c.Status.Run(ctx, name, fn)
}

// nodeNames lists the aliases of nodes.
func nodeNames(nodes []*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Alias
	}
	return out
}

// errNoMaster is returned by steps that need a master when the cluster has none running.
var errNoMaster = fmt.Errorf("the cluster has no running master")
