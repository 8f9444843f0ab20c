package faults

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConcurrentCommands: commands that change one cluster at once never corrupt it. Two
// addnodes both succeed, one after the other, with nodes of their own; a command asked not to
// wait is refused naming the holder, its pid and since when; read-only commands never wait; a
// second balancer is refused at once while the first runs, and addnode works beside it;
// terminate during an addnode waits for it, then removes everything.
func TestConcurrentCommands(t *testing.T) {
	t.Parallel()
	e := newLocalEnv(t)
	const tag = "concur"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "small", tag)

	first, second := e.start("addnode", tag), e.start("addnode", tag)
	first.waitLine("• launch", 2*time.Minute)
	start := time.Now()
	for _, args := range [][]string{{"listclusters", tag}, {"sshmaster", tag, "true"}} {
		if r := e.must(args...); strings.Contains(r.errOut, "Waiting for cluster") {
			t.Errorf("%v waited for the lock:\n%s", args, r.errOut)
		}
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("read-only commands took %s while addnode ran", took)
	}
	busy := e.run("--lock-wait", "0", "repair", tag)
	holder := regexp.MustCompile(`cluster concur is being changed by clusterctl addnode \(pid \d+ on [^)]+\) since \d\d:\d\d:\d\d`)
	if busy.code != 5 || !holder.MatchString(busy.errOut) {
		t.Errorf("repair --lock-wait 0 while addnode runs: want exit 5 naming the holder:\n%s", busy)
	}
	r1, r2 := first.wait(5*time.Minute), second.wait(5*time.Minute)
	if r1.code != 0 || r2.code != 0 {
		t.Fatalf("two addnodes at once:\n%s\n%s", r1, r2)
	}
	if !strings.Contains(r1.errOut+r2.errOut, "Waiting for cluster concur: clusterctl addnode (pid ") {
		t.Errorf("neither addnode said it waited:\n%s\n%s", r1.errOut, r2.errOut)
	}
	if got := e.aliases(tag); got != "master node001 node002 node003" {
		t.Fatalf("after two addnodes: %s", got)
	}
	e.noDuplicates(tag)

	bal := e.start("loadbalance", "-i", "5", "-n", "1", "-m", "6", "-k", "60", tag)
	bal.waitLine("Balancing concur", time.Minute)
	again := e.run("loadbalance", "-i", "5", tag)
	if again.code != 5 || !strings.Contains(again.errOut, "cluster concur is balanced by clusterctl loadbalance (pid ") ||
		!strings.Contains(again.errOut, "one balancer per cluster") {
		t.Errorf("a second balancer: %s", again)
	}
	e.must("addnode", tag)
	bal.signal(syscall.SIGTERM)
	if r := bal.wait(2 * time.Minute); r.code != 0 {
		t.Errorf("the balancer: %s", r)
	}
	if got := e.aliases(tag); got != "master node001 node002 node003 node004" {
		t.Fatalf("after addnode beside the balancer: %s", got)
	}

	var ids []string
	for _, n := range e.nodes(tag) {
		ids = append(ids, n.ID)
	}
	add := e.start("addnode", tag)
	add.waitLine("• launch", 2*time.Minute)
	term := e.run("terminate", "-y", tag)
	if r := add.wait(5 * time.Minute); r.code != 0 {
		t.Errorf("addnode during terminate: %s", r)
	}
	if term.code != 0 || !strings.Contains(term.errOut, "Waiting for cluster concur: clusterctl addnode") {
		t.Errorf("terminate during addnode did not wait for it:\n%s", term)
	}
	e.nothingLeft(tag, ids)
}
