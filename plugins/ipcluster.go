package plugins

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// ipCluster runs an IPython parallel (ipyparallel) cluster as the cluster user: the controller
// on the master, listening on the cluster network, and one engine per CPU on every node (one
// fewer on the master), all as systemd units (see ipcluster_units.go). The client connection
// file is saved on this machine as <LocalDir>/ipcluster/<tag>-<region>.json, so a local
// ipyparallel.Client can connect through SSH to the master. Debian's python3-ipyparallel is
// installed with apt where it is missing.
type ipCluster struct {
	setup.Hooks
	// err is what is wrong with the parameters, reported by the hooks that start things;
	// stopping needs no parameters and always works.
	err            error
	packer         string
	logLevel       string
	notebook       bool
	notebookPasswd string
	notebookDir    string
}

func newIPCluster(p Params) *ipCluster {
	packer := strings.ToLower(p.String("packer", "json"))
	_, err := packerArgs(packer)
	level, lerr := logLevel(p.String("log_level", "INFO"))
	if err == nil {
		err = lerr
	}
	return &ipCluster{err: err, packer: packer, logLevel: level, notebook: p.Bool("enable_notebook", false),
		notebookPasswd: p.String("notebook_passwd", ""), notebookDir: p.String("notebook_directory", "")}
}

// Name is the plugin's catalog name.
func (p *ipCluster) Name() string { return "ipcluster" }

func (p *ipCluster) settings(c *setup.Cluster) ipSettings {
	return ipSettings{User: c.User, MasterIP: c.Master().PrivateIP, Packer: p.packer, LogLevel: p.logLevel}
}

// packages are the Debian packages every node needs.
func (p *ipCluster) packages() []string {
	if p.packer == "msgpack" {
		return []string{"python3-ipyparallel", "python3-msgpack"}
	}
	return []string{"python3-ipyparallel"}
}

// Run starts (or keeps running) the controller, the engines everywhere and the optional
// notebook, and saves the client connection file locally. A controller restarted for new
// settings has a new key and ports, so every engine restarts with it.
func (p *ipCluster) Run(ctx context.Context, c *setup.Cluster) error {
	if p.err != nil {
		return p.err
	}
	m, err := masterOf(c)
	if err != nil {
		return err
	}
	cpus, err := p.prepare(ctx, c, c.Nodes)
	if err != nil {
		return err
	}
	script, err := controllerScript(p.settings(c))
	if err != nil {
		return err
	}
	started := false
	if err := c.ForEach(ctx, "IPython controller", []*setup.Node{m}, func(ctx context.Context, n *setup.Node) error {
		res, err := c.Sudo(ctx, n, script)
		started = strings.Contains(res.Stdout, "controller-started")
		return err
	}); err != nil {
		return err
	}
	if err := p.engines(ctx, c, c.Nodes, cpus, started); err != nil {
		return err
	}
	if p.notebook {
		if err := p.startNotebook(ctx, c, m); err != nil {
			return err
		}
	}
	return p.saveConnectionFile(ctx, c, m)
}

// OnAddNode starts engines on new nodes, if the controller runs (ipclusterstop may have
// stopped it on purpose).
func (p *ipCluster) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	if p.err != nil {
		return p.err
	}
	m, err := masterOf(c)
	if err != nil {
		return err
	}
	cpus, err := p.prepare(ctx, c, nodes)
	if err != nil {
		return err
	}
	if _, err := c.Sudo(ctx, m, controllerRunningScript); err != nil {
		var stopped *remote.RemoteError
		if !errors.As(err, &stopped) {
			return err // the master could not be asked
		}
		infof(c, "ipcluster: the controller is not running, so no engines were started on the new nodes (run the ipcluster plugin to start everything)")
		return nil
	}
	return p.engines(ctx, c, nodes, cpus, false)
}

// OnRemoveNode stops the engines of nodes about to go and waits until the controller has
// forgotten them (see removeEngines).
func (p *ipCluster) OnRemoveNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	return removeEngines(ctx, c, nodes)
}

// OnShutdown stops the engines, the controller and the notebook before the cluster stops.
func (p *ipCluster) OnShutdown(ctx context.Context, c *setup.Cluster) error {
	return stopIPCluster(ctx, c)
}

// prepare installs the packages where missing and counts the CPUs of nodes.
func (p *ipCluster) prepare(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) (map[string]int, error) {
	script := aptInstallScript(p.packages())
	if err := c.ForEach(ctx, "ipyparallel packages", nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	}); err != nil {
		return nil, err
	}
	return cpuCounts(ctx, c, nodes)
}

// engines runs each node's share of engines, restarting them all when restart is set.
func (p *ipCluster) engines(ctx context.Context, c *setup.Cluster, nodes []*setup.Node, cpus map[string]int, restart bool) error {
	s := p.settings(c)
	total := 0
	for _, n := range nodes {
		total += engineCount(cpus[n.Alias], n.IsMaster())
	}
	return c.ForEach(ctx, fmt.Sprintf("%d IPython engines", total), nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, enginesScript(s, engineCount(cpus[n.Alias], n.IsMaster()), restart))
		return err
	})
}

// saveConnectionFile copies the controller's client connection file (it holds the cluster's
// HMAC key) to <LocalDir>/ipcluster/<tag>-<region>.json and says where it is and how to use it.
func (p *ipCluster) saveConnectionFile(ctx context.Context, c *setup.Cluster, m *setup.Node) error {
	// Read as the cluster user: the file is in the user's home, where a link could point root
	// at anything.
	data, err := fetchAsRoot(ctx, c, m, "the IPython connection file", "f="+connectionFile(c.User, "client")+"\n"+
		"runuser -u "+remote.Quote(c.User)+` -- cat -- "$f" > "$t"`)
	if err != nil {
		return err
	}
	file := localFile(c, "", "ipcluster", ".json")
	if err := saveLocal(file, data); err != nil {
		return err
	}
	server := c.User + "@" + remote.HostAlias(c.Tag, m.Alias)
	infof(c, "ipcluster: client connection file saved to %s", file)
	infof(c, "ipcluster: to connect from this machine, include `clusterctl ssh-config %s` from ~/.ssh/config, open the shared connection with `ssh -fN %s`, then ipyparallel.Client(%q, sshserver=%q)",
		c.Tag, server, file, server)
	if p.packer == "msgpack" {
		infof(c, "ipcluster: the msgpack packer needs the msgpack Python package where the client runs")
	}
	return nil
}
