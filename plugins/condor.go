package plugins

import (
	"context"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/internal/setup"
)

// condor makes the cluster an HTCondor pool (workflows: Pegasus on HTCondor): the central
// manager on the master, or on condor_host (a node of the cluster or a host elsewhere), and
// every node an execute and submit node. Debian 12 has no HTCondor packages, so the plugin
// installs nothing: it configures HTCondor where the image has it and fails, naming the nodes,
// where it does not. Every node's configuration lists every node's address, so adding or
// removing nodes rewrites it everywhere (condor_reconfig, no restart).
type condor struct {
	setup.Hooks
	host string
}

func newCondor(p Params) *condor {
	return &condor{host: strings.TrimSpace(p.String("condor_host", ""))}
}

// Name is the plugin's catalog name.
func (*condor) Name() string { return "condor" }

// Run configures every node.
func (p *condor) Run(ctx context.Context, c *setup.Cluster) error {
	return p.apply(ctx, c, c.Nodes)
}

// OnAddNode configures the new nodes and lets every node accept them.
func (p *condor) OnAddNode(ctx context.Context, c *setup.Cluster, _ []*setup.Node) error {
	return p.apply(ctx, c, c.Nodes)
}

// OnRemoveNode takes the nodes about to go out of every other node's configuration.
func (p *condor) OnRemoveNode(ctx context.Context, c *setup.Cluster, gone []*setup.Node) error {
	drop := map[string]bool{}
	for _, n := range gone {
		drop[n.ID] = true
	}
	var keep []*setup.Node
	for _, n := range c.Nodes {
		if !drop[n.ID] {
			keep = append(keep, n)
		}
	}
	return p.apply(ctx, c, keep)
}

// configs renders the configuration of each of pool's nodes, keyed by alias.
func (p *condor) configs(c *setup.Cluster, pool []*setup.Node) (map[string]string, error) {
	manager, external := p.host, true
	if manager == "" {
		m, err := masterOf(c)
		if err != nil {
			return nil, err
		}
		manager = m.Alias
	}
	var allowed []string
	for _, n := range orderMasterFirst(pool) {
		allowed = append(allowed, n.PrivateIP)
		if isNamed(n, manager) {
			external = false
		}
	}
	if external {
		allowed = append(allowed, manager)
	}
	out := make(map[string]string, len(pool))
	for _, n := range pool {
		out[n.Alias] = condorConfigText(condorConfig{Tag: c.Tag, Manager: manager, IsManager: isNamed(n, manager), Allowed: allowed})
	}
	return out, nil
}

// isNamed reports whether name is one of the node's names or addresses.
func isNamed(n *setup.Node, name string) bool {
	for _, s := range []string{n.Alias, n.PrivateIP, n.PublicIP, n.PublicDNS} {
		if s != "" && strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// apply writes the configuration of a pool of nodes on those that have HTCondor, and then
// fails if any lacks it.
func (p *condor) apply(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	configs, err := p.configs(c, nodes)
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		have    []*setup.Node
		missing []string
	)
	if err := c.ForEach(ctx, "look for HTCondor", nodes, func(ctx context.Context, n *setup.Node) error {
		res, err := c.Sudo(ctx, n, condorProbeScript)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if strings.TrimSpace(res.Stdout) == "yes" {
			have = append(have, n)
		} else {
			missing = append(missing, n.Alias)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := c.ForEach(ctx, "HTCondor configuration", have, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, condorApplyScript(configs[n.Alias]))
		return err
	}); err != nil {
		return err
	}
	if len(missing) > 0 {
		return condorMissingError(sortedByNodeOrder(missing, nodes))
	}
	return nil
}

// sortedByNodeOrder orders aliases as nodes lists them (the probe finishes in any order).
func sortedByNodeOrder(aliases []string, nodes []*setup.Node) []string {
	want := map[string]bool{}
	for _, a := range aliases {
		want[a] = true
	}
	out := make([]string, 0, len(aliases))
	for _, n := range nodes {
		if want[n.Alias] {
			out = append(out, n.Alias)
		}
	}
	return out
}
