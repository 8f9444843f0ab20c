package faults

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/testenv"
)

// env is one test's machine as a user sees it: a home with a config, a private local-provider
// state directory (the image cache is shared), and the clusterctl binary.
type env struct {
	t      *testing.T
	home   string
	state  string
	config string
	// extra are more environment variables for every command (moto's endpoint, say).
	extra []string
}

// newLocalEnv is an env for local clusters with the suite's templates, and any more config
// sections a test adds; it skips (saying why) on a machine that cannot run them.
func newLocalEnv(t *testing.T, more ...string) *env {
	t.Helper()
	if localSkip != "" {
		t.Skip(localSkip)
	}
	text, err := os.ReadFile("testdata/local.ini")
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, string(text)+strings.Join(more, ""))
}

func newEnv(t *testing.T, config string) *env {
	t.Helper()
	e := &env{t: t, home: t.TempDir(), state: t.TempDir()}
	e.config = filepath.Join(e.home, "config.ini")
	if err := os.WriteFile(e.config, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// result is a finished command: its exit status and both streams.
type result struct {
	code        int
	out, errOut string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.errOut)
}

// command builds a clusterctl command line in this env.
func (e *env) command(args ...string) *exec.Cmd {
	c := exec.Command(binary, append([]string{"--config", e.config}, args...)...)
	c.Env = append([]string{
		"HOME=" + e.home, "PATH=" + os.Getenv("PATH"),
		"CLUSTERCTL_LOCAL_DIR=" + e.state, "CLUSTERCTL_LOCAL_IMAGES=" + testenv.ImageDir(),
		"CLUSTERCTL_DIAL_ALLOW=" + dialAllow,
		// Tests send traffic only to loopback: never the instance metadata service, and EC2
		// calls made without moto go to a closed loopback port.
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_EC2=http://127.0.0.1:9",
	}, e.extra...)
	return c
}

// run runs a command to its end.
func (e *env) run(args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	c := e.command(args...)
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("clusterctl %v: %v", args, err)
	}
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// must runs a command that has to succeed.
func (e *env) must(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("clusterctl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// on runs a shell command on a node (as the login user; sudo for root) and returns its
// trimmed output, failing the test on a non-zero exit.
func (e *env) on(tag, node, command string) string {
	e.t.Helper()
	return strings.TrimSpace(e.must("sshnode", tag, node, command).out)
}

// terminateAtEnd removes the cluster when the test ends, whatever happened.
func (e *env) terminateAtEnd(tag string) {
	e.t.Cleanup(func() {
		if r := e.run("terminate", "-y", tag); r.code != 0 && r.code != 4 {
			e.t.Logf("cleanup terminate %s: %s", tag, r)
		}
	})
}

// node is an instance as listclusters shows it.
type node struct {
	Alias, ID, State, PrivateIP, Lifecycle, SpotPrice string
}

// nodes lists a cluster's instances.
func (e *env) nodes(tag string) []node {
	e.t.Helper()
	r := e.must("--output", "json", "listclusters", tag)
	var infos []struct {
		Nodes []struct {
			Alias     string `json:"alias"`
			ID        string `json:"id"`
			State     string `json:"state"`
			PrivateIP string `json:"private_ip"`
			Lifecycle string `json:"lifecycle"`
			SpotPrice string `json:"spot_price"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(r.out), &infos); err != nil || len(infos) != 1 {
		e.t.Fatalf("listclusters %s: %v\n%s", tag, err, r)
	}
	var out []node
	for _, n := range infos[0].Nodes {
		out = append(out, node{Alias: n.Alias, ID: n.ID, State: n.State, PrivateIP: n.PrivateIP, Lifecycle: n.Lifecycle, SpotPrice: n.SpotPrice})
	}
	return out
}

// node finds one node of a cluster by alias.
func (e *env) node(tag, alias string) node {
	e.t.Helper()
	for _, n := range e.nodes(tag) {
		if n.Alias == alias {
			return n
		}
	}
	e.t.Fatalf("cluster %s has no node %s", tag, alias)
	return node{}
}

// aliases lists a cluster's running nodes, as "master node001 ...".
func (e *env) aliases(tag string) string {
	e.t.Helper()
	var out []string
	for _, n := range e.nodes(tag) {
		if n.State == "running" {
			out = append(out, n.Alias)
		}
	}
	return strings.Join(out, " ")
}

// kill ends a node's container as EC2 ends a spot instance without notice: SIGKILL to its
// systemd-nspawn, nothing shut down.
func (e *env) kill(tag, alias string) {
	e.t.Helper()
	n := e.node(tag, alias)
	var rec struct {
		PID int `json:"pid"`
	}
	data, err := os.ReadFile(filepath.Join(e.state, "clusters", tag, "instances", n.ID, "instance.json"))
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.PID == 0 {
		e.t.Fatalf("pid of %s: %v %s", alias, err, data)
	}
	if err := syscall.Kill(rec.PID, syscall.SIGKILL); err != nil {
		e.t.Fatal(err)
	}
	waitFor(e.t, alias+" reported dead", 30*time.Second, func() bool {
		for _, m := range e.nodes(tag) {
			if m.ID == n.ID {
				return m.State == "dead"
			}
		}
		return true // already cleaned up after (the balancer)
	})
}

// link takes a node's network link (the host side of its veth) down or up: a node that stops
// answering, and comes back.
func (e *env) link(id, state string) {
	e.t.Helper()
	if out, err := exec.Command("ip", "link", "set", "dev", "vb-"+id, state).CombinedOutput(); err != nil {
		e.t.Fatalf("ip link set vb-%s %s: %v %s", id, state, err, out)
	}
}

// noDuplicates fails the test when a file clusterctl manages on any running node, or one of
// Grid Engine's host lists on the master, holds a line twice, or when the master's lists do
// not name exactly the running nodes.
func (e *env) noDuplicates(tag string) {
	e.t.Helper()
	want := e.aliases(tag)
	for _, a := range strings.Fields(want) {
		if d := e.on(tag, a, "for f in /etc/hosts /etc/ssh/ssh_known_hosts /etc/fstab; do [ -f $f ] && sort $f | uniq -d; done; true"); d != "" {
			e.t.Errorf("%s has duplicated lines: %s", a, d)
		}
	}
	lists := e.on(tag, "master", `for o in -sel -ss -sh; do echo "$o: $(qconf $o | sort | tr '\n' ' ')"; done; echo "@allhosts: $(qconf -shgrp_resolved @allhosts | tr ' ' '\n' | sort | tr '\n' ' ')"`)
	for _, line := range strings.Split(lists, "\n") {
		name, hosts, _ := strings.Cut(line, ": ")
		f := strings.Fields(hosts)
		seen := map[string]bool{}
		for _, h := range f {
			if seen[h] {
				e.t.Errorf("Grid Engine %s names %s twice: %s", name, h, hosts)
			}
			seen[h] = true
		}
		if strings.Join(slices.Sorted(slices.Values(f)), " ") != strings.Join(slices.Sorted(slices.Values(strings.Fields(want))), " ") {
			e.t.Errorf("Grid Engine %s is %q, want the running nodes %q", name, hosts, want)
		}
	}
}

// background is a command running in the background whose stderr is watched line by line.
type background struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	errOut strings.Builder
	out    bytes.Buffer
	lines  chan string
	done   chan result
}

// start runs a command in the background.
func (e *env) start(args ...string) *background {
	e.t.Helper()
	b := &background{t: e.t, cmd: e.command(args...), lines: make(chan string, 1000), done: make(chan result, 1)}
	b.cmd.Stdout = &b.out
	pipe, err := b.cmd.StderrPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			b.mu.Lock()
			b.errOut.WriteString(sc.Text() + "\n")
			b.mu.Unlock()
			select {
			case b.lines <- sc.Text():
			default:
			}
		}
		close(b.lines)
		err := b.cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.done <- result{code: code, out: b.out.String(), errOut: b.errOut.String()}
	}()
	e.t.Cleanup(func() { _ = b.cmd.Process.Kill() })
	return b
}

// waitLine waits until the command prints a status line containing s.
func (b *background) waitLine(s string, limit time.Duration) {
	b.t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case line, ok := <-b.lines:
			if !ok {
				b.t.Fatalf("the command ended before printing %q:\n%s", s, b.stderr())
			}
			if strings.Contains(line, s) {
				return
			}
		case <-timeout:
			b.t.Fatalf("no line %q within %s:\n%s", s, limit, b.stderr())
		}
	}
}

func (b *background) stderr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.errOut.String()
}

// signal sends sig to the command.
func (b *background) signal(sig syscall.Signal) {
	b.t.Helper()
	if err := b.cmd.Process.Signal(sig); err != nil {
		b.t.Fatal(err)
	}
}

// wait waits for the command to end.
func (b *background) wait(limit time.Duration) result {
	b.t.Helper()
	go func() {
		for range b.lines { // keep the scanner going
		}
	}()
	select {
	case r := <-b.done:
		return r
	case <-time.After(limit):
		b.t.Fatalf("the command did not end within %s:\n%s", limit, b.stderr())
		return result{}
	}
}

// waitFor polls ok until it holds, failing the test after limit.
func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
