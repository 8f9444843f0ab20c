package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/sim"
	"github.com/clusterctl/clusterctl/internal/cloud/sim/scale"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// scaleSizes are the cluster sizes the scale figures compare.
var scaleSizes = []int{1, 10, 100, 1000}

// BenchmarkScale measures clusterctl at 1 to 1000 nodes in one run (`make bench-scale`): start
// with full setup, addnode and removenode against simulated nodes that answer as recorded real
// ones (internal/cloud/sim), one balancer iteration at 1000 hosts, the EC2 calls of a
// 1000-node start against moto, and listclusters and sshmaster on a 1000-instance cluster
// through the real commands. It prints the table and writes it to $SCALE_REPORT when set.
// Its metrics are the ratios: setup T(1000)/T(1) and addnode's master commands at 1000 over 10.
func BenchmarkScale(b *testing.B) {
	var r scale.Report
	for range b.N {
		r = measureScale(b)
	}
	var out bytes.Buffer
	r.Write(&out)
	fmt.Print(out.String())
	if path := os.Getenv("SCALE_REPORT"); path != "" {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.Ratio(), "setup-T1000/T1")
	if len(r.Add) > 1 {
		b.ReportMetric(float64(r.Add[len(r.Add)-1].MasterCommands)/float64(max(r.Add[0].MasterCommands, 1)), "addnode-master-cmds-1000/10")
	}
}

func measureScale(b *testing.B) scale.Report {
	ctx := context.Background()
	dir := b.TempDir()
	net := sim.NewNetwork()
	r := scale.Report{RTT: net.RTT, Bandwidth: net.Bandwidth, Uplink: net.Uplink, APILatency: sim.DefaultAPILatency,
		FanOutLimit: remote.FanOutLimit()}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		r.OpenFiles = int(lim.Cur)
	}
	var largest *scale.Sim
	home := filepath.Join(dir, "home")
	for _, n := range scaleSizes {
		o := scale.SimOptions{PublicNodes: true}
		if n == scaleSizes[len(scaleSizes)-1] {
			o.StateDir = filepath.Join(home, ".clusterctl") // where the CLI below looks
		}
		f, s, err := scale.Setup(ctx, dir, o, n)
		if err != nil {
			b.Fatalf("start %d nodes: %v", n, err)
		}
		r.Setup = append(r.Setup, f)
		b.Logf("start %d nodes: %s", n, f.Wall)
		if n > 1 {
			add, remove, err := scale.AddRemove(ctx, s, n)
			if err != nil {
				b.Fatalf("%d nodes: %v", n, err)
			}
			r.Add, r.Remove = append(r.Add, add), append(r.Remove, remove)
		}
		if o.StateDir != "" {
			largest = s
			continue
		}
		if err := s.Engine.Terminate(ctx, scale.Tag); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range []int{1, scaleSizes[len(scaleSizes)-1]} {
		f, s, err := scale.Setup(ctx, dir, scale.SimOptions{}, n)
		if err != nil {
			b.Fatalf("start %d nodes through the master: %v", n, err)
		}
		r.ViaMaster = append(r.ViaMaster, f)
		if err := s.Engine.Terminate(ctx, scale.Tag); err != nil {
			b.Fatal(err)
		}
	}
	var err error
	if r.MemoryPerConn, r.MemoryConns, err = scale.ConnectionMemory(ctx, largest); err != nil {
		b.Fatal(err)
	}
	r.FirstOutput = firstOutputs(b, largest, home)
	if err := largest.Engine.Terminate(ctx, scale.Tag); err != nil {
		b.Fatal(err)
	}
	if r.Balancer, err = balancerIteration(ctx, dir, 1000, 10000); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{2, 1000} {
		r.EC2 = append(r.EC2, ec2Start(b, n))
	}
	return r
}

// firstOutputs runs listclusters and sshmaster as a user would, through the CLI, on the
// simulated cluster of s, and times their first output.
func firstOutputs(b *testing.B, s *scale.Sim, home string) []scale.FirstOutputFigure {
	insts, err := s.Provider.Instances(context.Background(), scale.Tag)
	if err != nil {
		b.Fatal(err)
	}
	var out []scale.FirstOutputFigure
	for _, args := range [][]string{{"listclusters", scale.Tag}, {"sshmaster", scale.Tag, scale.SSHMasterCommand}} {
		before := s.Provider.Calls()
		first := &firstWrite{start: time.Now()}
		var errOut bytes.Buffer
		streams := ui.NewStreams(strings.NewReader(""), first, &errOut)
		code := runWith(context.Background(), args, streams, func(a *app) {
			a.env.Home = home
			a.localStateDir = filepath.Join(home, "local")
			a.providerSeam = func(context.Context) (cloud.Provider, error) { return s.Provider, nil }
			a.dialSeam = s.Network.Dial
			a.builtinSSH = true
		})
		if code != 0 || first.wall() == 0 {
			b.Fatalf("clusterctl %s: exit %d, output %q\n%s", strings.Join(args, " "), code, first.String(), errOut.String())
		}
		calls := map[string]int{}
		for k, v := range s.Provider.Calls() {
			if d := v - before[k]; d > 0 {
				calls[k] = d
			}
		}
		out = append(out, scale.FirstOutputFigure{Command: "clusterctl " + strings.Join(args, " "), Instances: len(insts),
			Wall: first.wall(), Calls: calls})
	}
	return out
}

// firstWrite records when the first byte was written to it.
type firstWrite struct {
	start time.Time
	mu    sync.Mutex
	at    time.Time
	buf   bytes.Buffer
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at.IsZero() && len(p) > 0 {
		w.at = time.Now()
	}
	return w.buf.Write(p)
}

func (w *firstWrite) wall() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at.IsZero() {
		return 0
	}
	return w.at.Sub(w.start)
}

func (w *firstWrite) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// ec2Start launches n instances (start -o) against moto and counts the EC2 calls.
func ec2Start(b *testing.B, n int) scale.EC2Figure {
	e := newAWSEnv(b, smallCluster(""))
	// moto answers a DescribeInstances of a thousand instances in seconds, more on a busy
	// machine: the tests' 20 s bound on waits is too short here.
	e.timeout = 5 * time.Minute
	tag := fmt.Sprintf("scale%d", n)
	e.calls.Reset()
	start := time.Now()
	e.must("start", "-o", "-s", fmt.Sprint(n), tag)
	f := scale.EC2Figure{Nodes: n, Wall: time.Since(start), Calls: e.calls.Snapshot()}
	e.must("terminate", "-y", tag)
	return f
}
