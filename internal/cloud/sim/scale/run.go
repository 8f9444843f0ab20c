package scale

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud/sim"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// Sim is a simulated cloud with the engine that works on it.
type Sim struct {
	Provider *sim.Provider
	Network  *sim.Network
	Engine   *cluster.Engine
	// Setup are the setup options every operation uses (Concurrency included).
	Setup cluster.SetupOptions
	// dir holds the files the scenarios write (config files).
	dir string
}

// SimOptions say what cloud to simulate.
type SimOptions struct {
	// RTT and Bandwidth are the network's (defaults sim.DefaultRTT, sim.DefaultBandwidth).
	RTT       time.Duration
	Bandwidth float64
	// PublicNodes reaches every node directly; false goes through the master.
	PublicNodes bool
	// APILatency is each API call's time (default sim.DefaultAPILatency).
	APILatency time.Duration
	// Concurrency bounds per-node work (0: clusterctl's default).
	Concurrency int
	// Log receives the engine's log (nil discards it).
	Log io.Writer
	// Status receives the engine's status lines, one per step with its time (nil discards
	// them).
	Status io.Writer
	// StateDir is the engine's state directory (~/.clusterctl); empty makes one under dir.
	StateDir string
}

// NewSim builds a simulated cloud and an engine on it, its state in a new directory under
// dir.
func NewSim(dir string, o SimOptions) (*Sim, error) {
	net := sim.NewNetwork()
	if o.RTT > 0 {
		net.RTT = o.RTT
	}
	if o.Bandwidth != 0 {
		net.Bandwidth = o.Bandwidth
	}
	p, err := sim.New(sim.Options{Network: net, PublicNodes: o.PublicNodes, APILatency: o.APILatency})
	if err != nil {
		return nil, err
	}
	state := o.StateDir
	if state == "" {
		if state, err = os.MkdirTemp(dir, "sim"); err != nil {
			return nil, err
		}
	}
	log := slog.New(slog.DiscardHandler)
	if o.Log != nil {
		log = slog.New(slog.NewTextHandler(o.Log, nil))
	}
	eng := Engine(p, state, net.Dial, nil, log)
	if o.Status != nil {
		eng.Status = ui.NewStreams(nil, io.Discard, o.Status).Status()
	}
	return &Sim{Provider: p, Network: net, Engine: eng, Setup: cluster.SetupOptions{Concurrency: o.Concurrency}, dir: dir}, nil
}

// Start starts a cluster of size nodes (the master included) with full setup. It is recorded
// as a local cluster, whose answers the simulated nodes give.
func (s *Sim) Start(ctx context.Context, tag string, size int) error {
	tpl, err := Template(s.dir, size)
	if err != nil {
		return err
	}
	_, err = s.Engine.Start(ctx, cluster.StartOptions{Tag: tag, Template: tpl, ProviderName: "local", Setup: s.Setup})
	return s.explain(err)
}

// AddNodes adds n nodes.
func (s *Sim) AddNodes(ctx context.Context, tag string, n int) error {
	_, err := s.Engine.AddNodes(ctx, tag, cluster.AddOptions{Count: n}, s.Setup)
	return s.explain(err)
}

// RemoveNodes removes the n highest numbered nodes.
func (s *Sim) RemoveNodes(ctx context.Context, tag string, n int) error {
	_, err := s.Engine.RemoveNodes(ctx, tag, cluster.RemoveOptions{Count: n}, s.Setup)
	return s.explain(err)
}

// explain adds the commands no recorded answer matched to an error.
func (s *Sim) explain(err error) error {
	if err == nil {
		return nil
	}
	if m := s.Network.Missed(); len(m) > 0 {
		return fmt.Errorf("%w\ncommands without a recorded answer:\n%s", err, m[0])
	}
	return err
}

// SSHMasterCommand is what the sshmaster figure runs on the master.
const SSHMasterCommand = "uname -n"

// sshMaster does what `clusterctl sshmaster TAG uname -n` does with the built-in client: load
// the cluster, connect to the master, run the command.
func sshMaster(ctx context.Context, eng *cluster.Engine, tag string) error {
	acc, err := eng.Access(ctx, tag, nil)
	if err != nil {
		return err
	}
	m, err := acc.Master()
	if err != nil {
		return err
	}
	t, err := acc.Target(m, "")
	if err != nil {
		return err
	}
	client, err := remote.Connect(ctx, t, acc.Options())
	if err != nil {
		return err
	}
	defer client.Close()
	_, err = client.Run(ctx, SSHMasterCommand)
	return err
}
