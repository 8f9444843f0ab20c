package faults

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestVanishedNodes: nodes whose containers are killed, as EC2 takes spot instances back
// without notice, on a cluster of three running jobs. Every command that loads the cluster
// says so and how to get out; addnode still works beside the dead node; repair --replace takes
// it out (the job that ran there requeued), puts a node with the same settings in its place;
// start -x replaces another dead worker and boots a dead master again. Every job finishes with
// exit status 0 exactly once, and no managed file or Grid Engine list names a node twice.
func TestVanishedNodes(t *testing.T) {
	t.Parallel()
	e := newLocalEnv(t)
	const tag = "vanish"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "three", tag)
	jobs := submit(e, tag, 6, 25)
	waitFor(t, "jobs running on every node", time.Minute, func() bool {
		return strings.Count(e.on(tag, "master", `qstat -u '*' -s r`), "all.q@") == 3
	})

	e.kill(tag, "node002")
	warning := "node002 (" + e.node(tag, "node002").ID + ") vanished: its container exited without being stopped; `clusterctl repair vanish`"
	for _, args := range [][]string{{"listclusters", tag}, {"sshmaster", tag, "true"}, {"ssh-config", tag}} {
		if r := e.must(args...); !strings.Contains(r.errOut, warning) {
			t.Errorf("%v does not say node002 vanished:\n%s", args, r.errOut)
		}
	}
	e.must("addnode", tag)
	if got := e.aliases(tag); got != "master node001 node003" {
		t.Fatalf("after addnode beside the dead node: %s", got)
	}
	r := e.must("repair", "--replace", tag)
	if !strings.Contains(r.out, "node002") || !strings.Contains(r.errOut, "repaired vanish: removed node002, replaced by node002") {
		t.Errorf("repair said:\n%s", r)
	}
	if got := e.aliases(tag); got != "master node001 node002 node003" {
		t.Fatalf("after repair --replace: %s", got)
	}
	e.noDuplicates(tag)
	if r := e.must("repair", tag); !strings.Contains(r.errOut, "no vanished node: nothing to repair") {
		t.Errorf("repair of a healthy cluster: %s", r)
	}

	e.kill(tag, "node001")
	e.must("start", "-x", tag)
	if got := e.aliases(tag); got != "master node001 node002 node003" {
		t.Fatalf("after start -x: %s", got)
	}
	e.kill(tag, "master")
	if r := e.run("listclusters", tag); !strings.Contains(r.errOut, "`clusterctl start -x vanish` starts it again") {
		t.Errorf("a dead master's warning:\n%s", r)
	}
	e.must("start", "-x", tag)
	e.noDuplicates(tag)
	waitDone(e, tag, jobs, 5*time.Minute)
}

// submit queues n jobs of secs seconds as the cluster user and returns their ids.
func submit(e *env, tag string, n, secs int) []string {
	e.t.Helper()
	out := e.on(tag, "master", `sudo -iu clusteruser sh -c 'for i in $(seq `+strconv.Itoa(n)+`); do qsub -terse -b y -o /dev/null -j y sleep `+strconv.Itoa(secs)+`; done'`)
	ids := strings.Fields(out)
	if len(ids) != n {
		e.t.Fatalf("submitted %d jobs: %q", len(ids), out)
	}
	return ids
}

// waitDone waits until the queue is empty, then checks Grid Engine's accounting: each job in
// ids finished exactly once with exit status 0 (attempts ended by a vanished node are recorded
// as rescheduled, failed 25, and are not finishes).
func waitDone(e *env, tag string, ids []string, limit time.Duration) {
	e.t.Helper()
	waitFor(e.t, "the queue to drain", limit, func() bool { return e.on(tag, "master", `qstat -u '*' | wc -l`) == "0" })
	finished := map[string]int{}
	for _, line := range strings.Split(e.on(tag, "master", `qacct -j | awk '$1 == "jobnumber" { j = $2 } $1 == "failed" { f = $2 } $1 == "exit_status" { print j, f, $2 }'`), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[1] == "0" && f[2] == "0" {
			finished[f[0]]++
		}
	}
	for _, id := range ids {
		if finished[id] != 1 {
			e.t.Errorf("job %s finished with exit status 0 %d times, want once; its accounting:\n%s", id, finished[id],
				e.run("sshmaster", tag, "qacct -j "+id+" | grep -E '^(hostname|qsub_time|start_time|end_time|failed|exit_status)'").out)
		}
	}
}
