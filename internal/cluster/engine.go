package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// Engine runs cluster operations against one provider. It holds no cluster state of its own:
// every operation reads the cluster back from the provider.
type Engine struct {
	Provider cloud.Provider
	Status   *ui.Status
	Log      *slog.Logger
	// StateDir is ~/.clusterctl; per-cluster caches (known_hosts) live below it.
	StateDir string
	// Version is recorded on clusters this binary creates.
	Version string
	// Now is the clock; tests fix it.
	Now func() time.Time
	// PublicIP finds the caller's public address for the default SSH_CIDR.
	PublicIP func(context.Context) (netip.Addr, error)
	// WaitTimeout bounds each wait for instances to reach a state and for their SSH
	// (--wait-timeout); 0 means the defaults (cloud.DefaultWaitTimeout, SSHReadyTimeout).
	WaitTimeout time.Duration
	// Secret reports which plugin parameters are secrets, so records leave them out.
	Secret func(builtin, param string) bool
	// Dial and Observe go into every SSH connection's options (remote.Options): the simulated
	// network of internal/cloud/sim, and the recording of real nodes' answers for it. Nil
	// means the system's network, unobserved.
	Dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	Observe func(remote.Exchange)

	// LockWait bounds how long a command that changes a cluster waits for another one to
	// finish with it; 0 refuses at once.
	LockWait time.Duration
	// Command names the running command in the cluster lock ("addnode"), for the message
	// another command shows while it waits.
	Command string
	// SpotMetadata, when set, is the metadata service spot nodes' interruption watcher asks,
	// instead of the provider's (Capabilities.InstanceMetadata).
	SpotMetadata string

	// warned holds the warnings shown by this engine (one command), so each shows once.
	warned sync.Map
	// goneCache holds each cluster's instances terminated outside clusterctl, asked once.
	goneCache sync.Map
	// locks are the cluster locks this engine holds, so nested operations take them once.
	locks heldLocks
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Engine) waitTimeout() time.Duration {
	if e.WaitTimeout > 0 {
		return e.WaitTimeout
	}
	return cloud.DefaultWaitTimeout
}

// KnownHosts is the cluster's pinned host key file, shared with the system ssh client.
func (e *Engine) KnownHosts(tag string) *remote.KnownHosts {
	return remote.NewKnownHosts(KnownHostsPath(e.StateDir, tag))
}

// KnownHostsPath is where a cluster's pinned host keys live.
func KnownHostsPath(stateDir, tag string) string {
	return filepath.Join(stateDir, "known_hosts", tag)
}

// step runs fn as one status line.
func (e *Engine) step(ctx context.Context, name string, fn func(context.Context, *ui.Step) error) error {
	if e.Status == nil {
		return fn(ctx, nil)
	}
	return e.Status.Run(ctx, name, fn)
}

// ErrClusterNotFound matches (errors.Is) every NotFoundError.
var ErrClusterNotFound = errors.New("cluster not found")

// NotFoundError is a tag no cluster carries; it names the clusters that do exist.
type NotFoundError struct {
	Tag      string
	Existing []string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no cluster %q", e.Tag)
	if len(e.Existing) == 0 {
		return msg + " (no clusters exist)"
	}
	return msg + " (clusters: " + strings.Join(e.Existing, ", ") + ")"
}

// Is makes errors.Is(err, ErrClusterNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrClusterNotFound }

// NotFound builds the error for a missing cluster, naming the clusters that do exist.
func (e *Engine) NotFound(ctx context.Context, tag string) error {
	nf := &NotFoundError{Tag: tag}
	if clusters, err := e.Provider.ListClusters(ctx); err == nil {
		for _, c := range clusters {
			nf.Existing = append(nf.Existing, c.Tag)
		}
	}
	return nf
}

// DefaultPublicIP asks a public echo service for the caller's address, once, with a short
// timeout; SSH_CIDR in the template avoids the lookup.
func DefaultPublicIP(ctx context.Context) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://checkip.amazonaws.com", nil)
	if err != nil {
		return netip.Addr{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("look up this machine's public address: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 100))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("look up this machine's public address: %w", err)
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(string(body)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("look up this machine's public address: unexpected answer %q", body)
	}
	return addr, nil
}

// sshCIDR decides which addresses may reach SSH: the template's SSH_CIDR, else this machine's
// public address as /32. Failing the lookup stops the start: opening SSH to the world is never a
// silent fallback.
func (e *Engine) sshCIDR(ctx context.Context, configured []string) ([]string, error) {
	if len(configured) > 0 {
		return configured, nil
	}
	lookup := e.PublicIP
	if lookup == nil {
		lookup = DefaultPublicIP
	}
	addr, err := lookup(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w; set SSH_CIDR in the template to the addresses allowed to reach SSH (e.g. 203.0.113.7/32)", err)
	}
	bits := 32
	if addr.Is6() {
		bits = 128
	}
	return []string{netip.PrefixFrom(addr, bits).String()}, nil
}
