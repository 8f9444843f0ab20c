package scale

import (
	"fmt"
	"io"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud/sim"
)

// Report is everything `make bench-scale` measures, printed as one table by Write.
type Report struct {
	// The simulated network and cloud.
	RTT, APILatency   time.Duration
	Bandwidth, Uplink float64

	// Setup are starts with full setup of nodes with public addresses, ViaMaster of nodes
	// reached through the master; both by growing size.
	Setup, ViaMaster []SetupFigure
	// Add and Remove are addnode and removenode of one node, by cluster size.
	Add, Remove []ChangeFigure
	// MemoryPerConn is the heap of one SSH connection (client and simulated server), from
	// holding MemoryConns at once.
	MemoryPerConn float64
	MemoryConns   int
	// OpenFiles is this process's open-file limit, FanOutLimit the fan-out bound it gives.
	OpenFiles, FanOutLimit int
	Balancer               BalancerFigure
	// EC2 are the API calls of start -o against moto, by size.
	EC2 []EC2Figure
	// FirstOutput are commands on the largest simulated cluster and how long until they
	// printed something.
	FirstOutput []FirstOutputFigure
}

// EC2Figure is a start -o against moto's EC2: its API calls and time.
type EC2Figure struct {
	Nodes int
	Wall  time.Duration
	Calls map[string]int
}

// FirstOutputFigure is a command's time to its first output.
type FirstOutputFigure struct {
	Command   string
	Instances int
	Wall      time.Duration
	Calls     map[string]int
}

// Ratio is T(largest)/T(1) of the setups of nodes with public addresses.
func (r Report) Ratio() float64 { return ratio(r.Setup) }

func ratio(fs []SetupFigure) float64 {
	if len(fs) < 2 || fs[0].Wall <= 0 {
		return 0
	}
	return fs[len(fs)-1].Wall.Seconds() / fs[0].Wall.Seconds()
}

// Summary is the last line: the setup ratio and the master commands of addnode on the smallest
// and the largest cluster.
func (r Report) Summary() string {
	var a, b int64
	var na, nb int
	if len(r.Add) > 0 {
		a, na = r.Add[0].MasterCommands, r.Add[0].Nodes
		b, nb = r.Add[len(r.Add)-1].MasterCommands, r.Add[len(r.Add)-1].Nodes
	}
	largest := 0
	if len(r.Setup) > 0 {
		largest = r.Setup[len(r.Setup)-1].Nodes
	}
	return fmt.Sprintf("scale: setup T(%d)/T(1) = %.2f, addnode master commands N=%d: %d, N=%d: %d", largest, r.Ratio(), na, a, nb, b)
}

// Write prints the report as a table, its last line Summary.
func (r Report) Write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("clusterctl at scale: real engine, setup, Grid Engine and plugin code against simulated nodes")
	p("(network RTT %s, %.0f Mbit/s per link, %.0f Mbit/s for this machine; cloud API calls %s each; node-side work as recorded on real nodes)",
		r.RTT, r.Bandwidth*8/1e6, r.Uplink*8/1e6, r.APILatency)
	for _, set := range []struct {
		title string
		figs  []SetupFigure
	}{{"Start with full setup, nodes with public addresses (each reached directly)", r.Setup},
		{"Start with full setup, nodes reached through the master (jump host)", r.ViaMaster}} {
		if len(set.figs) == 0 {
			continue
		}
		p("")
		p("%s", set.title)
		p("  %6s %8s %9s %9s %9s %12s %12s %9s %8s  %s", "nodes", "wall", "T(N)/T(1)", "SSH conns", "peak open",
			"master cmds", "rt per node", "MB out", "MB in", "cloud API calls")
		for _, f := range set.figs {
			p("  %6d %7.1fs %9.2f %9d %9d %12d %12d %9.1f %8.1f  %s", f.Nodes, f.Wall.Seconds(), f.Wall.Seconds()/set.figs[0].Wall.Seconds(),
				f.Net.Connections, f.Net.PeakOpen, f.MasterCommands, f.NodeSessions, mb(f.Net.BytesOut), mb(f.Net.BytesIn), calls(f.Calls))
		}
	}
	if len(r.Add) > 0 {
		p("")
		p("addnode and removenode of one node (rt per existing node: sessions, each a round trip or more)")
		p("  %6s | %8s %12s %22s | %8s %12s %22s", "nodes", "addnode", "master cmds", "rt per existing node", "removenode", "master cmds", "rt per existing node")
		for i, a := range r.Add {
			rm := ChangeFigure{}
			if i < len(r.Remove) {
				rm = r.Remove[i]
			}
			p("  %6d | %7.1fs %12d %22d | %9.1fs %12d %22d", a.Nodes, a.Wall.Seconds(), a.MasterCommands, a.PerExisting,
				rm.Wall.Seconds(), rm.MasterCommands, rm.PerExisting)
		}
	}
	r.writeLimits(p)
	if len(r.Setup) > 1 {
		first, last := r.Setup[0], r.Setup[len(r.Setup)-1]
		p("")
		p("Where the time goes: steps of start with full setup, %d node vs %d nodes", first.Nodes, last.Nodes)
		writeSteps(w, first, last)
	}
	if b := r.Balancer; b.Hosts > 0 {
		p("")
		p("Balancer: one iteration at %d hosts, %d jobs running and %d queued (%.1f MB of Grid Engine XML parsed)",
			b.Hosts, b.Running, b.Queued, mb(int64(b.OutputBytes)))
		p("  CPU %.2fs (goal under 1 s), wall %.2fs, decision: %s", b.CPU.Seconds(), b.Wall.Seconds(), b.Decision)
	}
	if len(r.EC2) > 0 {
		p("")
		p("EC2 API calls of start -o against moto (instances tagged at launch: CreateTags is only the cluster lease's, written once and renewed every 40 s)")
		p("  %6s %8s %13s %11s %18s  %s", "nodes", "wall", "RunInstances", "CreateTags", "DescribeInstances", "all calls")
		for _, f := range r.EC2 {
			p("  %6d %7.1fs %13d %11d %18d  %s", f.Nodes, f.Wall.Seconds(), f.Calls["RunInstances"], f.Calls["CreateTags"],
				f.Calls["DescribeInstances"], calls(f.Calls))
		}
	}
	if len(r.FirstOutput) > 0 {
		p("")
		p("Time to first output on a cluster of %d instances (simulated)", r.FirstOutput[0].Instances)
		for _, f := range r.FirstOutput {
			p("  %-36s %6.2fs  %s", f.Command, f.Wall.Seconds(), calls(f.Calls))
		}
	}
	p("")
	p("%s", r.Summary())
}

// writeLimits prints how close the largest runs came to the limits of OpenSSH and this machine.
func (r Report) writeLimits(p func(string, ...any)) {
	var direct, jump SetupFigure
	if len(r.Setup) > 0 {
		direct = r.Setup[len(r.Setup)-1]
	}
	if len(r.ViaMaster) > 0 {
		jump = r.ViaMaster[len(r.ViaMaster)-1]
	}
	d := sim.DefaultSSHD
	p("")
	p("Limits at %d nodes", direct.Nodes)
	p("  open files here: at most %d connections open at once (%d nodes direct), %d through the master; limit %d, fan-out bound %d",
		direct.Net.PeakOpen, direct.Nodes, jump.Net.PeakOpen, r.OpenFiles, r.FanOutLimit)
	p("  master's sshd: %d connections to it carry %d forwarded nodes, at most %d on one (an sshd process has %d open files); %d refused",
		jump.Net.Connections, jump.Net.JumpChannels, jump.Net.PeakForwards, d.NoFile, jump.Net.RefusedForwards)
	p("  MaxStartups %d:%d:%d: at most %d unauthenticated connections at once on a node; %d dropped",
		d.MaxStartups[0], d.MaxStartups[1], d.MaxStartups[2], max(direct.Net.PeakStartups, jump.Net.PeakStartups),
		direct.Net.RefusedStartups+jump.Net.RefusedStartups)
	p("  MaxSessions %d: at most %d sessions open at once on a connection; %d refused",
		d.MaxSessions, max(direct.Net.PeakSessions, jump.Net.PeakSessions), direct.Net.RefusedSessions+jump.Net.RefusedSessions)
	if r.MemoryConns > 0 {
		p("  memory: %.0f KiB per SSH connection (client and simulated server), %.0f MiB for %d held at once",
			r.MemoryPerConn/1024, r.MemoryPerConn*float64(r.MemoryConns)/(1<<20), r.MemoryConns)
	}
}

func mb(b int64) float64 { return float64(b) / 1e6 }
