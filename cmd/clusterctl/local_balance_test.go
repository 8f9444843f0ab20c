package main

import (
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/ui"
)

// TestLocalLoadBalance runs the balancer against a real local cluster with short settings:
// 30 queued jobs grow it from the master alone to 3 nodes that run jobs; once the queue is
// empty and the nodes have idled, it shrinks back to 1. The nodes the balancer adds get their
// own copy of the template's data snapshot, and take it along when removed. The stats CSV has a
// row per iteration and the plots exist. Then the daemon mode starts, writes its pid file, and
// stops on --kill.
func TestLocalLoadBalance(t *testing.T) {
	example, err := os.ReadFile("../../examples/local.ini")
	if err != nil {
		t.Fatal(err)
	}
	// The daemon mode needs the real binary (the test binary cannot re-run itself as
	// clusterctl); build it while HOME still points at the Go caches.
	bin := filepath.Join(t.TempDir(), "clusterctl")
	if os.Geteuid() == 0 {
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("build clusterctl: %v\n%s", err, out)
		}
	}
	e := newLocalEnv(t, string(example))
	snap := seedSnapshot(t, e)
	if err := os.WriteFile(e.config, append(example, []byte("\n[volume lbdata]\nSHARE = copy\nSNAPSHOT_ID = "+snap+
		"\nMOUNT_PATH = /lbdata\n\n[cluster lbcopies]\nEXTENDS = localcluster\nVOLUMES = lbdata\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	const tag = "lb"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "lbcopies", "-s", "1", tag)
	e.on(tag, "master", `sudo -iu clusteruser sh -c 'for i in $(seq 30); do qsub -b y -o /dev/null -j y sleep 3 >/dev/null; done'`)

	stats, plots := filepath.Join(e.home, "stats.csv"), filepath.Join(e.home, "plots")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan cliResult, 1)
	go func() {
		streams, _, out, errOut := ui.TestStreams()
		code := runWith(ctx, []string{"--config", e.config, "loadbalance", "-m", "3", "-n", "1", "-i", "2", "-w", "2", "-s", "2",
			"-k", "0.1", "-D", stats, "-P", plots, tag}, streams, func(a *app) {
			a.localStateDir, a.localImageDir = e.stateDir, localImageDir
		})
		done <- cliResult{code: code, out: out.String(), errOut: errOut.String()}
	}()
	nodes := func() int {
		r := e.cli("--output", "json", "listclusters", tag)
		return strings.Count(r.out, `"alias"`)
	}
	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(limit); !ok(); time.Sleep(2 * time.Second) {
			if time.Now().After(deadline) {
				cancel()
				r := <-done
				t.Fatalf("%s: not within %s\nbalancer log:\n%s", what, limit, r.errOut)
			}
		}
	}
	waitFor("grow to 3 nodes", 4*time.Minute, func() bool { return nodes() == 3 })
	// A node is listed from the moment its launch starts, its copy a moment later.
	waitFor("a copy of the data for each node the balancer added", 30*time.Second, func() bool {
		copies := copiesOf(t, e, tag)
		return len(copies) == 3 && len(copies["node001"]) == 1 && len(copies["node002"]) == 1 && copies["node002"][0].SnapshotID == snap
	})
	waitFor("queue drained", 4*time.Minute, func() bool {
		return e.on(tag, "master", "qstat -u '*' | wc -l") == "0"
	})
	ran := e.on(tag, "master", "qacct -j | awk '$1 == \"hostname\" { print $2 }' | sort -u | tr '\\n' ' '")
	if !strings.Contains(ran, "node001") || !strings.Contains(ran, "node002") {
		t.Errorf("jobs did not run on the added nodes: %s", ran)
	}
	waitFor("shrink back to 1 node", 4*time.Minute, func() bool { return nodes() == 1 })
	waitFor("the removed nodes' copies deleted", 30*time.Second, func() bool {
		copies := copiesOf(t, e, tag)
		return len(copies) == 1 && len(copies["master"]) == 1
	})
	time.Sleep(3 * time.Second) // one more quiet iteration
	cancel()
	r := <-done
	if r.code != 0 {
		t.Fatalf("loadbalance exited %d:\n%s", r.code, r.errOut)
	}
	iterations := len(regexp.MustCompile(`level=INFO msg="\d+ hosts?, `).FindAllString(r.errOut, -1))
	t.Logf("balancer log (%d iterations):\n%s", iterations, lastLines(r.errOut, 12))
	f, err := os.Open(stats)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) < 5 {
		t.Fatalf("stats CSV: %d rows, %v", len(rows), err)
	}
	if len(rows)-1 != iterations {
		t.Errorf("stats CSV has %d rows for %d iterations", len(rows)-1, iterations)
	}
	if rows[0][0] != "time" || len(rows[1]) != len(rows[0]) {
		t.Errorf("stats CSV header %v, first row %v", rows[0], rows[1])
	}
	pngs, _ := filepath.Glob(filepath.Join(plots, "*.png"))
	if len(pngs) < 3 {
		t.Errorf("plots: %v", pngs)
	}
	for _, p := range pngs {
		if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
			t.Errorf("plot %s is empty: %v", p, err)
		}
	}

	// Daemon mode.
	pid := filepath.Join(e.home, "bal.pid")
	run := func(args ...string) (string, error) {
		c := exec.Command(bin, append([]string{"--config", e.config}, args...)...)
		c.Env = append(os.Environ(), "CLUSTERCTL_LOCAL_DIR="+e.stateDir)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	if out, err := run("loadbalance", "--background", "--pidfile", pid, "-i", "30", tag); err != nil {
		t.Fatalf("background: %v\n%s", err, out)
	}
	data, err := os.ReadFile(pid)
	if err != nil || strings.TrimSpace(string(data)) == "" {
		t.Fatalf("pid file: %q %v", data, err)
	}
	if out, err := run("loadbalance", "--kill", "--pidfile", pid); err != nil || !strings.Contains(out, "stopped the balancer") {
		t.Fatalf("kill: %v\n%s", err, out)
	}
	if _, err := os.Stat(pid); !os.IsNotExist(err) {
		t.Errorf("pid file left after --kill: %v", err)
	}
}
