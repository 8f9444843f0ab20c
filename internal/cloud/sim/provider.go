package sim

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Defaults of a simulated cloud.
const (
	// DefaultAPILatency is how long one cloud API call takes.
	DefaultAPILatency = 100 * time.Millisecond
	// DefaultPollInterval paces waits for instances, as the EC2 provider's polling does.
	DefaultPollInterval = time.Second
	// describePage is how many instances one DescribeInstances page holds (EC2's maximum).
	describePage = 1000
	// launchBatch is how many instances one RunInstances call starts (the EC2 provider's
	// batches, bounded by the user data size).
	launchBatch = 100
)

// Options configure a simulated cloud.
type Options struct {
	// Network carries the SSH connections (default NewNetwork()).
	Network *Network
	// Answers are what nodes answer (default Recorded()).
	Answers *Answers
	// APILatency is the time each API call takes (default DefaultAPILatency; negative is none).
	APILatency time.Duration
	// BootTime is how long an instance takes from launch to accepting SSH (default 0: the
	// figures measure clusterctl, not the cloud).
	BootTime time.Duration
	// PollInterval paces Wait (default DefaultPollInterval).
	PollInterval time.Duration
	// PublicNodes gives every node a public address reached directly; false (EC2 in a private
	// subnet) reaches the nodes through the master, which alone has one.
	PublicNodes bool
	// SSHD are the nodes' OpenSSH limits (default DefaultSSHD).
	SSHD *SSHD
	// Type is what every instance type offers jobs (default one CPU and 1 GiB, the local
	// provider's small type, as in the recorded cluster).
	Type cloud.InstanceType
}

// Provider is a cloud in memory: clusters and instances that exist only in this process, each
// instance an SSH server on the simulated network (see Host). It implements cloud.Provider as
// the local provider does (shared /home, no SSH ingress rules) so the recorded answers apply,
// and counts the API calls an EC2 provider would make for each operation.
type Provider struct {
	o   Options
	net *Network

	mu        sync.Mutex
	clusters  map[string]*simCluster
	instances map[string]*instance
	next      uint32
	counts    map[string]int
}

type simCluster struct {
	c    cloud.Cluster
	keys *clusterKeys
}

type instance struct {
	in   cloud.Instance
	host *Host
	// runsAt is when a pending instance is running.
	runsAt time.Time
}

// New returns an empty simulated cloud.
func New(o Options) (*Provider, error) {
	if o.Network == nil {
		o.Network = NewNetwork()
	}
	if o.Answers == nil {
		a, err := Recorded()
		if err != nil {
			return nil, err
		}
		o.Answers = a
	}
	if o.APILatency == 0 {
		o.APILatency = DefaultAPILatency
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.SSHD == nil {
		d := DefaultSSHD
		o.SSHD = &d
	}
	if o.Type.CPUs == 0 {
		o.Type = cloud.InstanceType{CPUs: 1, Memory: 1 << 30}
	}
	return &Provider{o: o, net: o.Network, clusters: map[string]*simCluster{}, instances: map[string]*instance{},
		counts: map[string]int{}}, nil
}

var _ cloud.Provider = (*Provider)(nil)

// Network is the network the provider's instances are on.
func (p *Provider) Network() *Network { return p.net }

// Name identifies the provider.
func (p *Provider) Name() string { return "sim" }

// Capabilities are the local provider's, whose nodes the answers were recorded from.
func (p *Provider) Capabilities() cloud.Capabilities {
	return cloud.Capabilities{SharedFilesystem: true, DefaultLoginUser: "admin", HostOnlyNetwork: true}
}

// call counts n API calls of the named action made one after another (the pages of a
// listing) and takes their latency.
func (p *Provider) call(ctx context.Context, action string, n int) error {
	return p.calls(ctx, action, n, n)
}

// calls counts n API calls made rounds at a time and takes the latency of rounds calls.
func (p *Provider) calls(ctx context.Context, action string, n, rounds int) error {
	p.mu.Lock()
	p.counts[action] += n
	p.mu.Unlock()
	if p.o.APILatency <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(rounds) * p.o.APILatency):
		return nil
	}
}

// Calls returns the API calls made so far, by EC2 action name.
func (p *Provider) Calls() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Preflight checks nothing: the simulated cloud has room for anything.
func (p *Provider) Preflight(ctx context.Context, plan cloud.Plan) error {
	return p.call(ctx, "DescribeImages", 1)
}

// CreateCluster creates the cluster's boundary with its record.
func (p *Provider) CreateCluster(ctx context.Context, spec cloud.GroupSpec) (cloud.Cluster, error) {
	if err := p.call(ctx, "CreateSecurityGroup", 1); err != nil {
		return cloud.Cluster{}, err
	}
	keys, err := newClusterKeys(spec.Tag)
	if err != nil {
		return cloud.Cluster{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.clusters[spec.Tag]; ok {
		return cloud.Cluster{}, fmt.Errorf("cluster %s: %w", spec.Tag, cloud.ErrExists)
	}
	c := cloud.Cluster{Tag: spec.Tag, GroupID: "sg-sim-" + spec.Tag, GroupName: cloud.GroupPrefix + spec.Tag,
		CreatedAt: time.Now(), Recorded: append([]byte(nil), spec.Recorded...), Sealed: true}
	p.clusters[spec.Tag] = &simCluster{c: c, keys: keys}
	return c, nil
}

// GetCluster returns the cluster with tag.
func (p *Provider) GetCluster(ctx context.Context, tag string) (cloud.Cluster, error) {
	if err := p.call(ctx, "DescribeSecurityGroups", 1); err != nil {
		return cloud.Cluster{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.clusters[tag]
	if !ok {
		return cloud.Cluster{}, fmt.Errorf("cluster %s: %w", tag, cloud.ErrNotFound)
	}
	return c.c, nil
}

// ListClusters returns every cluster, sorted by tag.
func (p *Provider) ListClusters(ctx context.Context) ([]cloud.Cluster, error) {
	if err := p.call(ctx, "DescribeSecurityGroups", 1); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]cloud.Cluster, 0, len(p.clusters))
	for _, c := range p.clusters {
		out = append(out, c.c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out, nil
}

// DeleteCluster removes the cluster once no instance is left.
func (p *Provider) DeleteCluster(ctx context.Context, tag string) error {
	if err := p.call(ctx, "DeleteSecurityGroup", 1); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range p.instances {
		if in.in.Cluster == tag && in.in.State != cloud.StateTerminated {
			return fmt.Errorf("cluster %s still has instance %s", tag, in.in.ID)
		}
	}
	delete(p.clusters, tag)
	return nil
}

// Launch starts the instances as the EC2 provider does: one RunInstances call per launchBatch
// of them, named at launch, the first call alone and the others together after it.
func (p *Provider) Launch(ctx context.Context, req cloud.LaunchRequest) ([]cloud.Instance, error) {
	if len(req.Aliases) == 0 {
		return nil, nil
	}
	if err := p.call(ctx, "RunInstances", 1); err != nil {
		return nil, err
	}
	if rest := (len(req.Aliases)+launchBatch-1)/launchBatch - 1; rest > 0 {
		if err := p.calls(ctx, "RunInstances", rest, 1); err != nil {
			return nil, err
		}
	}
	p.mu.Lock()
	cl, ok := p.clusters[req.Tag]
	p.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("launch: cluster %s: %w", req.Tag, cloud.ErrNotFound)
	}
	var authorized []ssh.PublicKey
	for _, k := range req.Boot.AuthorizedKeys {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k))
		if err != nil {
			return nil, fmt.Errorf("launch: authorized key: %w", err)
		}
		authorized = append(authorized, pub)
	}
	login := req.Boot.LoginUser
	if login == "" {
		login = "admin"
	}
	cl.keys.loginUser = login
	now := time.Now()
	out := make([]cloud.Instance, 0, len(req.Aliases))
	for _, alias := range req.Aliases {
		signer, err := ssh.ParsePrivateKey(req.Boot.HostKeys[alias])
		if err != nil {
			return out, fmt.Errorf("launch %s: host key: %w", alias, err)
		}
		p.mu.Lock()
		p.next++
		seq := p.next
		p.mu.Unlock()
		in := cloud.Instance{ID: fmt.Sprintf("i-%017x", seq), Cluster: req.Tag, Alias: alias, Role: req.Role,
			State: cloud.StatePending, PrivateIP: addr(10<<24, seq).String(), Lifecycle: cloud.OnDemand,
			LaunchTime: now, InstanceType: req.InstanceType, ImageID: req.ImageID, Zone: "sim-1a", KeyName: req.KeyName,
			Groups: []string{cl.c.GroupID}, HostKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))),
			Tags: map[string]string{cloud.TagCluster: req.Tag, cloud.TagAlias: alias, cloud.TagRole: string(req.Role)}}
		if req.Role == cloud.RoleMaster || p.o.PublicNodes {
			in.PublicIP = addr(100<<24|64<<16, seq).String()
		}
		h := &Host{Alias: alias, Role: req.Role, PrivateIP: netip.MustParseAddr(in.PrivateIP), net: p.net, cluster: cl.keys,
			answers: p.o.Answers, sshd: *p.o.SSHD, handlers: memFiles(login), runs: map[entryKey]int{}}
		if in.PublicIP != "" {
			h.PublicIP = netip.MustParseAddr(in.PublicIP)
		}
		h.config = serverConfig(signer, login, authorized)
		p.net.attach(h)
		inst := &instance{in: in, host: h, runsAt: now.Add(p.o.BootTime)}
		time.AfterFunc(p.o.BootTime, func() { h.up.Store(true) })
		p.mu.Lock()
		p.instances[in.ID] = inst
		p.mu.Unlock()
		out = append(out, in)
	}
	return out, nil
}

// addr is base plus n as an IPv4 address.
func addr(base, n uint32) netip.Addr {
	v := base + n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// serverConfig is a node's sshd: its host key, and the login user with the authorized keys.
func serverConfig(hostKey ssh.Signer, user string, authorized []ssh.PublicKey) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(m ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if m.User() != user {
			return nil, fmt.Errorf("no user %s", m.User())
		}
		for _, k := range authorized {
			if string(k.Marshal()) == string(key.Marshal()) {
				return nil, nil
			}
		}
		return nil, errors.New("key not authorized")
	}}
	cfg.AddHostKey(hostKey)
	return cfg
}

// Instances lists the cluster's instances that are not terminated, sorted by alias, in pages
// of describePage.
func (p *Provider) Instances(ctx context.Context, tag string) ([]cloud.Instance, error) {
	insts := p.list(tag)
	if err := p.call(ctx, "DescribeInstances", max(1, int(math.Ceil(float64(len(insts))/describePage)))); err != nil {
		return nil, err
	}
	return p.list(tag), nil
}

func (p *Provider) list(tag string) []cloud.Instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	var out []cloud.Instance
	for _, in := range p.instances {
		if in.in.State == cloud.StatePending && !now.Before(in.runsAt) {
			in.in.State = cloud.StateRunning
		}
		if in.in.Cluster == tag && in.in.State != cloud.StateTerminated {
			out = append(out, in.in)
		}
	}
	cloud.SortInstances(out)
	return out
}

// Wait polls until every instance in ids is in state.
func (p *Provider) Wait(ctx context.Context, tag string, ids []string, state string) ([]cloud.Instance, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for {
		insts, err := p.Instances(ctx, tag)
		if err != nil {
			return nil, err
		}
		var ready []cloud.Instance
		status := cloud.WaitStatus{Total: len(ids), Pending: map[string]string{}}
		for _, in := range insts {
			switch {
			case !want[in.ID]:
			case in.State == state:
				ready = append(ready, in)
			default:
				status.Pending[in.Alias] = in.State
			}
		}
		status.Ready = len(ready)
		cloud.ReportWait(ctx, status)
		if len(ready) == len(ids) {
			return ready, nil
		}
		select {
		case <-ctx.Done():
			return ready, fmt.Errorf("wait for %d instances of %s: %d are %s: %w", len(ids), tag, len(ready), state, ctx.Err())
		case <-time.After(p.o.PollInterval):
		}
	}
}

// setState moves instances to a state, bringing their SSH servers up or down.
func (p *Provider) setState(ctx context.Context, action string, ids []string, state string) error {
	if err := p.call(ctx, action, max(1, (len(ids)+describePage-1)/describePage)); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		in, ok := p.instances[id]
		if !ok {
			return fmt.Errorf("instance %s: %w", id, cloud.ErrNotFound)
		}
		in.in.State = state
		in.host.up.Store(state == cloud.StateRunning)
		if state == cloud.StateTerminated {
			p.net.detach(in.host)
		}
	}
	return nil
}

// Start starts stopped instances.
func (p *Provider) Start(ctx context.Context, ids []string) error {
	return p.setState(ctx, "StartInstances", ids, cloud.StateRunning)
}

// Stop stops instances.
func (p *Provider) Stop(ctx context.Context, ids []string) error {
	return p.setState(ctx, "StopInstances", ids, cloud.StateStopped)
}

// Reboot reboots instances (they answer again at once).
func (p *Provider) Reboot(ctx context.Context, ids []string) error {
	return p.setState(ctx, "RebootInstances", ids, cloud.StateRunning)
}

// Terminate ends instances.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	return p.setState(ctx, "TerminateInstances", ids, cloud.StateTerminated)
}

// errNoVolumes is the answer to every volume operation: the simulated clusters have none.
var errNoVolumes = errors.New("the simulated cloud has no volumes")

// Volumes lists no volumes.
func (p *Provider) Volumes(ctx context.Context, f cloud.VolumeFilter) ([]cloud.Volume, error) {
	return nil, p.call(ctx, "DescribeVolumes", 1)
}

// CreateVolume is not supported.
func (p *Provider) CreateVolume(context.Context, cloud.VolumeSpec) (cloud.Volume, error) {
	return cloud.Volume{}, errNoVolumes
}

// AttachVolume is not supported.
func (p *Provider) AttachVolume(context.Context, string, string, string) error { return errNoVolumes }

// DetachVolume is not supported.
func (p *Provider) DetachVolume(context.Context, string) error { return errNoVolumes }

// DeleteVolume is not supported.
func (p *Provider) DeleteVolume(context.Context, string) error { return errNoVolumes }

// ResizeVolume is not supported.
func (p *Provider) ResizeVolume(context.Context, string, int) error { return errNoVolumes }

// InstanceTypes sizes every type as Options.Type.
func (p *Provider) InstanceTypes(ctx context.Context, names []string) (map[string]cloud.InstanceType, error) {
	out := make(map[string]cloud.InstanceType, len(names))
	for _, n := range names {
		t := p.o.Type
		t.Name = n
		out[n] = t
	}
	return out, p.call(ctx, "DescribeInstanceTypes", 1)
}

// Hosts returns the simulated nodes of a cluster that are not terminated, by alias.
func (p *Provider) Hosts(tag string) map[string]*Host {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]*Host{}
	for _, in := range p.instances {
		if in.in.Cluster == tag && in.in.State != cloud.StateTerminated {
			out[in.in.Alias] = in.host
		}
	}
	return out
}

// newClusterKeys makes the key pair a cluster's answers print where the recorded node printed
// root's key.
func newClusterKeys(tag string) (*clusterKeys, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "root@cluster")
	if err != nil {
		return nil, err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return &clusterKeys{tag: tag, loginUser: "admin", pem: string(pem.EncodeToMemory(block)),
		pub: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))}, nil
}
