package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// diagnoseTimeout bounds asking the provider why a node does not answer.
const diagnoseTimeout = 20 * time.Second

// waitSSH connects to every node (retrying while it boots); later steps reuse the connections.
type waitSSH struct{}

func (waitSSH) Name() string { return "wait for SSH" }
func (waitSSH) Run(ctx context.Context, c *Cluster) error {
	return addWaitSSH(ctx, c, c.Nodes)
}

func addWaitSSH(ctx context.Context, c *Cluster, nodes []*Node) error {
	w := newWaiting(nodes, c.LastRetry)
	return c.ForEachShown(ctx, "wait for SSH", nodes, func(ctx context.Context, n *Node, show func(string)) error {
		_, err := c.Client(ctx, n)
		show(w.done(n))
		if err != nil && c.Diagnose != nil && ctx.Err() == nil {
			dctx, cancel := context.WithTimeout(ctx, diagnoseTimeout)
			defer cancel()
			if why := c.Diagnose(dctx, n); why != "" {
				return fmt.Errorf("%w; %s: %s", err, n.Alias, why)
			}
		}
		return err
	})
}

// hostnames sets each node's host name to its alias.
type hostnames struct{}

func (hostnames) Name() string { return "host names" }
func (hostnames) Run(ctx context.Context, c *Cluster) error {
	return addHostnames(ctx, c, c.Nodes)
}

func addHostnames(ctx context.Context, c *Cluster, nodes []*Node) error {
	return c.ForEach(ctx, "host names", nodes, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, hostnameScript(n.Alias))
		return err
	})
}

// hostnameScript sets the host name persistently, changing nothing when it is already right.
func hostnameScript(alias string) string {
	q := remote.Quote(alias)
	return fmt.Sprintf(`set -e
[ "$(cat /etc/hostname 2>/dev/null)" = %[1]s ] || echo %[1]s > /etc/hostname
[ "$(hostname)" = %[1]s ] || hostname %[1]s`, q)
}

// etcHosts writes every node's address and alias into /etc/hosts on every node, so names
// resolve the same way everywhere (Grid Engine requires it).
type etcHosts struct{}

func (etcHosts) Name() string { return "/etc/hosts" }
func (etcHosts) Run(ctx context.Context, c *Cluster) error {
	edit := hostsEdit(c.Nodes, nil)
	return c.ForEach(ctx, "/etc/hosts", c.Nodes, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, edit.Script())
		return err
	})
}

// addEtcHosts gives new nodes every line and existing nodes only the new lines.
func addEtcHosts(ctx context.Context, c *Cluster, added []*Node) error {
	all, news := hostsEdit(c.Nodes, nil).Script(), hostsEdit(added, nil).Script()
	isNew := map[string]bool{}
	for _, n := range added {
		isNew[n.ID] = true
	}
	return c.ForEach(ctx, "/etc/hosts", c.Nodes, func(ctx context.Context, n *Node) error {
		script := news
		if isNew[n.ID] {
			script = all
		}
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// hostsEdit adds "address alias" lines for nodes and drops the aliases in drop.
func hostsEdit(nodes []*Node, drop []string) blockEdit {
	lines := make([]string, 0, len(nodes))
	for _, n := range nodes {
		lines = append(lines, n.PrivateIP+" "+n.Alias)
	}
	return blockEdit{File: "/etc/hosts", KeyField: 2, Add: lines, Drop: drop, DropOutside: "127.0.1.1"}
}

// forgetNodes removes gone nodes from the remaining nodes' hosts, known hosts and NFS exports.
func forgetNodes(ctx context.Context, c *Cluster, remaining, gone []*Node) error {
	names := nodeNames(gone)
	hosts := hostsEdit(nil, names).Script()
	known := knownHostsEdit(nil, nil, names).Script()
	if err := c.ForEach(ctx, "forget removed nodes", remaining, func(ctx context.Context, n *Node) error {
		_, err := c.Sudo(ctx, n, hosts+"\n"+known)
		return err
	}); err != nil {
		return err
	}
	if c.SharedFS {
		return nil
	}
	m := c.Master()
	if m == nil {
		return nil
	}
	_, err := c.Sudo(ctx, m, exportsEdit(nil, c.sharedPaths(), gone).Script()+"\nexportfs -ra")
	return err
}

// waiting tracks the nodes a wait for SSH still waits for, to name them (and why, from the
// last failed attempt) on the step's status line.
type waiting struct {
	mu      sync.Mutex
	pending map[string]bool
	why     func(alias string) string
}

func newWaiting(nodes []*Node, why func(string) string) *waiting {
	w := &waiting{pending: make(map[string]bool, len(nodes)), why: why}
	for _, n := range nodes {
		w.pending[n.Alias] = true
	}
	return w
}

// done marks n connected and describes the nodes still awaited.
func (w *waiting) done(n *Node) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.pending, n.Alias)
	status := cloud.WaitStatus{Pending: make(map[string]string, len(w.pending))}
	for a := range w.pending {
		if w.why != nil {
			status.Pending[a] = w.why(a)
		} else {
			status.Pending[a] = ""
		}
	}
	if len(status.Pending) == 0 {
		return ""
	}
	return "waiting for " + status.String()
}

// HostNames lists the names in the master's managed /etc/hosts block and its scheduler's
// hosts: the nodes the cluster still counts, including ones whose machines are gone. Both
// come from the master, so a caller checks each name before it reaches a shell.
func HostNames(ctx context.Context, c *Cluster) ([]string, error) {
	m := c.Master()
	if m == nil {
		return nil, errNoMaster
	}
	res, err := c.Sudo(ctx, m, fmt.Sprintf(`awk -v begin=%s -v end=%s '$0 == begin { inb = 1; next } $0 == end { inb = 0 } inb && NF >= 2 { print $2 }' /etc/hosts`,
		remote.Quote(blockBegin), remote.Quote(blockEnd)))
	if err != nil {
		return nil, fmt.Errorf("read /etc/hosts on %s: %w", m.Alias, err)
	}
	names := strings.Fields(res.Stdout)
	if c.Scheduler != nil {
		shell := c.SchedulerView().Shell(m.Alias)
		st, err := c.Scheduler.Stats(ctx, shell, time.Now())
		if err != nil {
			return nil, err
		}
		for _, h := range st.Hosts {
			names = append(names, h.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}
