package scale

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud/local"
	"github.com/clusterctl/clusterctl/internal/cloud/sim"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite ../testdata/answers.json with the answers recorded from the real cluster")

// TestRecordedAnswers runs the scenario the simulation runs (start with full setup of one, two
// and three nodes, a command on the master, addnode and removenode of one, two and three nodes)
// on a real local cluster, records every
// command and answer, and compares them with the answers the simulated nodes give
// (sim/testdata/answers.json): a change to what clusterctl sends, or to how a Debian node with
// Grid Engine answers, fails here until the answers are recorded again with -update.
func TestRecordedAnswers(t *testing.T) {
	requireLocal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	p, err := local.New(local.Options{StateDir: t.TempDir(), ImageDir: testenv.ImageDir(),
		Progress: func(msg string) { t.Log("image:", msg) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.EnsureImage(ctx, "debian-12"); err != nil {
		t.Fatal(err)
	}
	const tag = "simrec"
	rec := &sim.Recorder{Tag: tag}
	var logBuf strings.Builder
	eng := Engine(p, t.TempDir(), nil, rec.Observe, slog.New(slog.NewTextHandler(&logBuf, nil)))
	t.Cleanup(func() {
		if _, err := p.GetCluster(context.Background(), tag); err != nil {
			return
		}
		if err := eng.Terminate(context.Background(), tag); err != nil {
			t.Errorf("terminate %s: %v", tag, err)
		}
	})
	so := cluster.SetupOptions{}
	type step struct {
		name string
		run  func() error
	}
	startSize := func(size int) func() error {
		return func() error {
			tpl, err := Template(t.TempDir(), size)
			if err != nil {
				return err
			}
			_, err = eng.Start(ctx, cluster.StartOptions{Tag: tag, Template: tpl, ProviderName: "local", Setup: so})
			return err
		}
	}
	// Starts of one, two and three nodes show how the master's setup grows with the hosts.
	var steps []step
	for _, size := range []int{1, 2} {
		steps = append(steps, step{fmt.Sprintf("start %d", size), startSize(size)},
			step{fmt.Sprintf("terminate %d", size), func() error {
				defer rec.NewCluster()
				return eng.Terminate(ctx, tag)
			}})
	}
	steps = append(steps, []step{
		{"start 3", startSize(3)},
		{"sshmaster " + SSHMasterCommand, func() error { return sshMaster(ctx, eng, tag) }},
	}...)
	// Adding and removing one, two and three nodes shows how a master script's time grows with
	// the hosts it names (Answers.Work).
	for _, n := range []int{1, 2, 3} {
		steps = append(steps, step{fmt.Sprintf("addnode -n %d", n), func() error {
			_, err := eng.AddNodes(ctx, tag, cluster.AddOptions{Count: n}, so)
			return err
		}})
	}
	for _, n := range []int{1, 2, 3} {
		steps = append(steps, step{fmt.Sprintf("removenode -n %d", n), func() error {
			_, err := eng.RemoveNodes(ctx, tag, cluster.RemoveOptions{Count: n}, so)
			return err
		}})
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v\nlog:\n%s", s.name, err, logBuf.String())
		}
		t.Logf("%s: %s", s.name, time.Since(start).Round(time.Millisecond))
	}
	got, skipped := rec.Answers(fmt.Sprintf("a real local cluster (debian-12, Grid Engine), %s", time.Now().UTC().Format("2006-01-02")))
	if len(skipped) > 0 {
		t.Fatalf("commands without an answer (connection failures): %v", skipped)
	}
	if *update {
		if err := got.Save("../testdata/answers.json"); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %d answers", len(got.Entries))
		return
	}
	want, err := sim.Recorded()
	if err != nil {
		t.Fatal(err)
	}
	if diff := want.Diff(got); len(diff) > 0 {
		t.Errorf("the real nodes' answers differ from the simulation's (record again: go test ./internal/cloud/sim/scale -run TestRecordedAnswers -update):\n%s",
			strings.Join(diff, "\n\n"))
	}
}

// requireLocal skips, saying why, unless this machine can run local clusters (root and the
// tools `make test` installs).
func requireLocal(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("recording needs a real local cluster, which needs root (make test runs as root)")
	}
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing: `make test` installs systemd-container, debootstrap and iproute2", tool)
		}
	}
}
