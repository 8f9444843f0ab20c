package faults

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The soak's shape: the balancer runs soakDuration while a burst of jobs arrives every
// burstEvery and a worker is killed every killEvery (the first at killEvery), then the queue
// drains and the cluster shrinks back to its minimum.
const (
	soakDuration = 10 * time.Minute
	burstEvery   = 2 * time.Minute
	burstJobs    = 6
	killEvery    = 150 * time.Second
	settleLimit  = 6 * time.Minute
)

// TestSoak runs the balancer for ten minutes on a local Grid Engine cluster (minimum 2 nodes,
// maximum 4) while jobs are submitted in bursts and a worker's container is killed every two
// and a half minutes, as EC2 takes spot nodes back without notice. At the end every job
// submitted has finished exactly once with exit status 0 (Grid Engine's accounting), the
// cluster is back at its minimum, and the scheduler names exactly the running nodes, none of
// them unreachable.
func TestSoak(t *testing.T) {
	t.Parallel()
	e := newLocalEnv(t)
	const tag = "soak"
	e.terminateAtEnd(tag)
	e.must("start", "-c", "small", tag)
	bal := e.start("loadbalance", "-i", "10", "-w", "20", "-s", "30", "-k", "1", "-n", "2", "-m", "4", tag)
	bal.waitLine("Balancing soak", time.Minute)

	var jobs []string
	var killed []string
	begin := time.Now()
	nextBurst, nextKill := begin, begin.Add(killEvery)
	for time.Since(begin) < soakDuration {
		now := time.Now()
		if !now.Before(nextBurst) {
			secs := 20
			if len(jobs)%(2*burstJobs) != 0 {
				secs = 40
			}
			jobs = append(jobs, submit(e, tag, burstJobs, secs)...)
			nextBurst = nextBurst.Add(burstEvery)
		}
		if !now.Before(nextKill) {
			if victim := newestWorker(e, tag); victim != "" {
				e.kill(tag, victim)
				killed = append(killed, victim)
			}
			nextKill = nextKill.Add(killEvery)
		}
		time.Sleep(5 * time.Second)
	}
	t.Logf("soak: %d jobs in %d bursts, nodes killed: %v", len(jobs), len(jobs)/burstJobs, killed)

	waitDone(e, tag, jobs, settleLimit)
	waitFor(t, "the cluster back at its minimum of 2 nodes", settleLimit, func() bool {
		return len(strings.Fields(e.aliases(tag))) == 2 && len(e.nodes(tag)) == 2
	})
	bal.signal(syscall.SIGTERM)
	r := bal.wait(2 * time.Minute)
	if r.code != 0 {
		t.Errorf("the balancer: exit %d", r.code)
	}
	log := r.errOut
	t.Logf("balancer: %d iterations, %d adds, %d removals, %d cleanups after vanished nodes; %d failed iterations",
		len(regexp.MustCompile(`msg="\d+ hosts?, `).FindAllString(log, -1)), strings.Count(log, ": add "),
		strings.Count(log, ": remove "), strings.Count(log, "forget vanished"), strings.Count(log, "level=WARN"))
	e.noDuplicates(tag)
	if unreachable := e.on(tag, "master", `qhost | awk 'NR > 3 && $7 == "-" { print $1 }'`); unreachable != "" {
		t.Errorf("the scheduler still has unreachable hosts: %s", unreachable)
	}
	for _, n := range e.nodes(tag) {
		if n.State != "running" {
			t.Errorf("%s is left %s", n.Alias, n.State)
		}
	}
	if t.Failed() {
		t.Logf("balancer log:\n%s", tail(log, 60))
	}
}

// newestWorker is the running worker with the highest number, the one a kill hurts most (it
// was added for the queue), or "" when there is none.
func newestWorker(e *env, tag string) string {
	e.t.Helper()
	victim := ""
	for _, n := range e.nodes(tag) {
		if n.Alias != "master" && n.State == "running" {
			victim = n.Alias
		}
	}
	return victim
}
