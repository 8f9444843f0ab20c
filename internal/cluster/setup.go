package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
	"github.com/clusterctl/clusterctl/plugins"
)

// SSHReadyTimeout bounds how long setup waits for a booting node to accept SSH.
const SSHReadyTimeout = 10 * time.Minute

// SetupOptions carry what setup needs beyond the cluster's record.
type SetupOptions struct {
	// KeyFile maps the cluster's key pair to the local private key.
	KeyFile func(keyName string) string
	// Secrets are plugin parameters left out of the record (secret ones), by plugin name,
	// taken from the config when it is at hand.
	Secrets map[string]map[string]any
	// Concurrency bounds per-node work (--concurrency).
	Concurrency int
}

// keyFile is the local private key of a key pair, or "".
func (o SetupOptions) keyFile(name string) string {
	if o.KeyFile == nil || name == "" {
		return ""
	}
	return o.KeyFile(name)
}

// session is a cluster prepared for setup work: its access, the setup view of it, and the
// connection pool to close afterwards.
type session struct {
	acc   *Access
	c     *setup.Cluster
	close func()
}

// openSession loads a cluster and builds the setup view of its running nodes.
func (e *Engine) openSession(ctx context.Context, tag string, o SetupOptions) (*session, error) {
	acc, err := e.Access(ctx, tag, o.KeyFile)
	if err != nil {
		return nil, err
	}
	opts := acc.Options()
	opts.ReadyTimeout = SSHReadyTimeout
	if e.Provider.Capabilities().HostOnlyNetwork {
		opts.ReadyTimeout = 2 * time.Minute // local containers boot in seconds
	}
	if e.WaitTimeout > 0 {
		opts.ReadyTimeout = e.WaitTimeout // the user's bound (--wait-timeout)
	}
	var retries sync.Map // alias -> why its last attempt failed
	opts.OnRetry = func(t remote.Target, n int, err error) {
		e.log().Debug("node not reachable yet, retrying", "node", t.Label(), "attempt", n, "error", err.Error())
		retries.Store(t.Name, retryReason(err))
	}
	pool := remote.NewPool(opts)
	c := &setup.Cluster{Tag: tag, User: acc.Record.ClusterUser, Shell: acc.Record.ClusterShell,
		SharedFS: e.Provider.Capabilities().SharedFilesystem, HostKeys: map[string]string{},
		Pool: pool, Concurrency: o.Concurrency, Status: e.Status, Log: e.log(),
		Region: e.region(), LocalDir: e.StateDir, SpotMetadata: e.Provider.Capabilities().InstanceMetadata,
		LastRetry: func(alias string) string {
			if v, ok := retries.Load(alias); ok {
				return v.(string)
			}
			return "not tried yet"
		}}
	if e.SpotMetadata != "" {
		c.SpotMetadata = e.SpotMetadata
	}
	if pub, err := AuthorizedKey(acc.KeyFile); err == nil && pub != "" {
		c.UserKeys = []string{pub}
	}
	if d, ok := e.Provider.(cloud.Diagnoser); ok {
		c.Diagnose = func(ctx context.Context, n *setup.Node) string { return d.Diagnose(ctx, tag, n.ID) }
	}
	for _, in := range acc.Instances {
		if in.State != cloud.StateRunning {
			continue
		}
		t, err := acc.Target(in, "")
		if err != nil {
			pool.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, &setup.Node{Instance: in, Target: t})
		c.HostKeys[in.Alias] = in.HostKey
	}
	e.sizeNodes(ctx, c.Nodes)
	if err := e.setupVolumes(ctx, acc.Record, c); err != nil {
		pool.Close()
		return nil, err
	}
	if err := e.setupCopies(ctx, tag, acc.Record, c); err != nil {
		pool.Close()
		return nil, err
	}
	if err := configurePlugins(acc.Record, o.Secrets, c); err != nil {
		pool.Close()
		return nil, err
	}
	return &session{acc: acc, c: c, close: func() { _ = pool.Close() }}, nil
}

// lockedSession takes the cluster's lock and opens a session on it; closing the session
// releases both.
func (e *Engine) lockedSession(ctx context.Context, tag string, o SetupOptions) (*session, error) {
	unlock, err := e.lockExisting(ctx, tag)
	if err != nil {
		return nil, err
	}
	s, err := e.openSession(ctx, tag, o)
	if err != nil {
		unlock()
		return nil, err
	}
	closePool := s.close
	s.close = func() { closePool(); unlock() }
	return s, nil
}

// setupVolumes describes the record's volumes for setup, asking the provider which were made
// by createvolume (and may be formatted when empty).
func (e *Engine) setupVolumes(ctx context.Context, r Record, c *setup.Cluster) error {
	if len(r.Volumes) == 0 {
		return nil
	}
	ids := make([]string, len(r.Volumes))
	for i, v := range r.Volumes {
		ids[i] = v.ID
	}
	vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{IDs: ids})
	if err != nil {
		return err
	}
	format := map[string]bool{}
	for _, v := range vols {
		format[v.ID] = v.Tags[cloud.TagFormat] == "true"
	}
	for i, v := range r.Volumes {
		c.Volumes = append(c.Volumes, setup.Volume{ID: v.ID, Name: v.Name, MountPath: v.MountPath,
			Device: VolumeDevice(r.Volumes, i), Partition: v.Partition, Format: format[v.ID]})
	}
	return nil
}

// sizeNodes gives each node the CPUs and memory of its instance type, when the provider knows
// them. A provider that cannot tell (an account not allowed DescribeInstanceTypes) leaves them
// unknown, and the scheduler measures the nodes instead.
func (e *Engine) sizeNodes(ctx context.Context, nodes []*setup.Node) {
	d, ok := e.Provider.(cloud.TypeDescriber)
	if !ok || len(nodes) == 0 {
		return
	}
	var names []string
	seen := map[string]bool{}
	for _, n := range nodes {
		if n.InstanceType != "" && !seen[n.InstanceType] {
			seen[n.InstanceType] = true
			names = append(names, n.InstanceType)
		}
	}
	types, err := d.InstanceTypes(ctx, names)
	if err != nil {
		e.log().Warn("instance type sizes unknown; the scheduler measures the nodes", "error", err)
		return
	}
	for _, n := range nodes {
		if t, ok := types[n.InstanceType]; ok {
			n.CPUs, n.Memory = t.CPUs, t.Memory
		}
	}
}

// configurePlugins builds the scheduler (the record's SCHEDULER, shaped by its plugin entry
// when the template lists one) and the plugins in config order.
func configurePlugins(r Record, secrets map[string]map[string]any, c *setup.Cluster) error {
	sched, err := r.NewScheduler()
	if err != nil {
		return err
	}
	c.Scheduler = sched
	for _, rp := range r.Plugins {
		if plugins.IsScheduler(rp.Builtin) {
			continue
		}
		params := plugins.Params{}
		for k, v := range rp.Params {
			params[k] = v
		}
		for k, v := range secrets[rp.Name] {
			params[k] = v
		}
		p, err := plugins.New(rp.Name, rp.Builtin, params)
		if err != nil {
			return fmt.Errorf("plugin %s: %w", rp.Name, err)
		}
		c.Plugins = append(c.Plugins, p)
	}
	return nil
}

// Setup configures every running node of a cluster (start, start -x, restart all end here).
func (e *Engine) Setup(ctx context.Context, tag string, o SetupOptions) error {
	s, err := e.lockedSession(ctx, tag, o)
	if err != nil {
		return err
	}
	defer s.close()
	return setup.Run(ctx, s.c)
}

// RunPlugin runs one plugin of the cluster (runplugin), by its [plugin] section name.
func (e *Engine) RunPlugin(ctx context.Context, tag, name string, o SetupOptions) error {
	s, err := e.lockedSession(ctx, tag, o)
	if err != nil {
		return err
	}
	defer s.close()
	for i, rp := range s.acc.Record.Plugins {
		if rp.Name != name {
			continue
		}
		if plugins.IsScheduler(rp.Builtin) {
			return setup.SetupScheduler(ctx, s.c)
		}
		p := s.c.Plugins[pluginIndex(s.acc.Record, i)]
		return s.c.Step(ctx, "plugin "+p.Name(), func(ctx context.Context) error { return p.Run(ctx, s.c) })
	}
	names := make([]string, 0, len(s.acc.Record.Plugins))
	for _, rp := range s.acc.Record.Plugins {
		names = append(names, rp.Name)
	}
	return fmt.Errorf("cluster %s has no plugin %q (its plugins: %v)", tag, name, names)
}

// pluginIndex maps the i-th recorded plugin to its place in setup's plugin list, which leaves
// out the scheduler entry.
func pluginIndex(r Record, i int) int {
	n := 0
	for _, rp := range r.Plugins[:i] {
		if !plugins.IsScheduler(rp.Builtin) {
			n++
		}
	}
	return n
}

// region names the provider's region for files saved per cluster and region.
func (e *Engine) region() string {
	if r, ok := e.Provider.(interface{ Region() string }); ok {
		return r.Region()
	}
	return e.Provider.Name()
}

// retryReason says in a few words why a connection attempt failed, for a status line.
func retryReason(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "sshd not listening yet"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route yet"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "no answer"
	case strings.Contains(err.Error(), "unable to authenticate"):
		return "key not installed yet"
	}
	return "connection failed"
}
