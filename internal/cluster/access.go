package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// Access is what it takes to reach a cluster's nodes over SSH: its instances as they are now,
// the key to log in with and the pinned host keys (rebuilt from the provider, so any machine
// with credentials can connect, verified).
type Access struct {
	Tag        string
	Cluster    cloud.Cluster
	Record     Record
	Instances  []cloud.Instance
	KnownHosts *remote.KnownHosts
	KeyFile    string
	LoginUser  string

	// dial and observe are the engine's Dial and Observe, for Options.
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	observe func(remote.Exchange)
}

// Access loads a cluster for SSH work. keyFile maps the cluster's key pair name to the local
// private key (from the config's [key NAME] sections); it may return "".
func (e *Engine) Access(ctx context.Context, tag string, keyFile func(keyName string) string) (*Access, error) {
	cl, rec, err := e.loadCluster(ctx, tag)
	if err != nil {
		return nil, err
	}
	insts, err := e.Provider.Instances(ctx, tag)
	if err != nil {
		return nil, err
	}
	if insts, err = e.members(tag, cl, &rec, insts); err != nil {
		return nil, err
	}
	e.noteVanished(ctx, tag, insts)
	if err := e.pinHostKeys(tag, insts, nil); err != nil {
		return nil, err
	}
	a := &Access{Tag: tag, Cluster: cl, Record: rec, Instances: insts, KnownHosts: e.KnownHosts(tag), LoginUser: rec.LoginUser,
		dial: e.Dial, observe: e.Observe}
	if a.LoginUser == "" {
		a.LoginUser = e.Provider.Capabilities().DefaultLoginUser
	}
	if keyFile != nil {
		a.KeyFile = keyFile(rec.KeyName)
	}
	if a.KeyFile == "" {
		a.KeyFile = ClusterKeyPath(e.StateDir, tag)
	}
	return a, nil
}

// loadCluster finds a cluster and reads the template recorded with it.
func (e *Engine) loadCluster(ctx context.Context, tag string) (cloud.Cluster, Record, error) {
	if err := CheckTagName(tag); err != nil {
		return cloud.Cluster{}, Record{}, err
	}
	cl, err := e.Provider.GetCluster(ctx, tag)
	if errors.Is(err, cloud.ErrNotFound) {
		return cl, Record{}, e.NotFound(ctx, tag)
	} else if err != nil {
		return cl, Record{}, err
	}
	rec, err := DecodeRecord(cl.Recorded)
	if err != nil {
		return cl, rec, fmt.Errorf("cluster %s: %w", tag, err)
	}
	if len(rec.BootScripts) > 0 && !cl.Sealed {
		// Boot scripts run as root on every new node: only a record that cannot have been
		// rewritten since creation may carry them.
		return cl, Record{}, fmt.Errorf("cluster %s: %w", tag, &RecordError{Field: "boot_scripts",
			Err: errors.New("a record without a seal in its security group's description cannot carry boot scripts")})
	}
	return cl, rec, nil
}

// Master returns the cluster's master instance.
func (a *Access) Master() (cloud.Instance, error) {
	for _, in := range a.Instances {
		if in.Role == cloud.RoleMaster {
			return in, nil
		}
	}
	return cloud.Instance{}, fmt.Errorf("cluster %s has no master instance", a.Tag)
}

// Find resolves a node by alias, instance id, address or DNS name; a number n means node n
// (0 is the master), as StarCluster's docs promised.
func (a *Access) Find(node string) (cloud.Instance, error) {
	if n, err := strconv.Atoi(node); err == nil && n >= 0 {
		if n == 0 {
			return a.Master()
		}
		node = Prefixed(a.Tag, NodeAlias(n), a.Record.DNSPrefix)
	}
	for _, in := range a.Instances {
		for _, id := range []string{in.Alias, in.ID, in.PrivateIP, in.PublicIP, in.PublicDNS} {
			if id != "" && id == node {
				return in, nil
			}
		}
	}
	names := make([]string, 0, len(a.Instances))
	for _, in := range a.Instances {
		names = append(names, in.Alias)
	}
	return cloud.Instance{}, fmt.Errorf("cluster %s has no node %q (nodes: %s): %w", a.Tag, node, strings.Join(names, ", "), ErrNodeNotFound)
}

// ErrNodeNotFound matches a node name no instance of the cluster answers to.
var ErrNodeNotFound = errors.New("node not found")

// Target is how to reach an instance as user (the login user when empty): directly when it has
// an address this machine can reach, through the master when it only has a private address
// and the master has a public one.
func (a *Access) Target(in cloud.Instance, user string) (remote.Target, error) {
	if in.State != cloud.StateRunning {
		return remote.Target{}, fmt.Errorf("%s (%s) is %s, not running", in.Alias, in.ID, in.State)
	}
	if user == "" {
		user = a.LoginUser
	}
	t := remote.Target{Name: in.Alias, Addr: in.Addr(), User: user}
	if in.PublicIP == "" && in.Role != cloud.RoleMaster {
		if m, err := a.Master(); err == nil && m.PublicIP != "" {
			jump := remote.Target{Name: m.Alias, Addr: m.PublicIP, User: a.LoginUser}
			t.Jump = &jump
		}
	}
	return t, nil
}

// RunAsRoot connects to one of the cluster's instances as its login user and runs script as
// root (through sudo), for one-off work outside setup (ebsimage --scrub, resizevolume).
func (a *Access) RunAsRoot(ctx context.Context, in cloud.Instance, script string) (remote.Result, error) {
	t, err := a.Target(in, "")
	if err != nil {
		return remote.Result{}, err
	}
	client, err := remote.Connect(ctx, t, a.Options())
	if err != nil {
		return remote.Result{}, err
	}
	defer client.Close()
	return client.RunWith(ctx, script, remote.RunOpts{Sudo: true})
}

// Options are the SSH options for this cluster: its key and its pinned host keys.
func (a *Access) Options() remote.Options {
	return remote.Options{KeyFile: a.KeyFile, KnownHosts: a.KnownHosts, Dial: a.dial, Observe: a.observe}
}

// ClusterKeyPath is the key clusterctl generates for a local cluster started without KEYNAME.
func ClusterKeyPath(stateDir, tag string) string {
	return filepath.Join(stateDir, "keys", tag)
}
