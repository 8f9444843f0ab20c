package plugins

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// ipClusterStop stops the IPython controller, the notebook and every engine (runplugin
// ipclusterstop, e.g. to free the CPUs for batch jobs). The units stay installed but disabled,
// so they do not come back after a reboot; running the ipcluster plugin starts them again.
type ipClusterStop struct{ setup.Hooks }

// Name is the plugin's catalog name.
func (ipClusterStop) Name() string { return "ipclusterstop" }

// Run stops everything the ipcluster plugin started.
func (ipClusterStop) Run(ctx context.Context, c *setup.Cluster) error { return stopIPCluster(ctx, c) }

// ipClusterRestart restarts every engine that is set up, e.g. to clear their namespaces or
// to load newly installed packages; the controller keeps running, so clients stay connected.
type ipClusterRestart struct{ setup.Hooks }

// Name is the plugin's catalog name.
func (ipClusterRestart) Name() string { return "ipclusterrestart" }

// Run restarts the engines on every node, after checking that the controller runs (engines
// without one would only wait for it).
func (ipClusterRestart) Run(ctx context.Context, c *setup.Cluster) error {
	m, err := masterOf(c)
	if err != nil {
		return err
	}
	if _, err := c.Sudo(ctx, m, controllerRunningScript); err != nil {
		return err
	}
	var total atomic.Int64
	err = c.ForEach(ctx, "restart IPython engines", c.Nodes, func(ctx context.Context, n *setup.Node) error {
		res, err := c.Sudo(ctx, n, restartEnginesScript)
		if err != nil {
			return err
		}
		k, err := strconv.Atoi(strings.TrimSpace(res.Stdout))
		if err != nil {
			return fmt.Errorf("unexpected output while restarting engines: %q", res.Stdout)
		}
		total.Add(int64(k))
		return nil
	})
	if err != nil {
		return err
	}
	if total.Load() == 0 {
		return fmt.Errorf("no IPython engines are set up: run the ipcluster plugin first")
	}
	infof(c, "ipclusterrestart: restarted %d engines", total.Load())
	return nil
}

// stopEngines stops and disables the engines on nodes.
func stopEngines(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	script := stopServicesScript(enginePattern)
	return c.ForEach(ctx, "stop IPython engines", nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// stopIPCluster stops the engines everywhere, then the notebook and the controller.
func stopIPCluster(ctx context.Context, c *setup.Cluster) error {
	if err := stopEngines(ctx, c, c.Nodes); err != nil {
		return err
	}
	m := c.Master()
	if m == nil {
		return nil
	}
	script := stopServicesScript(notebookUnitName, controllerUnitName)
	return c.ForEach(ctx, "stop IPython controller", []*setup.Node{m}, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// activeEnginesScript prints how many engine units run on a node.
const activeEnginesScript = `systemctl list-units --plain --no-legend --state=active '` + enginePattern + `' | grep -c . || [ $? -eq 1 ]`

// clientCountScript runs a client on the master as the cluster user and prints how many engines
// the controller lists; with want >= 0 it first waits (up to two minutes) until the controller
// has forgotten engines that stopped, which it learns from their missed heartbeats.
func clientCountScript(user string, want int) string {
	return fmt.Sprintf(`runuser -l %s -c 'python3 - %d' <<'PY'
import ipyparallel as ipp, sys, time
c = ipp.Client(timeout=30)
want = int(sys.argv[1])
deadline = time.time() + 120
while want >= 0 and len(c.ids) > want:
    if time.time() > deadline:
        sys.exit("the IPython controller still lists %%d engines after two minutes, want %%d" %% (len(c.ids), want))
    time.sleep(0.5)
print(len(c.ids))
PY
`, remote.Quote(user), want)
}

// removeEngines stops the engines of nodes that leave the cluster and waits until the
// controller has forgotten them, so a client that asks right after removenode finds only the
// engines that remain (and no task is sent to one that is gone).
func removeEngines(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	// The engines of a vanished node are gone with it; the controller forgets them by itself.
	nodes = setup.Reachable(nodes)
	m, err := masterOf(c)
	if err != nil {
		return stopEngines(ctx, c, nodes)
	}
	var leaving atomic.Int64
	if err := c.ForEach(ctx, "count IPython engines", nodes, func(ctx context.Context, n *setup.Node) error {
		res, err := c.Sudo(ctx, n, activeEnginesScript)
		if err != nil {
			return err
		}
		k, err := strconv.Atoi(strings.TrimSpace(res.Stdout))
		if err != nil {
			return fmt.Errorf("unexpected engine count %q", res.Stdout)
		}
		leaving.Add(int64(k))
		return nil
	}); err != nil {
		return err
	}
	if leaving.Load() == 0 {
		return stopEngines(ctx, c, nodes)
	}
	res, err := c.Sudo(ctx, m, clientCountScript(c.User, -1))
	if err != nil {
		return fmt.Errorf("ask the IPython controller for its engines: %w", err)
	}
	before, err := strconv.Atoi(strings.TrimSpace(res.Stdout))
	if err != nil {
		return fmt.Errorf("unexpected engine count from the controller %q", res.Stdout)
	}
	if err := stopEngines(ctx, c, nodes); err != nil {
		return err
	}
	return c.Step(ctx, fmt.Sprintf("IPython controller forgets %d engines", leaving.Load()), func(ctx context.Context) error {
		_, err := c.Sudo(ctx, m, clientCountScript(c.User, before-int(leaving.Load())))
		return err
	})
}
