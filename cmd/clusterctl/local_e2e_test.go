package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLocalClusterEndToEnd starts a 3-node cluster from examples/local.ini (Grid Engine, the
// segway plugin, a volume) on real systemd-nspawn containers and checks what users rely on,
// then adds, removes, restarts, resumes, stops, starts and terminates it.
func TestLocalClusterEndToEnd(t *testing.T) {
	example, err := os.ReadFile("../../examples/local.ini")
	if err != nil {
		t.Fatal(err)
	}
	e := newLocalEnv(t, string(example))
	vol := strings.TrimSpace(e.must("createvolume", "1", "local", "-n", "software").out)
	if err := os.WriteFile(e.config, []byte(strings.ReplaceAll(string(example), "vol-000000000000", vol)), 0o600); err != nil {
		t.Fatal(err)
	}
	const tag = "e2e"
	e.terminateAtEnd(tag)
	start := time.Now()
	r := e.must("start", "-c", "localsegway", tag)
	t.Logf("start of 3 nodes with setup took %s", time.Since(start).Round(time.Second))
	for _, step := range []string{"✓ cluster user clusteruser (3/3 nodes", "✓ passwordless SSH (3/3 nodes", "✓ Grid Engine execd (3/3 nodes", "✓ plugin segway"} {
		if !strings.Contains(r.errOut, step) {
			t.Errorf("start output lacks %q", step)
		}
	}

	checkCluster(t, e, tag, []string{"master", "node001", "node002"})
	// The user's own key logs in as the cluster user (workflows: sshmaster -u USER).
	if got := strings.TrimSpace(e.must("sshmaster", "-u", "clusteruser", tag, "whoami").out); got != "clusteruser" {
		t.Errorf("sshmaster -u clusteruser: %q", got)
	}
	if r := e.must("runplugin", "segway-setup", tag); !strings.Contains(r.errOut, "✓ segway environment (3/3 nodes") {
		t.Errorf("runplugin: %s", r.errOut)
	}

	// An array job of 20 tasks with a memory request runs everywhere; outputs land in the
	// shared home. A job asking more memory than any host has stays queued.
	e.on(tag, "master", `sudo -iu clusteruser sh -c 'mkdir -p out && qsub -sync y -t 1-20 -l mem_requested=50M -j y -o $HOME/out -b y hostname >/dev/null'`)
	if n := e.on(tag, "node002", "sudo ls /home/clusteruser/out | wc -l"); n != "20" {
		t.Errorf("array job outputs seen on node002: %s, want 20", n)
	}
	hosts := e.on(tag, "node001", "sudo sh -c 'cat /home/clusteruser/out/*' | sort -u | tr '\\n' ' '")
	t.Logf("array job ran on: %s", hosts)
	big := e.on(tag, "master", `sudo -iu clusteruser qsub -terse -l mem_requested=4000G -b y true`)
	time.Sleep(10 * time.Second)
	if st := e.on(tag, "master", "qstat -u '*' | awk -v j="+big+" '$1 == j { print $5 }'"); st != "qw" {
		t.Errorf("job asking 4000G is %q, want qw (no host has that much)", st)
	}
	e.on(tag, "master", "sudo -iu clusteruser qdel "+big)

	// addnode: the new node gets everything and runs a job.
	e.must("addnode", tag)
	checkCluster(t, e, tag, []string{"master", "node001", "node002", "node003"})
	e.on(tag, "master", `sudo -iu clusteruser qsub -sync y -l h=node003 -b y true >/dev/null`)

	// removenode of a node that runs a 60 s job: the node is drained, the removal waits for
	// the job, which ends normally (qacct), and only then the node goes.
	e.on(tag, "master", `sudo -iu clusteruser qsub -N drainme -l h=node003 -j y -o /dev/null -b y sleep 60`)
	waitFor(t, "drainme runs on node003", time.Minute, func() bool {
		return strings.Contains(e.on(tag, "master", "qstat -u '*' -s r"), "drainme")
	})
	start = time.Now()
	r = e.must("removenode", "-y", "-a", "node003", tag)
	if waited := time.Since(start); waited < 30*time.Second || !strings.Contains(r.errOut, "✓ Grid Engine: wait for running jobs on node003") {
		t.Errorf("removenode returned after %s without waiting for the job:\n%s", waited, r.errOut)
	}
	// Grid Engine writes its accounting file some seconds after a job ends.
	var acct string
	eventually(30*time.Second, func() bool {
		r := e.cli("sshmaster", tag, "qacct -j drainme | awk '$1 == \"hostname\" || $1 == \"failed\" || $1 == \"exit_status\" { print $1, $2 }' | tr '\\n' ' '")
		acct = strings.TrimSpace(r.out)
		return r.code == 0 && acct != ""
	})
	if acct != "hostname node003 failed 0 exit_status 0" {
		t.Errorf("qacct of the drained job: %q", acct)
	}

	// removenode: gone from Grid Engine and /etc/hosts.
	if out := e.on(tag, "master", "qhost"); strings.Contains(out, "node003") {
		t.Errorf("node003 still in qhost:\n%s", out)
	}
	if out := e.on(tag, "node001", "cat /etc/hosts /etc/ssh/ssh_known_hosts"); strings.Contains(out, "node003") {
		t.Errorf("node003 still known on node001:\n%s", out)
	}

	// start -x on a set-up cluster changes nothing.
	fingerprint := "md5sum /etc/hosts /etc/ssh/ssh_known_hosts /etc/passwd /etc/fstab; qconf -sq all.q; qconf -shgrp @allhosts; qconf -se node001 | grep complex_values; qconf -sp orte"
	before := e.on(tag, "master", fingerprint)
	e.must("start", "-x", tag)
	if after := e.on(tag, "master", fingerprint); after != before {
		t.Errorf("start -x changed the cluster:\n%s", lineDiff(before, after))
	}

	// restart: reboot and set up again; everything still holds.
	e.must("restart", tag)
	checkCluster(t, e, tag, []string{"master", "node001", "node002"})

	// stop keeps each node's disk; start -x boots it again.
	e.on(tag, "node001", "echo kept | sudo tee /var/tmp/survives >/dev/null")
	e.must("stop", "-y", tag)
	e.must("start", "-x", tag)
	if got := e.on(tag, "node001", "cat /var/tmp/survives"); got != "kept" {
		t.Errorf("file after stop and start: %q", got)
	}
	checkCluster(t, e, tag, []string{"master", "node001", "node002"})

	e.must("terminate", "-y", tag)
	assertNothingLeft(t, e, tag)
}

// checkCluster asserts what every user relies on, on every node.
func checkCluster(t *testing.T, e *localEnv, tag string, nodes []string) {
	t.Helper()
	uids := map[string]bool{}
	for _, n := range nodes {
		if got := e.on(tag, n, "hostname"); got != n {
			t.Errorf("%s: hostname %q", n, got)
		}
		hostsFile := e.on(tag, n, "cat /etc/hosts")
		for _, other := range nodes {
			if !strings.Contains(hostsFile, " "+other+"\n") {
				t.Errorf("%s: /etc/hosts lacks %s:\n%s", n, other, hostsFile)
			}
		}
		uids[e.on(tag, n, "id -u clusteruser")] = true
	}
	if len(uids) != 1 {
		t.Errorf("clusteruser has several UIDs: %v", uids)
	}
	last := nodes[len(nodes)-1]
	stamp := fmt.Sprint(time.Now().UnixNano())
	e.on(tag, nodes[1], "sudo -u clusteruser sh -c 'echo "+stamp+" > /home/clusteruser/shared.txt'")
	if got := e.on(tag, last, "sudo cat /home/clusteruser/shared.txt"); got != stamp {
		t.Errorf("shared /home: %s wrote %s, %s read %q", nodes[1], stamp, last, got)
	}
	if got := e.on(tag, nodes[1], "sudo -iu clusteruser ssh -o BatchMode=yes "+last+" hostname"); got != last {
		t.Errorf("passwordless SSH %s -> %s as clusteruser: %q", nodes[1], last, got)
	}
	if got := e.on(tag, last, "sudo ssh -o BatchMode=yes master hostname"); got != "master" {
		t.Errorf("passwordless SSH as root to master: %q", got)
	}
	qhost := e.on(tag, "master", "qhost")
	for _, n := range nodes {
		if !strings.Contains(qhost, n) {
			t.Errorf("qhost lacks %s:\n%s", n, qhost)
		}
		if se := e.on(tag, "master", "qconf -se "+n); !strings.Contains(se, "mem_requested=") {
			t.Errorf("qconf -se %s lacks mem_requested:\n%s", n, se)
		}
	}
	if path := e.on(tag, last, "sudo -iu clusteruser bash -lc 'echo $PATH'"); !strings.Contains(path, "/opt/segway/bin") {
		t.Errorf("segway profile does not set PATH on a login shell: %s", path)
	}
	if motd := e.on(tag, "master", "cat /etc/motd"); !strings.Contains(motd, "MASTER") {
		t.Errorf("motd lacks the segway banner:\n%s", motd)
	}
	if got := e.on(tag, last, "ls -d /opt/segway"); got != "/opt/segway" {
		t.Errorf("volume not mounted at /opt/segway on %s", last)
	}
}

// assertNothingLeft checks that a terminated local cluster left no process, mount, link or
// directory behind.
func assertNothingLeft(t *testing.T, e *localEnv, tag string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(e.stateDir, "clusters", tag)); !os.IsNotExist(err) {
		t.Errorf("cluster directory left: %v", err)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), e.stateDir) {
		t.Errorf("mounts left under %s", e.stateDir)
	}
	out, _ := exec.Command("pgrep", "-f", filepath.Join(e.stateDir, "clusters", tag)).Output()
	if len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("processes left: %s", out)
	}
	if r := e.cli("listclusters", tag); r.code != exitNotFound {
		t.Errorf("listclusters after terminate: %+v", r)
	}
}

// lineDiff lists the lines only in a (-) and only in b (+).
func lineDiff(a, b string) string {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		inA[l] = true
	}
	for _, l := range strings.Split(b, "\n") {
		inB[l] = true
	}
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !inB[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !inA[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
