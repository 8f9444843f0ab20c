package sim

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Defaults of a simulated network: clusterctl on a workstation, the nodes in a cloud region.
const (
	// DefaultRTT is the round trip between this machine and a node.
	DefaultRTT = 50 * time.Millisecond
	// DefaultClusterRTT is the round trip between two nodes (the master forwarding to a node).
	DefaultClusterRTT = 500 * time.Microsecond
	// DefaultBandwidth is each link's bandwidth in bytes per second (100 Mbit/s).
	DefaultBandwidth = 100e6 / 8
	// DefaultUplink is this machine's own bandwidth each way, which all its links share
	// (1 Gbit/s).
	DefaultUplink = 1e9 / 8
)

// Network connects this machine to simulated nodes, in memory: every connection is a pair of
// links that deliver bytes after half the round trip time, no faster than the bandwidth
// allows. The real SSH client (remote.Options.Dial = Network.Dial) talks to each node's SSH
// server through it, so handshakes, channels, flow control and every byte are real; only the
// wire is simulated.
type Network struct {
	// RTT is the round trip between this machine and a node (default DefaultRTT).
	RTT time.Duration
	// ClusterRTT is the round trip between nodes (default DefaultClusterRTT).
	ClusterRTT time.Duration
	// Bandwidth is each link's bandwidth in bytes per second (default DefaultBandwidth;
	// negative is unlimited). Nodes reached through the master share the master's link.
	Bandwidth float64
	// Uplink is this machine's bandwidth each way in bytes per second, shared by all its
	// links (default DefaultUplink; negative is unlimited).
	Uplink float64

	mu       sync.Mutex
	hosts    map[netip.Addr]*Host
	up, down *uplink
	statsMu  sync.Mutex
	stats    Counters
	norm     normCache
	misses   []string
}

// NewNetwork returns an empty network with the defaults.
func NewNetwork() *Network {
	return &Network{RTT: DefaultRTT, ClusterRTT: DefaultClusterRTT, Bandwidth: DefaultBandwidth, Uplink: DefaultUplink,
		hosts: map[netip.Addr]*Host{}}
}

func (n *Network) bandwidth() float64 {
	if n.Bandwidth < 0 {
		return 0
	}
	return n.Bandwidth
}

// uplinks returns this machine's uplink each way, nil when unlimited.
func (n *Network) uplinks() (out, in *uplink) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Uplink <= 0 {
		return nil, nil
	}
	if n.up == nil {
		n.up, n.down = &uplink{bandwidth: n.Uplink}, &uplink{bandwidth: n.Uplink}
	}
	return n.up, n.down
}

// attach makes h reachable at its addresses.
func (n *Network) attach(h *Host) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range h.addrs() {
		n.hosts[a] = h
	}
}

// detach makes h unreachable.
func (n *Network) detach(h *Host) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range h.addrs() {
		if n.hosts[a] == h {
			delete(n.hosts, a)
		}
	}
}

func (n *Network) lookup(addr string) (*Host, netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, ap, fmt.Errorf("dial %s: %w", addr, err)
	}
	n.mu.Lock()
	h := n.hosts[ap.Addr()]
	n.mu.Unlock()
	if h == nil || ap.Port() != 22 || !h.listening() {
		return nil, ap, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(ap), Err: syscall.ECONNREFUSED}
	}
	return h, ap, nil
}

// Dial connects this machine to a node's SSH port: it takes a round trip (the TCP handshake),
// and is refused while the node is not up. It is a remote.Options.Dial.
func (n *Network) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	h, ap, err := n.lookup(addr)
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(n.RTT):
	}
	local := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40000}
	c, s := pipe(n.RTT/2, n.bandwidth(), local, net.TCPAddrFromAddrPort(ap),
		func(b int) { n.add(func(c *Counters) *int64 { return &c.BytesOut }, int64(b)) }, func(b int) { n.add(func(c *Counters) *int64 { return &c.BytesIn }, int64(b)) })
	c.out.shared, c.in.shared = n.uplinks()
	n.statsMu.Lock()
	n.stats.Connections++
	n.stats.Open++
	n.stats.PeakOpen = max(n.stats.PeakOpen, n.stats.Open)
	n.statsMu.Unlock()
	c.onClose = func() { n.add(func(c *Counters) *int64 { return &c.Open }, -1) }
	h.accept(s)
	return c, nil
}

// dialFrom connects a node (the master forwarding a jump connection) to another node over the
// cluster's own network.
func (n *Network) dialFrom(from *Host, addr string) (net.Conn, error) {
	h, ap, err := n.lookup(addr)
	if err != nil {
		return nil, err
	}
	time.Sleep(n.ClusterRTT)
	c, s := pipe(n.ClusterRTT/2, 0, from.tcpAddr(), net.TCPAddrFromAddrPort(ap), nil, nil)
	h.accept(s)
	return c, nil
}

// maxMisses bounds the unanswered commands kept for the report.
const maxMisses = 20

// missed remembers a command no recorded answer matched.
func (n *Network) missed(role string, sudo bool, command string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.misses) < maxMisses {
		n.misses = append(n.misses, fmt.Sprintf("on a %s (sudo %v):\n%s", role, sudo, command))
	}
}

// Missed lists the commands (normalized) that found no recorded answer, at most maxMisses.
func (n *Network) Missed() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.misses...)
}

// wait lets d pass, the time a node works on a command, unless the session closes first;
// it reports whether the time passed.
func (n *Network) wait(d time.Duration, closed <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-closed:
		return false
	}
}
