package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/ui"
)

// TestLocalSlurm runs Slurm on a real local cluster from examples/local.ini (localslurm), one
// cluster for every check: three nodes with their memory in sinfo, an array job over several
// hosts, a job asking more memory than any node refused, addnode, a removal that gives up
// waiting and changes nothing, a removal that waits for a running job which then completes,
// and the balancer growing the cluster from the master alone to 3 nodes for 30 queued jobs and
// shrinking it back without killing any.
func TestLocalSlurm(t *testing.T) {
	example, err := os.ReadFile("../../examples/local.ini")
	if err != nil {
		t.Fatal(err)
	}
	e := newLocalEnv(t, string(example))
	const tag = "slurm"
	e.terminateAtEnd(tag)
	r := e.must("start", "-c", "localslurm", tag)
	for _, step := range []string{"✓ munge key (3/3 nodes", "✓ Slurm slurmd (3/3 nodes", "✓ Slurm: compute nodes registered"} {
		if !strings.Contains(r.errOut, step) {
			t.Errorf("start output lacks %q", step)
		}
	}
	asUser := func(node, cmd string) string {
		t.Helper()
		return e.on(tag, node, "sudo -iu clusteruser sh -c '"+cmd+"'")
	}

	// Three idle nodes with the memory of a small instance less what the system keeps.
	if got := e.on(tag, "node001", "sinfo -h -N -o '%N %t %c %m' | tr '\\n' ,"); got != "master idle 1 896,node001 idle 1 896,node002 idle 1 896," {
		t.Errorf("sinfo: %q", got)
	}
	// One munge key, the cluster's own, readable by munge only.
	const key = "sudo stat -c '%a %U' /etc/munge/munge.key; sudo md5sum /etc/munge/munge.key"
	if got, want := e.on(tag, "node002", key), e.on(tag, "master", key); got != want || !strings.HasPrefix(got, "400 munge") {
		t.Errorf("munge key on node002 %q, on the master %q", got, want)
	}

	// A 12-task array job submitted as the cluster user runs on several hosts.
	asUser("master", `mkdir -p out && sbatch --wait --array=1-12 -o out/%A_%a.txt --wrap "hostname; sleep 1" >/dev/null`)
	if hosts, _ := strconv.Atoi(e.on(tag, "node001", "sudo sh -c 'cat /home/clusteruser/out/*' | sort -u | wc -l")); hosts < 2 {
		t.Errorf("the array job ran on %d hosts", hosts)
	}
	if n := e.on(tag, "node001", "sudo ls /home/clusteruser/out | wc -l"); n != "12" {
		t.Errorf("array job outputs: %s, want 12", n)
	}
	// More memory than any node has: Slurm refuses it at submission, and says why.
	if r := e.cli("sshmaster", tag, "sudo -iu clusteruser sbatch --mem=2G --wrap true"); r.code == 0 || !strings.Contains(r.out+r.errOut, "Memory specification can not be satisfied") {
		t.Errorf("a job asking 2G was not refused: %+v", r)
	}

	// addnode: a fourth node that runs a job.
	e.must("addnode", tag)
	if got := e.on(tag, "master", "sinfo -h -N -o %N | tr '\\n' ' '"); got != "master node001 node002 node003" {
		t.Errorf("sinfo after addnode: %q", got)
	}
	if got := asUser("master", `sbatch --wait -w node003 -o node003.txt --wrap hostname >/dev/null && cat node003.txt`); got != "node003" {
		t.Errorf("job on the new node printed %q", got)
	}
	// No slurmd died on the way (slurmd restarts itself, which would hide it otherwise).
	// slurmdDeaths prints the journal's lines of a slurmd that died on the node it runs on.
	const slurmdDeaths = "sudo journalctl -u slurmd -o cat | grep -i 'code=dumped\\|code=killed\\|status=1/FAILURE' | head -3"
	slurmdCrashes := func(nodes ...string) {
		t.Helper()
		for _, n := range nodes {
			if out := e.on(tag, n, slurmdDeaths); out != "" {
				t.Errorf("slurmd died on %s:\n%s", n, out)
			}
		}
	}
	slurmdCrashes("master", "node001", "node002", "node003")
	// A slurmd that dies anyway comes back by itself, and its node answers slurmctld again.
	e.on(tag, "node003", "sudo pkill -SEGV -x slurmd; sleep 1")
	waitFor(t, "node003's slurmd restarted after it died", time.Minute, func() bool {
		return e.on(tag, "node003", "systemctl is-active slurmd; sudo journalctl -u slurmd -o cat | grep -c 'status=11/SEGV'; true") == "active\n1" &&
			e.on(tag, "master", "sinfo -h -n node003 -o %t; true") == "idle"
	})

	// removenode of a node that runs a 60 s job: a removal that may wait 5 s gives up and
	// leaves the node in service; one that may wait longer waits for the job, which completes.
	jobID := asUser("master", `sbatch --parsable -J drainme -w node003 -o drain.txt --wrap "sleep 60; echo finished"`)
	waitFor(t, "the job runs on node003", time.Minute, func() bool {
		return e.on(tag, "master", "squeue -h -j "+jobID+" -o %T") == "RUNNING"
	})
	r = e.cli("removenode", "-y", "--drain-timeout", "5s", "-a", "node003", tag)
	if r.code == 0 || !strings.Contains(r.errOut, "node003 runs 1 job") || !strings.Contains(r.errOut, "nothing was removed") {
		t.Errorf("removenode with a 5 s drain timeout: exit %d\n%s", r.code, r.errOut)
	}
	// In service again, running the job (slurmctld pings a resumed node: "alloc*" until it
	// answers).
	waitFor(t, "node003 allocated and not drained after a removal that gave up", 30*time.Second, func() bool {
		return e.on(tag, "master", "sinfo -h -n node003 -o %t") == "alloc"
	})
	start := time.Now()
	r = e.must("removenode", "-y", "-a", "node003", tag)
	if waited := time.Since(start); waited < 30*time.Second || !strings.Contains(r.errOut, "✓ Slurm: wait for running jobs on node003") {
		t.Errorf("removenode returned after %s without waiting for the job:\n%s", waited, r.errOut)
	}
	record := e.on(tag, "master", "sudo grep 'JobId="+jobID+" ' /var/log/slurm/jobcomp.log")
	if !strings.Contains(record, "JobState=COMPLETED") || !strings.Contains(record, "ExitCode=0:0") || !strings.Contains(record, "NodeList=node003") {
		t.Errorf("the drained job's completion record: %s", record)
	}
	if got := e.on(tag, "master", "sudo cat /home/clusteruser/drain.txt"); got != "finished" {
		t.Errorf("the drained job's output: %q", got)
	}
	if out := e.on(tag, "master", "sinfo -h -N -o %N; cat /etc/hosts"); strings.Contains(out, "node003") {
		t.Errorf("node003 is still known:\n%s", out)
	}
	if out := e.must("listclusters", tag).out; strings.Contains(out, "node003") {
		t.Errorf("node003 is still in the cluster:\n%s", out)
	}

	// The balancer on Slurm: from the master alone, 30 queued jobs grow the cluster to 3
	// nodes that run them, then it shrinks back to 1, and every job completed.
	e.must("removenode", "-y", "-n", "2", tag)
	asUser("master", `for i in $(seq 30); do sbatch -J lb -o /dev/null --wrap "sleep 3" >/dev/null; done`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan cliResult, 1)
	go func() {
		streams, _, out, errOut := ui.TestStreams()
		code := runWith(ctx, []string{"--config", e.config, "loadbalance", "-m", "3", "-n", "1", "-i", "2", "-w", "2", "-s", "2",
			"-k", "0.5", "--drain-timeout", "60", tag}, streams, func(a *app) {
			a.localStateDir, a.localImageDir = e.stateDir, localImageDir
		})
		done <- cliResult{code: code, out: out.String(), errOut: errOut.String()}
	}()
	nodes := func() int { return strings.Count(e.cli("--output", "json", "listclusters", tag).out, `"alias"`) }
	stop := func(what string) {
		cancel()
		r := <-done
		state := e.cli("sshmaster", tag, "squeue -a -o '%i %j %T %M %N %R'; scontrol -o show nodes | cut -c1-300; sudo tail -n 40 /var/log/slurm/slurmctld.log")
		t.Fatalf("%s\nbalancer log:\n%s\nSlurm:\n%s%s", what, lastLines(r.errOut, 40), state.out, state.errOut)
	}
	if !eventually(4*time.Minute, func() bool { return nodes() == 3 }) {
		stop("the balancer did not grow the cluster to 3 nodes")
	}
	// The balancer removes a node idle for 30 s at any time: a node gone by now is not
	// checked, but one of the two it added must be.
	checked := 0
	for _, n := range []string{"node001", "node002"} {
		r := e.cli("sshnode", tag, n, slurmdDeaths)
		if r.code != 0 {
			t.Logf("%s not checked (removed by the balancer?): %s", n, strings.TrimSpace(r.errOut))
			continue
		}
		checked++
		if out := strings.TrimSpace(r.out); out != "" {
			t.Errorf("slurmd died on %s:\n%s", n, out)
		}
	}
	if checked == 0 {
		t.Error("neither node the balancer added could be checked for a slurmd that died")
	}
	if !eventually(4*time.Minute, func() bool { return e.on(tag, "master", "squeue -h | wc -l") == "0" }) {
		stop("the queue did not drain")
	}
	if !eventually(4*time.Minute, func() bool { return nodes() == 1 }) {
		stop("the balancer did not shrink the cluster back to 1 node")
	}
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("loadbalance exited %d:\n%s", r.code, r.errOut)
	}
	states := e.on(tag, "master", "sudo grep ' Name=lb ' /var/log/slurm/jobcomp.log | grep -o 'JobState=[A-Z_]* .*ExitCode=[0-9:]*' | sed 's/ .* / /' | sort | uniq -c")
	if strings.TrimSpace(states) != "30 JobState=COMPLETED ExitCode=0:0" {
		t.Errorf("the 30 balanced jobs ended as:\n%s", states)
	}
	ran := e.on(tag, "master", "sudo grep ' Name=lb ' /var/log/slurm/jobcomp.log | grep -o 'NodeList=[a-z0-9]*' | sort -u | tr '\\n' ' '")
	if !strings.Contains(ran, "node001") || !strings.Contains(ran, "node002") {
		t.Errorf("the jobs did not run on the added nodes: %s", ran)
	}
}

// waitFor polls ok every second until it holds, failing the test after limit.
func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	if !eventually(limit, ok) {
		t.Fatalf("%s: not within %s", what, limit)
	}
}

// eventually polls ok every second until it holds or limit passes.
func eventually(limit time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
