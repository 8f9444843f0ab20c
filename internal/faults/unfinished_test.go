package faults

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUnfinishedNodes: a node the balancer launched whose setup failed is not left running
// outside the scheduler, counted but never used. The next iteration sets it up again (as
// `addnode -x` does) and it becomes a host; a node whose setup keeps failing is removed after
// three setups, and its alias is not taken twice.
func TestUnfinishedNodes(t *testing.T) {
	t.Parallel()
	flaky, err := filepath.Abs("testdata/flaky-add.sh")
	if err != nil {
		t.Fatal(err)
	}
	e := newLocalEnv(t, `
[cluster flaky]
EXTENDS = small
PLUGINS = sge, flaky

[plugin flaky]
SETUP_CLASS = script
ON_ADD_NODE = `+flaky+`
WHERE = nodes
`)
	const tag = "unfin"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "flaky", tag)
	failures := func(n string) {
		t.Helper()
		home := filepath.Join(e.state, "clusters", tag, "shared", "home")
		if err := os.WriteFile(filepath.Join(home, ".flaky-failures"), []byte(n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// One failed setup: the next iteration finishes the node.
	failures("1")
	bal := e.start("loadbalance", "-i", "5", "-n", "3", "-m", "3", "-k", "60", tag)
	bal.waitLine("adding node002 to cluster unfin failed", 3*time.Minute)
	bal.waitLine("balancer: finished the setup of node002", 2*time.Minute)
	if got := e.on(tag, "node002", "sudo cat /var/lib/flaky-setups"); got != "2" {
		t.Errorf("node002 was set up %q times, want 2", got)
	}
	if execs := e.on(tag, "master", "qconf -sel"); !strings.Contains(execs, "node002") {
		t.Errorf("node002 is no exec host after its setup was finished: %q", execs)
	}
	e.noDuplicates(tag)
	bal.signal(syscall.SIGTERM)
	if r := bal.wait(2 * time.Minute); r.code != 0 {
		t.Fatalf("the balancer: %s", r)
	}

	// A node whose setup always fails is removed after three setups.
	failures("99")
	bal = e.start("loadbalance", "-i", "5", "-n", "4", "-m", "4", "-k", "60", tag)
	bal.waitLine("balancer: removed node003: setup failed 3 times", 5*time.Minute)
	bal.signal(syscall.SIGTERM)
	r := bal.wait(5 * time.Minute)
	if r.code != 0 {
		t.Fatalf("the balancer: %s", r)
	}
	if strings.Contains(r.errOut, "already has a node") {
		t.Errorf("the balancer took an alias twice:\n%s", r.errOut)
	}
	if n := strings.Count(r.errOut, "balancer: finished the setup of node003"); n != 0 {
		t.Errorf("node003 reported finished %d times:\n%s", n, r.errOut)
	}
}
