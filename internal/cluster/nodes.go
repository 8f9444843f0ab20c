package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/internal/setup"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// AddOptions say which nodes addnode adds.
type AddOptions struct {
	Count   int
	Aliases []string
	// Bid launches the nodes as spot at this price; nil keeps the cluster's own bid, if any.
	Bid *float64
	// Type and Image override the cluster's default worker type and image.
	Type, Image string
	// Zone launches the nodes in this availability zone instead of the master's.
	Zone string
	// NoCreate sets up existing instances (named by Aliases) instead of launching new ones.
	NoCreate bool
	// CreateOnly launches the nodes without setting them up (addnode -o; addnode -x sets them
	// up later).
	CreateOnly bool
}

// AddNodes launches nodes and brings them into the cluster through setup's on-add path, which
// changes existing nodes only by appending what the new nodes need. It returns the aliases.
func (e *Engine) AddNodes(ctx context.Context, tag string, o AddOptions, so SetupOptions) ([]string, error) {
	unlock, err := e.lockExisting(ctx, tag)
	if err != nil {
		return nil, err
	}
	defer unlock()
	acc, err := e.Access(ctx, tag, so.KeyFile)
	if err != nil {
		return nil, err
	}
	aliases, err := newAliases(acc, o)
	if err != nil {
		return nil, err
	}
	if !o.NoCreate {
		rec := acc.Record
		g := Group{Role: cloud.RoleNode, Type: o.Type, Image: o.Image, Aliases: aliases}
		if g.Type == "" {
			g.Type = defaultNodeType(rec)
		}
		if g.Image == "" {
			g.Image = rec.NodeImage
		}
		if o.Bid != nil {
			rec.SpotBid = o.Bid
		}
		if o.Zone != "" {
			rec.Zone = o.Zone
		}
		g.Spot = rec.SpotBid != nil
		cl, err := e.Provider.GetCluster(ctx, tag)
		if err != nil {
			return nil, err
		}
		plan := Plan{Tag: tag, Record: rec}
		if _, err := e.launch(ctx, cl, plan, []Group{g}, rec.bootConfig(acc.userKeys()), nil); err != nil {
			return nil, e.addError(ctx, tag, aliases, err)
		}
		if o.CreateOnly {
			return aliases, nil
		}
	}
	s, err := e.openSession(ctx, tag, so)
	if err != nil {
		return nil, &AddError{Tag: tag, Aliases: aliases, Err: err}
	}
	defer s.close()
	want := map[string]bool{}
	for _, a := range aliases {
		want[a] = true
	}
	var added []*setup.Node
	for _, n := range s.c.Nodes {
		if want[n.Alias] {
			added = append(added, n)
		}
	}
	if len(added) != len(aliases) {
		return nil, &AddError{Tag: tag, Aliases: aliases, Err: fmt.Errorf("only %d of the nodes %v are running", len(added), aliases)}
	}
	if err := setup.AddNodes(ctx, s.c, added); err != nil {
		return nil, &AddError{Tag: tag, Aliases: aliases, Err: err}
	}
	return aliases, nil
}

// addError is a launch for addnode that failed: an *AddError when some of the nodes exist
// (to finish or remove them), the error alone when none does.
func (e *Engine) addError(ctx context.Context, tag string, aliases []string, err error) error {
	insts, lerr := e.instances(context.WithoutCancel(ctx), tag, nil)
	if lerr != nil {
		return err
	}
	var launched []string
	for _, in := range insts {
		if slices.Contains(aliases, in.Alias) && in.Alive() {
			launched = append(launched, in.Alias)
		}
	}
	if len(launched) == 0 {
		return err
	}
	return &AddError{Tag: tag, Aliases: launched, Err: err}
}

// userKeys is the user's public key, for instances that install it at boot (local).
func (a *Access) userKeys() []string {
	if pub, err := AuthorizedKey(a.KeyFile); err == nil && pub != "" {
		return []string{pub}
	}
	return nil
}

func defaultNodeType(r Record) string {
	for _, s := range r.NodeTypes {
		if s.Count == 0 {
			return s.Type
		}
	}
	return r.MasterType
}

// newAliases checks the requested aliases, or numbers new ones after the highest existing.
func newAliases(acc *Access, o AddOptions) ([]string, error) {
	existing := map[string]bool{}
	var names []string
	for _, in := range acc.Instances {
		existing[in.Alias] = true
		names = append(names, in.Alias)
	}
	if len(o.Aliases) == 0 {
		if o.NoCreate {
			return nil, errors.New("addnode -x sets up existing instances: name them with -a")
		}
		if o.Count < 1 {
			return nil, errors.New("add at least one node")
		}
		return NextAliases(names, o.Count, acc.Tag, acc.Record.DNSPrefix), nil
	}
	if o.Count > 0 && o.Count != len(o.Aliases) {
		return nil, fmt.Errorf("-n %d does not match the %d aliases given", o.Count, len(o.Aliases))
	}
	seen := map[string]bool{}
	for _, a := range o.Aliases {
		switch {
		case isMaster(a):
			return nil, fmt.Errorf("%s is reserved for the master", a)
		case seen[a]:
			return nil, fmt.Errorf("alias %s given twice", a)
		case !hostnameRE.MatchString(a):
			return nil, fmt.Errorf("alias %s is not a valid host name", a)
		case existing[a] && !o.NoCreate:
			return nil, fmt.Errorf("cluster %s already has a node %s", acc.Tag, a)
		case !existing[a] && o.NoCreate:
			return nil, fmt.Errorf("cluster %s has no instance %s to set up", acc.Tag, a)
		}
		seen[a] = true
	}
	return o.Aliases, nil
}

// RemoveOptions say which nodes removenode removes.
type RemoveOptions struct {
	Count   int
	Aliases []string
	// KeepInstance leaves the instances running, out of the cluster.
	KeepInstance bool
	// Force removes nodes at once, ending the jobs still running there, even when a plugin's
	// on-remove hook fails.
	Force bool
	// DrainTimeout bounds the wait for running jobs on the drained nodes (default
	// scheduler.DefaultDrainTimeout); a wait that times out removes nothing.
	DrainTimeout time.Duration
}

// RemoveNodes takes nodes out of the cluster (plugins, scheduler, hosts, known hosts and
// exports forget them) and terminates them. Without aliases it removes the Count highest
// numbered workers. The master is never removed. It returns the aliases removed.
func (e *Engine) RemoveNodes(ctx context.Context, tag string, o RemoveOptions, so SetupOptions) ([]string, error) {
	s, err := e.lockedSession(ctx, tag, so)
	if err != nil {
		return nil, err
	}
	defer s.close()
	gone, err := pickRemovals(s.acc, o)
	if err != nil {
		return nil, err
	}
	var goneNodes []*setup.Node
	byAlias := map[string]*setup.Node{}
	for _, n := range s.c.Nodes {
		byAlias[n.Alias] = n
	}
	for _, in := range gone {
		if n, ok := byAlias[in.Alias]; ok {
			goneNodes = append(goneNodes, n)
		} else {
			// Not running (vanished spot node): nothing to talk to, but it must still
			// leave the scheduler and the other nodes' files.
			goneNodes = append(goneNodes, &setup.Node{Instance: in})
			s.c.Nodes = append(s.c.Nodes, goneNodes[len(goneNodes)-1])
		}
	}
	if err := setup.RemoveNodes(ctx, s.c, goneNodes, scheduler.DrainOptions{Force: o.Force, Timeout: o.DrainTimeout}); err != nil {
		return nil, err
	}
	aliases := make([]string, len(gone))
	ids := make([]string, len(gone))
	var forget []string
	for i, in := range gone {
		aliases[i], ids[i] = in.Alias, in.ID
		forget = append(forget, in.Alias, in.PrivateIP, in.PublicIP)
	}
	if !o.KeepInstance {
		if err := e.step(ctx, fmt.Sprintf("terminate %d instances", len(ids)), func(ctx context.Context, _ *ui.Step) error {
			return e.Provider.Terminate(ctx, ids)
		}); err != nil {
			return nil, err
		}
	}
	if err := e.KnownHosts(tag).Forget(nonEmpty(forget)); err != nil {
		e.log().Warn("could not forget host keys", "error", err)
	}
	return aliases, nil
}

// pickRemovals resolves the nodes to remove.
func pickRemovals(acc *Access, o RemoveOptions) ([]cloud.Instance, error) {
	if len(o.Aliases) > 0 {
		var out []cloud.Instance
		for _, a := range o.Aliases {
			in, err := acc.Find(a)
			if err != nil {
				return nil, err
			}
			if in.Role == cloud.RoleMaster {
				return nil, fmt.Errorf("%s is the master, which is never removed (terminate removes the whole cluster)", in.Alias)
			}
			out = append(out, in)
		}
		return out, nil
	}
	n := max(o.Count, 1)
	var workers []cloud.Instance
	for _, in := range acc.Instances {
		if in.Role != cloud.RoleMaster {
			workers = append(workers, in)
		}
	}
	if n > len(workers) {
		return nil, fmt.Errorf("cluster %s has %d worker nodes; cannot remove %d (the master is never removed)", acc.Tag, len(workers), n)
	}
	sort.SliceStable(workers, func(i, j int) bool { return cloud.AliasLess(workers[j].Alias, workers[i].Alias) })
	return workers[:n], nil
}

func nonEmpty(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// Restart reboots every node and runs the whole setup again: plugins' OnRestart first (in
// reverse), then the reboot, the wait for running and SSH, and setup. rebootOnly stops after
// the instances run again (restart -o).
func (e *Engine) Restart(ctx context.Context, tag string, so SetupOptions, rebootOnly bool) error {
	unlock, err := e.lockExisting(ctx, tag)
	if err != nil {
		return err
	}
	defer unlock() // held through the reboot and the setup after it
	s, err := e.openSession(ctx, tag, so)
	if err != nil {
		return err
	}
	for i := len(s.c.Plugins) - 1; i >= 0; i-- {
		p := s.c.Plugins[i]
		if err := s.c.Step(ctx, "plugin "+p.Name()+" before restart", func(ctx context.Context) error { return p.OnRestart(ctx, s.c) }); err != nil {
			s.close()
			return err
		}
	}
	ids := make([]string, 0, len(s.c.Nodes))
	for _, n := range s.c.Nodes {
		ids = append(ids, n.ID)
	}
	cl := s.acc.Cluster
	s.close()
	if err := e.step(ctx, fmt.Sprintf("reboot %d instances", len(ids)), func(ctx context.Context, _ *ui.Step) error {
		return e.Provider.Reboot(ctx, ids)
	}); err != nil {
		return err
	}
	if _, err := e.waitRunning(ctx, cl); err != nil {
		return e.restartError(ctx, tag, err)
	}
	if rebootOnly {
		return nil
	}
	if err := e.Setup(ctx, tag, so); err != nil {
		return e.restartError(ctx, tag, err)
	}
	return nil
}

// restartError is a restart that failed after the reboot: what exists, and that start -x sets
// the cluster up again once its nodes answer.
func (e *Engine) restartError(ctx context.Context, tag string, err error) error {
	pe := e.partial(ctx, tag, err)
	if p, ok := pe.(*PartialError); ok {
		p.Op = "restart"
	}
	return pe
}

// Shutdown runs the plugins' OnShutdown hooks (in reverse) before a cluster stops or goes away.
// It is best effort: an unreachable cluster must still be stoppable, so failures are returned
// for the caller to report, not to stop on.
func (e *Engine) Shutdown(ctx context.Context, tag string, so SetupOptions) error {
	s, err := e.lockedSession(ctx, tag, so)
	if err != nil {
		return err
	}
	defer s.close()
	var errs []error
	for i := len(s.c.Plugins) - 1; i >= 0; i-- {
		p := s.c.Plugins[i]
		errs = append(errs, s.c.Step(ctx, "plugin "+p.Name()+" before shutdown", func(ctx context.Context) error { return p.OnShutdown(ctx, s.c) }))
	}
	return errors.Join(errs...)
}
