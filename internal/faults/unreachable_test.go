package faults

import (
	"strings"
	"testing"
	"time"
)

// TestUnreachableNode: a node stops answering (its network link goes down) in the middle of
// start's setup, of addnode's and of restart's. Each command fails naming the node and the
// step, the cluster stays listed with its nodes, and the message says how to go on; once the
// node answers again, that command finishes the job and no managed file or Grid Engine list
// names a node twice.
func TestUnreachableNode(t *testing.T) {
	t.Parallel()
	e := newLocalEnv(t)
	const tag = "unreach"
	e.terminateAtEnd(tag)
	wait := []string{"--wait-timeout", "20s"}

	for _, tc := range []struct {
		name   string
		args   []string
		node   string
		after  string   // the status line after which the node stops answering
		want   []string // in the error
		resume []string
		wantUp string
	}{
		{name: "start", args: []string{"start", "-c", "small", tag}, node: "node001", after: "✓ wait for SSH",
			want:   []string{"start of cluster unreach failed", "node001", "Resume with:   clusterctl start -x unreach"},
			resume: []string{"start", "-x", tag}, wantUp: "master node001"},
		{name: "addnode", args: []string{"addnode", tag}, node: "node002", after: "✓ wait for SSH",
			want:   []string{"adding node002 to cluster unreach failed", "node002", "Finish with:   clusterctl addnode -x -a node002 unreach"},
			resume: []string{"addnode", "-x", "-a", "node002", tag}, wantUp: "master node001 node002"},
		{name: "restart", args: []string{"restart", tag}, node: "node001", after: "✓ wait for SSH",
			want:   []string{"restart of cluster unreach failed", "node001", "Resume with:   clusterctl start -x unreach"},
			resume: []string{"start", "-x", tag}, wantUp: "master node001 node002"},
	} {
		b := e.start(append(wait, tc.args...)...)
		b.waitLine(tc.after, 3*time.Minute)
		id := e.node(tag, tc.node).ID
		e.link(id, "down")
		r := b.wait(5 * time.Minute)
		if r.code == 0 {
			t.Fatalf("%s with %s unreachable succeeded:\n%s", tc.name, tc.node, r)
		}
		t.Logf("%s with %s unreachable:\n%s", tc.name, tc.node, tail(r.errOut, 12))
		for _, want := range tc.want {
			if !strings.Contains(r.errOut, want) {
				t.Errorf("%s: the error lacks %q:\n%s", tc.name, want, r.errOut)
			}
		}
		if !strings.Contains(r.errOut, "✗ ") {
			t.Errorf("%s: no failed step shown:\n%s", tc.name, r.errOut)
		}
		if len(e.nodes(tag)) < len(strings.Fields(tc.wantUp)) {
			t.Errorf("%s: the cluster lost nodes: %v", tc.name, e.nodes(tag))
		}
		e.link(id, "up")
		e.must(append(wait, tc.resume...)...)
		if got := e.aliases(tag); got != tc.wantUp {
			t.Errorf("%s: after %v the running nodes are %q, want %q", tc.name, tc.resume, got, tc.wantUp)
		}
		e.noDuplicates(tag)
	}
	if got := e.on(tag, "master", `sudo -iu clusteruser qsub -sync y -b y -o /dev/null -j y true >/dev/null; echo $?`); got != "0" {
		t.Errorf("a job after the repairs: %s", got)
	}
}
