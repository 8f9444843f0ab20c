package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clusterctl/clusterctl/internal/balancer"
	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// Balanced is a cluster as the balancer sees it: scheduler statistics over SSH to the master,
// the provider's instances, and actions through the same engine paths as addnode, removenode
// and terminate.
type Balanced struct {
	e        *Engine
	tag      string
	so       SetupOptions
	lookback time.Duration
	pool     *remote.Pool
	// cluster is the cluster as Balanced found it, whose group decides membership.
	cluster cloud.Cluster
	sched   scheduler.Scheduler
	// DrainTimeout bounds how long a removal waits for jobs on the nodes it drains; a wait
	// that times out puts them back in service and the next iteration decides again.
	DrainTimeout time.Duration
}

var (
	_ balancer.StatsSource = (*Balanced)(nil)
	_ balancer.NodeLister  = (*Balanced)(nil)
	_ balancer.Actuator    = (*Balanced)(nil)
)

// Balanced prepares a cluster for the balancer; Close releases its connections.
func (e *Engine) Balanced(ctx context.Context, tag string, so SetupOptions, lookback time.Duration) (*Balanced, Record, error) {
	acc, err := e.Access(ctx, tag, so.KeyFile)
	if err != nil {
		return nil, Record{}, err
	}
	sched, err := acc.Record.NewScheduler()
	if err != nil {
		return nil, Record{}, err
	}
	if sched == nil {
		return nil, Record{}, fmt.Errorf("cluster %s has no scheduler (SCHEDULER = none): there is no queue to balance by", tag)
	}
	opts := acc.Options()
	opts.ReadyTimeout = time.Minute
	return &Balanced{e: e, tag: tag, so: so, lookback: lookback, pool: remote.NewPool(opts), cluster: acc.Cluster, sched: sched}, acc.Record, nil
}

// Close closes the connections to the master.
func (b *Balanced) Close() error { return b.pool.Close() }

// Stats reads the scheduler's state on the master (one SSH command).
func (b *Balanced) Stats(ctx context.Context) (scheduler.Stats, error) {
	acc, err := b.e.Access(ctx, b.tag, b.so.KeyFile)
	if err != nil {
		return scheduler.Stats{}, err
	}
	m, err := acc.Master()
	if err != nil {
		return scheduler.Stats{}, err
	}
	t, err := acc.Target(m, "")
	if err != nil {
		return scheduler.Stats{}, err
	}
	client, err := b.pool.Get(ctx, t)
	if err != nil {
		return scheduler.Stats{}, err
	}
	master := scheduler.ShellFunc(func(ctx context.Context, script string) (string, error) {
		res, err := client.RunWith(ctx, script, remote.RunOpts{Sudo: true})
		return res.Stdout, err
	})
	return b.sched.Stats(ctx, master, b.e.now().Add(-b.lookback))
}

// Nodes lists the cluster's machines.
func (b *Balanced) Nodes(ctx context.Context) ([]balancer.Node, error) {
	insts, err := b.e.instances(ctx, b.tag, &b.cluster)
	if err != nil {
		return nil, err
	}
	return balancer.NodesFromInstances(insts), nil
}

// AddNodes adds k nodes as addnode does, spot at spotBid when it is above 0.
func (b *Balanced) AddNodes(ctx context.Context, k int, spotBid float64) error {
	o := AddOptions{Count: k}
	if spotBid > 0 {
		o.Bid = &spotBid
	}
	_, err := b.e.AddNodes(ctx, b.tag, o, b.so)
	return err
}

// RemoveNodes removes idle nodes as removenode does: the scheduler drains them first and the
// removal waits (up to DrainTimeout) until no job runs there, so a job that started since the
// balancer looked is never killed.
func (b *Balanced) RemoveNodes(ctx context.Context, aliases []string) error {
	_, err := b.e.RemoveNodes(ctx, b.tag, RemoveOptions{Aliases: aliases, DrainTimeout: b.DrainTimeout}, b.so)
	return err
}

// RemoveFromScheduler forgets vanished nodes: those still listed as instances go through
// removenode (forced: they cannot answer), the rest only leave the scheduler and the other
// nodes' files.
func (b *Balanced) RemoveFromScheduler(ctx context.Context, aliases []string) error {
	insts, err := b.e.instances(ctx, b.tag, &b.cluster)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for _, in := range insts {
		listed[in.Alias] = true
	}
	var known, unknown []string
	for _, a := range aliases {
		if listed[a] {
			known = append(known, a)
		} else {
			unknown = append(unknown, a)
		}
	}
	var errs []error
	if len(known) > 0 {
		_, err := b.e.RemoveNodes(ctx, b.tag, RemoveOptions{Aliases: known, Force: true}, b.so)
		errs = append(errs, err)
	}
	if len(unknown) > 0 {
		errs = append(errs, b.e.forgetVanished(ctx, b.tag, unknown, b.so))
	}
	return errors.Join(errs...)
}

// Terminate ends the cluster (-K).
func (b *Balanced) Terminate(ctx context.Context) error {
	_ = b.e.Shutdown(ctx, b.tag, b.so)
	return b.e.Terminate(ctx, b.tag)
}

// forgetVanished removes hosts that no longer have an instance from the scheduler and the
// other nodes' files.
func (e *Engine) forgetVanished(ctx context.Context, tag string, aliases []string, so SetupOptions) error {
	s, err := e.openSession(ctx, tag, so)
	if err != nil {
		return err
	}
	defer s.close()
	var gone []*setup.Node
	for _, a := range aliases {
		gone = append(gone, &setup.Node{Instance: cloud.Instance{Alias: a, State: cloud.StateTerminated}})
	}
	s.c.Nodes = append(s.c.Nodes, gone...)
	if err := setup.RemoveNodes(ctx, s.c, gone, scheduler.DrainOptions{Force: true}); err != nil {
		return fmt.Errorf("forget vanished nodes %v: %w", aliases, err)
	}
	return nil
}
