package plugins

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

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
