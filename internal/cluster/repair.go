package cluster

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/internal/setup"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// RepairOptions say what repair does beyond cleaning up after vanished nodes.
type RepairOptions struct {
	// Replace launches a node with the same settings (type, image, spot bid) in place of each
	// vanished worker, under its alias.
	Replace bool
	// Aliases limits the repair to these nodes (the balancer names the ones it saw vanish);
	// empty repairs every vanished node.
	Aliases []string
}

// RepairResult is what a repair did.
type RepairResult struct {
	// Removed are the vanished nodes taken out of the cluster.
	Removed []VanishedNode
	// Replaced are the aliases of the nodes launched in their place.
	Replaced []string
}

// Repair cleans up after the cluster's vanished workers: the scheduler requeues the jobs that
// ran there and forgets them, plugins' on-remove hooks run, the other nodes drop them from
// /etc/hosts, known_hosts and the exports, what is left of their instances is terminated, and
// this machine forgets their host keys. Vanished are the workers the provider reports dead or
// terminated outside clusterctl, and the names the master still counts (its /etc/hosts, its
// scheduler) that no instance answers to any more. With Replace, a node with the same
// settings takes each one's place. A repair of a healthy cluster changes nothing.
func (e *Engine) Repair(ctx context.Context, tag string, o RepairOptions, so SetupOptions) (*RepairResult, error) {
	s, err := e.lockedSession(ctx, tag, so)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if s.c.Master() == nil {
		return nil, fmt.Errorf("cluster %s has no running master: start it first (`clusterctl start -x %s`)", tag, tag)
	}
	vanished, err := e.findVanished(ctx, s)
	if err != nil {
		return nil, err
	}
	if len(o.Aliases) > 0 {
		vanished = slices.DeleteFunc(vanished, func(v VanishedNode) bool { return !slices.Contains(o.Aliases, v.Alias) })
	}
	res := &RepairResult{Removed: vanished}
	if len(vanished) == 0 {
		return res, nil
	}
	if err := e.forgetNodes(ctx, s, vanished); err != nil {
		return res, err
	}
	if !o.Replace {
		return res, nil
	}
	for _, batch := range replacements(vanished) {
		added, err := e.AddNodes(ctx, tag, batch, so)
		res.Replaced = append(res.Replaced, added...)
		if err != nil {
			return res, fmt.Errorf("replace %s: %w", strings.Join(batch.Aliases, ", "), err)
		}
	}
	return res, nil
}

// findVanished lists the vanished workers: those the provider reports gone, and the names
// the master still counts that no instance of the cluster answers to.
func (e *Engine) findVanished(ctx context.Context, s *session) ([]VanishedNode, error) {
	var out []VanishedNode
	known := map[string]bool{}
	for _, v := range vanishedNodes(s.acc.Instances, e.gone(ctx, s.acc.Tag)) {
		known[v.Alias] = true
		if v.Instance.Role != cloud.RoleMaster {
			out = append(out, v)
		}
	}
	for _, in := range s.acc.Instances {
		known[in.Alias] = true
	}
	names, err := setup.HostNames(ctx, s.c)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		// Names come from the master's files: only a host name reaches a script.
		if known[name] || !hostnameRE.MatchString(name) || isMaster(name) {
			continue
		}
		out = append(out, VanishedNode{Alias: name, Why: "the master still counts it, but no instance of the cluster has this name"})
	}
	return out, nil
}

// forgetNodes takes vanished nodes out of the cluster (see Repair) and terminates what is
// left of their instances.
func (e *Engine) forgetNodes(ctx context.Context, s *session, vanished []VanishedNode) error {
	var gone []*setup.Node
	var ids, forget []string
	for _, v := range vanished {
		in := v.Instance
		in.Alias = v.Alias
		if in.State == cloud.StateRunning || in.State == "" {
			in.State = cloud.StateTerminated
		}
		gone = append(gone, &setup.Node{Instance: in})
		forget = append(forget, v.Alias, in.PrivateIP, in.PublicIP)
		if in.ID != "" && in.State != cloud.StateTerminated {
			ids = append(ids, in.ID)
		}
		if e.Status != nil {
			e.Status.Infof("%s vanished (%s): taking it out of the cluster.", v.Alias, v.Why)
		}
	}
	s.c.Nodes = append(s.c.Nodes, gone...)
	if err := setup.RemoveNodes(ctx, s.c, gone, scheduler.DrainOptions{Force: true}); err != nil {
		return fmt.Errorf("take the vanished nodes out of the cluster: %w", err)
	}
	if len(ids) > 0 {
		if err := e.step(ctx, fmt.Sprintf("terminate what is left of %s", plural(len(ids), "instance")), func(ctx context.Context, _ *ui.Step) error {
			return e.Provider.Terminate(ctx, ids)
		}); err != nil {
			return err
		}
	}
	if err := e.KnownHosts(s.acc.Tag).Forget(nonEmpty(forget)); err != nil {
		e.log().Warn("could not forget host keys", "error", err)
	}
	return nil
}

// replacements groups vanished workers into addnode requests of identical settings: each comes
// back under its alias with its instance type, image and spot bid; a node only the master knew
// of gets the cluster's defaults.
func replacements(vanished []VanishedNode) []AddOptions {
	var out []AddOptions
	index := map[string]int{}
	for _, v := range vanished {
		in := v.Instance
		o := AddOptions{Type: in.InstanceType, Image: in.ImageID}
		if bid, err := strconv.ParseFloat(in.SpotPrice, 64); err == nil && bid > 0 {
			o.Bid = &bid
		}
		key := in.InstanceType + "\x00" + in.ImageID + "\x00" + in.SpotPrice
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, o)
		}
		out[i].Aliases = append(out[i].Aliases, v.Alias)
		out[i].Count = len(out[i].Aliases)
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// replaceVanished takes vanished workers out of the cluster before a resume launches them
// again. A cluster whose master cannot be asked (a start that stopped before setup) has
// nothing to clean up there: their instances are only terminated.
func (e *Engine) replaceVanished(ctx context.Context, tag string, aliases []string, so SetupOptions) error {
	_, err := e.Repair(ctx, tag, RepairOptions{Aliases: aliases}, so)
	if err == nil {
		return nil
	}
	e.log().Warn("vanished nodes not taken out of the scheduler before their replacement", "nodes", aliases, "error", err.Error())
	if e.Status != nil {
		e.Status.Warnf("could not take %s out of the cluster first (%v); terminating them, setup adds their replacements", strings.Join(aliases, ", "), err)
	}
	insts, lerr := e.instances(ctx, tag, nil)
	if lerr != nil {
		return lerr
	}
	var ids []string
	for _, in := range insts {
		if slices.Contains(aliases, in.Alias) && in.State != cloud.StateTerminated {
			ids = append(ids, in.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return e.step(ctx, fmt.Sprintf("terminate %s", plural(len(ids), "vanished instance")), func(ctx context.Context, _ *ui.Step) error {
		return e.Provider.Terminate(ctx, ids)
	})
}
