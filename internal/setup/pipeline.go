package setup

import (
	"context"
	"errors"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// Step is one ordered, idempotent piece of setup.
type Step interface {
	Name() string
	Run(ctx context.Context, c *Cluster) error
}

// Plugin is a compiled-in setup plugin. Hooks run after the built-in setup (Run, OnAddNode),
// or before nodes go away (OnRemoveNode, OnRestart, OnShutdown, called in reverse plugin
// order). Embed Hooks to implement only what a plugin needs.
type Plugin interface {
	Name() string
	Run(ctx context.Context, c *Cluster) error
	OnAddNode(ctx context.Context, c *Cluster, nodes []*Node) error
	OnRemoveNode(ctx context.Context, c *Cluster, nodes []*Node) error
	OnRestart(ctx context.Context, c *Cluster) error
	OnShutdown(ctx context.Context, c *Cluster) error
}

// Hooks is a Plugin's optional hooks, doing nothing; embed it.
type Hooks struct{}

// OnAddNode does nothing.
func (Hooks) OnAddNode(context.Context, *Cluster, []*Node) error { return nil }

// OnRemoveNode does nothing.
func (Hooks) OnRemoveNode(context.Context, *Cluster, []*Node) error { return nil }

// OnRestart does nothing.
func (Hooks) OnRestart(context.Context, *Cluster) error { return nil }

// OnShutdown does nothing.
func (Hooks) OnShutdown(context.Context, *Cluster) error { return nil }

// Steps returns the built-in steps in order (DESIGN: setup pipeline).
func Steps() []Step {
	return []Step{waitSSH{}, hostnames{}, etcHosts{}, clusterUser{}, scratch{}, volumes{}, dataCopies{}, sharedFS{}, sshTrust{}}
}

// Run sets up the whole cluster: the built-in steps, the scheduler (unless it has none), then
// every plugin in order.
func Run(ctx context.Context, c *Cluster) error {
	if c.Master() == nil {
		return errNoMaster
	}
	for _, s := range Steps() {
		if err := s.Run(ctx, c); err != nil {
			return fmt.Errorf("%s: %w", s.Name(), err)
		}
	}
	if err := SetupScheduler(ctx, c); err != nil {
		return err
	}
	if err := installSpotWatch(ctx, c, c.Nodes); err != nil {
		return err
	}
	for _, p := range c.Plugins {
		if err := c.Step(ctx, "plugin "+p.Name(), func(ctx context.Context) error { return p.Run(ctx, c) }); err != nil {
			return fmt.Errorf("plugin %s: %w", p.Name(), err)
		}
	}
	return nil
}

// AddNodes brings new nodes (already in c.Nodes) into a set-up cluster: the new nodes get the
// full per-node setup; existing nodes only get the new hosts lines, known host keys and NFS
// exports (appended, never rewritten), and the scheduler registers the new hosts.
func AddNodes(ctx context.Context, c *Cluster, added []*Node) error {
	if len(added) == 0 {
		return nil
	}
	if c.Master() == nil {
		return errNoMaster
	}
	steps := []func(context.Context, *Cluster, []*Node) error{
		addWaitSSH, addHostnames, addEtcHosts, addClusterUser, addScratch, addDataCopies, addSharedFS, addSSHTrust,
	}
	for _, s := range steps {
		if err := s(ctx, c, added); err != nil {
			return err
		}
	}
	if c.Scheduler != nil {
		if err := c.Scheduler.AddHosts(ctx, c.SchedulerView(), schedNodes(added)); err != nil {
			return fmt.Errorf("%s: %w", c.Scheduler.Name(), err)
		}
	}
	if err := installSpotWatch(ctx, c, added); err != nil {
		return err
	}
	for _, p := range c.Plugins {
		if err := c.Step(ctx, "plugin "+p.Name()+" on new nodes", func(ctx context.Context) error { return p.OnAddNode(ctx, c, added) }); err != nil {
			return fmt.Errorf("plugin %s: %w", p.Name(), err)
		}
	}
	return nil
}

// SetupScheduler installs and configures the cluster's scheduler on every node (a no-op for a
// cluster without one).
func SetupScheduler(ctx context.Context, c *Cluster) error {
	if c.Scheduler == nil {
		return nil
	}
	if err := c.Scheduler.Setup(ctx, c.SchedulerView()); err != nil {
		return fmt.Errorf("%s: %w", c.Scheduler.Name(), err)
	}
	return nil
}

// RemoveNodes takes nodes out of a cluster before they go away: the scheduler drains them and
// waits until no job runs there (bounded by o.Timeout; a wait that gives up changes nothing),
// then plugins' OnRemoveNode run in reverse order, the scheduler removes the hosts, and the
// other nodes forget them (hosts lines, known host keys, NFS exports). With o.Force nothing
// waits, jobs still running there are ended, and plugin failures do not stop it. c.Nodes must
// still include the nodes being removed.
func RemoveNodes(ctx context.Context, c *Cluster, gone []*Node, o scheduler.DrainOptions) error {
	if len(gone) == 0 {
		return nil
	}
	if c.Scheduler != nil {
		if err := scheduler.DrainAndWait(ctx, c.Scheduler, c.SchedulerView(), schedNodes(gone), o); err != nil {
			return err
		}
	}
	var errs []error
	for i := len(c.Plugins) - 1; i >= 0; i-- {
		p := c.Plugins[i]
		err := c.Step(ctx, "plugin "+p.Name()+" on removed nodes", func(ctx context.Context) error { return p.OnRemoveNode(ctx, c, gone) })
		if err != nil && !o.Force {
			return fmt.Errorf("plugin %s: %w (use --force to remove anyway)", p.Name(), err)
		}
		errs = append(errs, err)
	}
	if c.Scheduler != nil {
		// A node that is not running can finish nothing: its jobs are ended, whatever force.
		var alive, dead []*Node
		for _, n := range gone {
			if n.State == cloud.StateRunning {
				alive = append(alive, n)
			} else {
				dead = append(dead, n)
			}
		}
		for _, group := range []struct {
			nodes []*Node
			force bool
		}{{dead, true}, {alive, o.Force}} {
			if len(group.nodes) == 0 {
				continue
			}
			if err := c.Scheduler.RemoveHosts(ctx, c.SchedulerView(), schedNodes(group.nodes), group.force); err != nil {
				return fmt.Errorf("%s: %w", c.Scheduler.Name(), err)
			}
		}
	}
	remaining := without(c.Nodes, gone)
	if err := forgetNodes(ctx, c, remaining, gone); err != nil {
		return err
	}
	c.Nodes = remaining
	if o.Force {
		return nil
	}
	return errors.Join(errs...)
}

// without returns nodes minus the ones in gone (by instance id).
func without(nodes, gone []*Node) []*Node {
	drop := map[string]bool{}
	for _, n := range gone {
		drop[n.ID] = true
	}
	var out []*Node
	for _, n := range nodes {
		if !drop[n.ID] {
			out = append(out, n)
		}
	}
	return out
}
