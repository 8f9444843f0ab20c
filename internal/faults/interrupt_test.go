package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterrupts: a command stopped by Ctrl-C, SIGTERM or kill -9 at several points (before
// the launch, while waiting for instances, in the middle of setup, during addnode's setup and
// terminate's terminations) leaves a cluster the named command finishes: start -x sets it up
// completely (a job runs, no line twice), terminate removes everything.
func TestInterrupts(t *testing.T) {
	t.Parallel()
	e := newLocalEnv(t)
	for _, tc := range []struct {
		tag, after string
		sig        syscall.Signal
		args       []string
		prepare    bool // the cluster is started first
		finish     []string
		wantUp     string
	}{
		{tag: "int-launch", after: "✓ create network", sig: syscall.SIGKILL, args: []string{"start", "-c", "small"},
			finish: []string{"start", "-x"}, wantUp: "master node001"},
		{tag: "int-wait", after: "• wait for 2 instances to run", sig: syscall.SIGTERM, args: []string{"start", "-c", "small"},
			finish: []string{"start", "-x"}, wantUp: "master node001"},
		{tag: "int-setup", after: "• Grid Engine packages", sig: syscall.SIGINT, args: []string{"start", "-c", "small"},
			finish: []string{"start", "-x"}, wantUp: "master node001"},
		{tag: "int-add", after: "✓ host names", sig: syscall.SIGKILL, args: []string{"addnode"}, prepare: true,
			finish: []string{"start", "-x"}, wantUp: "master node001 node002"},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			e := e.sub(t)
			e.terminateAtEnd(tc.tag)
			if tc.prepare {
				e.must("start", "-c", "small", tc.tag)
			}
			b := e.start(append(tc.args, tc.tag)...)
			b.waitLine(tc.after, 3*time.Minute)
			b.signal(tc.sig)
			r := b.wait(2 * time.Minute)
			if r.code == 0 {
				t.Fatalf("the interrupted command succeeded:\n%s", r)
			}
			if tc.sig != syscall.SIGKILL && (r.code != 130 || !strings.Contains(r.errOut, "Interrupted: stopping")) {
				t.Errorf("after %s: %s", tc.sig, r)
			}
			e.must(append(tc.finish, tc.tag)...)
			if got := e.aliases(tc.tag); got != tc.wantUp {
				t.Errorf("after %v: running nodes %q, want %q", tc.finish, got, tc.wantUp)
			}
			e.noDuplicates(tc.tag)
			if got := e.on(tc.tag, "master", `sudo -iu clusteruser qsub -sync y -b y -o /dev/null -j y true >/dev/null; echo $?`); got != "0" {
				t.Errorf("a job after the interrupted %s: %s", tc.args[0], got)
			}
		})
	}

	t.Run("terminate", func(t *testing.T) {
		e := e.sub(t)
		const tag = "int-term"
		e.terminateAtEnd(tag)
		e.must("start", "-c", "small", tag)
		var ids []string
		for _, n := range e.nodes(tag) {
			ids = append(ids, n.ID)
		}
		b := e.start("terminate", "-y", tag)
		b.waitLine("• terminate 2 instances", time.Minute)
		b.signal(syscall.SIGKILL)
		b.wait(time.Minute)
		if r := e.must("terminate", "-y", tag); !strings.Contains(r.errOut, "terminated") {
			t.Errorf("terminate after kill -9: %s", r)
		}
		e.nothingLeft(tag, ids)
	})
}

// sub is the env for a subtest: the same home and state, the subtest's failures.
func (e *env) sub(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// nothingLeft checks that a local cluster left nothing behind: no record, no instance
// directory, no veth, no container process.
func (e *env) nothingLeft(tag string, ids []string) {
	e.t.Helper()
	if _, err := os.Stat(filepath.Join(e.state, "clusters", tag)); !os.IsNotExist(err) {
		e.t.Errorf("cluster %s's state is left: %v", tag, err)
	}
	if r := e.run("listclusters", tag); r.code != 4 {
		e.t.Errorf("listclusters %s after terminate: %s", tag, r)
	}
	links, _ := exec.Command("ip", "-o", "link").Output()
	procs, _ := exec.Command("ps", "-eo", "args").Output()
	for _, id := range ids {
		if strings.Contains(string(links), "vb-"+id) {
			e.t.Errorf("veth of %s is left", id)
		}
		if strings.Contains(string(procs), id) {
			e.t.Errorf("a process of %s is left", id)
		}
	}
}
