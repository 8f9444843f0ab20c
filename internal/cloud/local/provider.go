package local

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// DefaultStateDir is where clusters, volumes and images live unless Options say otherwise. It is
// the local equivalent of an EC2 account: any clusterctl process on this machine finds the same
// clusters there.
const DefaultStateDir = "/var/lib/clusterctl"

// Zone is the only zone the local provider has; instances and volumes report it so the engine's
// zone logic (volumes and nodes in one zone) works unchanged.
const Zone = "local"

// defaultPollInterval paces Wait: a container boots in seconds, so polling faster than EC2's
// pace costs nothing and shortens every start.
const defaultPollInterval = 500 * time.Millisecond

// Options configure a Provider.
type Options struct {
	// StateDir holds clusters/ and volumes/ (default DefaultStateDir).
	StateDir string
	// ImageDir holds the image cache (default StateDir/images). Tests point it at the shared
	// cache while keeping their clusters in a temporary StateDir, so the image is built once per
	// machine, not once per test run.
	ImageDir string
	// Log receives every command run (debug) and notable events; nil discards.
	Log *slog.Logger
	// Progress receives one line per image build step, for the status display; nil drops them.
	Progress func(msg string)
	// PollInterval paces Wait (default 500ms).
	PollInterval time.Duration
}

// Provider runs clusters as systemd-nspawn containers on this machine. It keeps no state in
// memory: everything is read back from StateDir on each call, so a later clusterctl process
// finds, reaches and terminates what an earlier one started.
type Provider struct {
	stateDir string
	imageDir string
	log      *slog.Logger
	progress func(string)
	poll     time.Duration
}

// New returns a local provider. It checks no prerequisites (Preflight does, listing every
// problem at once), so commands that only read state work without root.
func New(o Options) (*Provider, error) {
	p := &Provider{
		stateDir: o.StateDir,
		imageDir: o.ImageDir,
		log:      o.Log,
		progress: o.Progress,
		poll:     o.PollInterval,
	}
	if p.stateDir == "" {
		p.stateDir = DefaultStateDir
	}
	if p.imageDir == "" {
		p.imageDir = filepath.Join(p.stateDir, "images")
	}
	for _, d := range []*string{&p.stateDir, &p.imageDir} {
		abs, err := filepath.Abs(*d)
		if err != nil {
			return nil, fmt.Errorf("local provider: %w", err)
		}
		// Mount points are compared with the kernel's mount table, which shows resolved paths.
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		// Overlay mount options and nspawn --bind use ',' and ':' as separators.
		if strings.ContainsAny(abs, ",:") {
			return nil, fmt.Errorf("local provider: directory %q must not contain ',' or ':'", abs)
		}
		*d = abs
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.progress == nil {
		p.progress = func(string) {}
	}
	if p.poll <= 0 {
		p.poll = defaultPollInterval
	}
	return p, nil
}

// Name identifies the provider in messages and records.
func (p *Provider) Name() string { return "local" }

// Capabilities: the local provider shares /home and volume paths by bind mounts (this kernel has
// no NFS) and binds each node's copies of snapshots itself, its image's login user is admin, a
// launch has no size limit because host keys are written straight into each container instead
// of travelling in size-limited user data, and volumes attached to running instances show up as
// directories under AttachDir.
func (p *Provider) Capabilities() cloud.Capabilities {
	return cloud.Capabilities{SharedFilesystem: true, DefaultLoginUser: defaultLoginUser, HostOnlyNetwork: true, AttachDir: AttachDir}
}

// StateDir is where the provider keeps clusters and volumes, for messages and cleanup hints.
func (p *Provider) StateDir() string { return p.stateDir }

// Compile-time check that Provider implements the engine's interface.
var _ cloud.Provider = (*Provider)(nil)
