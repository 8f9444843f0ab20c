package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/balancer"
	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/scheduler"
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
	// replace holds the settings of vanished nodes this balancer cleaned up after, so the
	// nodes it adds next take their places with the same type, image and spot bid.
	replace []AddOptions
	// unfinished holds the nodes an AddNodes launched whose setup failed, with the number of
	// setups tried on each; FinishNodes tries again and, past FinishAttempts, removes them.
	unfinished map[string]int
}

// FinishAttempts bounds how often the balancer sets up a node it launched before it gives up
// on the node and removes it (a node whose setup keeps failing is broken, not late).
const FinishAttempts = 3

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

// AddNodes adds k nodes as addnode does, spot at spotBid when it is above 0. Vanished nodes
// the balancer cleaned up after are replaced first, with their own settings.
func (b *Balanced) AddNodes(ctx context.Context, k int, spotBid float64) error {
	for k > 0 && len(b.replace) > 0 {
		o := b.replace[0]
		n := min(k, len(o.Aliases))
		batch := o
		batch.Aliases, batch.Count = o.Aliases[:n], n
		_, err := b.e.AddNodes(ctx, b.tag, batch, b.so)
		if err != nil && !b.launched(err) {
			return err
		}
		// Launched: those aliases are taken now, finished or not.
		if b.replace[0].Aliases = o.Aliases[n:]; len(b.replace[0].Aliases) == 0 {
			b.replace = b.replace[1:]
		}
		if err != nil {
			return err
		}
		k -= n
	}
	if k == 0 {
		return nil
	}
	o := AddOptions{Count: k}
	if spotBid > 0 {
		o.Bid = &spotBid
	}
	_, err := b.e.AddNodes(ctx, b.tag, o, b.so)
	b.launched(err)
	return err
}

// launched remembers the nodes of a failed add that exist (an *AddError) as unfinished, and
// reports whether there were any.
func (b *Balanced) launched(err error) bool {
	var ae *AddError
	if !errors.As(err, &ae) || len(ae.Aliases) == 0 {
		return false
	}
	if b.unfinished == nil {
		b.unfinished = map[string]int{}
	}
	for _, a := range ae.Aliases {
		b.unfinished[a]++
	}
	return true
}

// FinishNodes sets up again the nodes an earlier AddNodes launched but could not set up, as
// `addnode -x` does, so a node whose setup failed (a step that hit a transient fault) becomes
// a scheduler host instead of an idle machine the balancer counts. A node that failed
// FinishAttempts setups is removed instead (forced: it is no scheduler host to drain), and one
// that is gone is forgotten (the vanished-host cleanup covers it). It says what it did.
func (b *Balanced) FinishNodes(ctx context.Context) (string, error) {
	if len(b.unfinished) == 0 {
		return "", nil
	}
	insts, err := b.e.instances(ctx, b.tag, &b.cluster)
	if err != nil {
		return "", err
	}
	state := map[string]cloud.Instance{}
	for _, in := range insts {
		state[in.Alias] = in
	}
	var finish, remove []string
	for _, a := range slices.Sorted(maps.Keys(b.unfinished)) {
		in, ok := state[a]
		switch {
		case !ok || !in.Alive():
			delete(b.unfinished, a)
		case in.State != cloud.StateRunning: // still booting: next iteration
		case b.unfinished[a] >= FinishAttempts:
			remove = append(remove, a)
		default:
			finish = append(finish, a)
		}
	}
	var did []string
	var errs []error
	if len(remove) > 0 {
		_, err := b.e.RemoveNodes(ctx, b.tag, RemoveOptions{Aliases: remove, Force: true}, b.so)
		if err == nil {
			for _, a := range remove {
				delete(b.unfinished, a)
			}
			did = append(did, fmt.Sprintf("removed %s: setup failed %d times", strings.Join(remove, ", "), FinishAttempts))
		}
		errs = append(errs, err)
	}
	if len(finish) > 0 {
		_, err := b.e.AddNodes(ctx, b.tag, AddOptions{Aliases: finish, NoCreate: true}, b.so)
		for _, a := range finish {
			if err == nil {
				delete(b.unfinished, a)
			} else {
				b.unfinished[a]++
			}
		}
		if err == nil {
			did = append(did, "finished the setup of "+strings.Join(finish, ", "))
		}
		errs = append(errs, err)
	}
	return strings.Join(did, "; "), errors.Join(errs...)
}

// RemoveNodes removes idle nodes as removenode does: the scheduler drains them first and the
// removal waits (up to DrainTimeout) until no job runs there, so a job that started since the
// balancer looked is never killed.
func (b *Balanced) RemoveNodes(ctx context.Context, aliases []string) error {
	_, err := b.e.RemoveNodes(ctx, b.tag, RemoveOptions{Aliases: aliases, DrainTimeout: b.DrainTimeout}, b.so)
	return err
}

// RemoveFromScheduler cleans up after vanished nodes as repair does (their jobs requeued), and
// remembers their settings for the next nodes added. A host the scheduler finds unreachable
// whose instance still runs goes through removenode (forced: it cannot answer).
func (b *Balanced) RemoveFromScheduler(ctx context.Context, aliases []string) error {
	insts, err := b.e.instances(ctx, b.tag, &b.cluster)
	if err != nil {
		return err
	}
	running := map[string]bool{}
	for _, in := range insts {
		running[in.Alias] = in.State == cloud.StateRunning
	}
	var unreachable, vanished []string
	for _, a := range aliases {
		if running[a] {
			unreachable = append(unreachable, a)
		} else {
			vanished = append(vanished, a)
		}
	}
	var errs []error
	if len(unreachable) > 0 {
		_, err := b.e.RemoveNodes(ctx, b.tag, RemoveOptions{Aliases: unreachable, Force: true}, b.so)
		errs = append(errs, err)
	}
	if len(vanished) > 0 {
		res, err := b.e.Repair(ctx, b.tag, RepairOptions{Aliases: vanished}, b.so)
		if res != nil {
			b.replace = append(b.replace, replacements(res.Removed)...)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Terminate ends the cluster (-K).
func (b *Balanced) Terminate(ctx context.Context) error {
	_ = b.e.Shutdown(ctx, b.tag, b.so)
	return b.e.Terminate(ctx, b.tag)
}
