package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/remote/sshdtest"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// loopbackProvider is a cloud whose cluster "lo" consists of real OpenSSH servers on loopback:
// the master with a public address, node001 with only a private one (reached through the
// master). Only what the SSH commands ask of a provider is implemented; the embedded nil
// Provider makes any other call fail the test loudly.
type loopbackProvider struct {
	cloud.Provider
	rec   []byte
	insts []cloud.Instance
}

func (p *loopbackProvider) Name() string { return "loopback" }
func (p *loopbackProvider) Capabilities() cloud.Capabilities {
	return cloud.Capabilities{DefaultLoginUser: sshdtest.User}
}
func (p *loopbackProvider) GetCluster(_ context.Context, tag string) (cloud.Cluster, error) {
	if tag != "lo" {
		return cloud.Cluster{}, cloud.ErrNotFound
	}
	return cloud.Cluster{Tag: "lo", GroupID: "sg-lo", GroupName: "@sc-lo", Recorded: p.rec}, nil
}
func (p *loopbackProvider) ListClusters(context.Context) ([]cloud.Cluster, error) {
	c, _ := p.GetCluster(context.Background(), "lo")
	return []cloud.Cluster{c}, nil
}
func (p *loopbackProvider) Instances(_ context.Context, tag string) ([]cloud.Instance, error) {
	if tag != "lo" {
		return nil, nil
	}
	return p.insts, nil
}

// sshEnv is a home with a config holding the login key, two sshd servers as a cluster, and
// the CLI wired to them.
type sshEnv struct {
	t       *testing.T
	home    string
	config  string
	master  *sshdtest.Server
	node    *sshdtest.Server
	p       *loopbackProvider
	builtin bool
}

func newSSHEnv(t *testing.T) *sshEnv {
	home := newHome(t)
	keyFile := filepath.Join(home, ".ssh", "mykey.rsa")
	writeRSAKey(t, keyFile)
	pubText, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubText)
	if err != nil {
		t.Fatal(err)
	}
	e := &sshEnv{t: t, home: home}
	e.master = sshdtest.Start(t, sshdtest.Options{AuthorizedKeys: []ssh.PublicKey{pub}})
	e.node = sshdtest.Start(t, sshdtest.Options{AuthorizedKeys: []ssh.PublicKey{pub}})
	rec := cluster.Record{Version: 1, Template: "small", KeyName: "mykey", ClusterSize: 2, ClusterUser: "clusteruser",
		ClusterShell: "bash", MasterImage: "ami-0123456789abcdef0", MasterType: "m5.large", NodeImage: "ami-0123456789abcdef0"}
	hostKey := func(s *sshdtest.Server) string { return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey))) }
	e.p = &loopbackProvider{rec: rec.Encode(), insts: []cloud.Instance{
		{ID: "i-master", Alias: "master", Role: cloud.RoleMaster, State: cloud.StateRunning, PublicIP: e.master.Addr, PrivateIP: e.master.Addr,
			HostKey: hostKey(e.master), Groups: []string{"sg-lo"}, KeyName: "mykey"},
		{ID: "i-node1", Alias: "node001", Role: cloud.RoleNode, State: cloud.StateRunning, PrivateIP: e.node.Addr,
			HostKey: hostKey(e.node), Groups: []string{"sg-lo"}, KeyName: "mykey"},
	}}
	e.config = filepath.Join(home, "config")
	if err := os.WriteFile(e.config, []byte("[key mykey]\nKEY_LOCATION = "+keyFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *sshEnv) run(streams *ui.Streams, args ...string) int {
	return runWith(context.Background(), append([]string{"--config", e.config}, args...), streams, func(a *app) {
		a.providerSeam = func(context.Context) (cloud.Provider, error) { return e.p, nil }
		a.builtinSSH = e.builtin
	})
}

func (e *sshEnv) cli(args ...string) cliResult {
	streams, _, out, errOut := ui.TestStreams()
	code := e.run(streams, args...)
	return cliResult{code: code, out: out.String(), errOut: errOut.String()}
}

func (e *sshEnv) must(t *testing.T, args ...string) cliResult {
	t.Helper()
	r := e.cli(args...)
	if r.code != 0 {
		t.Fatalf("clusterctl %v: exit %d\n%s", args, r.code, r.errOut)
	}
	return r
}

func TestSSHCommands(t *testing.T) {
	e := newSSHEnv(t)
	for _, builtin := range []bool{false, true} {
		e.builtin = builtin
		name := map[bool]string{false: "system ssh", true: "built-in client"}[builtin]
		if r := e.cli("sshmaster", "lo", "echo", "hello", "from", "$(hostname)"); r.code != 0 || !strings.Contains(r.out, "hello from") {
			t.Errorf("%s: sshmaster echo: %+v", name, r)
		}
		if r := e.cli("sshmaster", "lo", "exit 3"); r.code != 3 {
			t.Errorf("%s: sshmaster exit status: want 3, got %+v", name, r)
		}
		if r := e.cli("sshnode", "lo", "node001", "sudo", "-n", "id", "-u"); r.code != 0 || strings.TrimSpace(r.out) != "0" {
			t.Errorf("%s: sshnode through the master with sudo: %+v", name, r)
		}
		if r := e.cli("sshnode", "lo", "1", "echo", "$SSH_CONNECTION"); r.code != 0 || !strings.Contains(r.out, "127.0.0.1") {
			t.Errorf("%s: sshnode by number: %+v", name, r)
		}
	}
	if r := e.cli("sshnode", "lo", "node009"); r.code != exitNotFound || !strings.Contains(r.errOut, "nodes: master, node001") {
		t.Errorf("unknown node: %+v", r)
	}
	if r := e.cli("sshmaster", "nope"); r.code != exitNotFound {
		t.Errorf("unknown cluster: %+v", r)
	}
	kh, err := os.ReadFile(filepath.Join(e.home, ".clusterctl", "known_hosts", "lo"))
	if err != nil || !strings.Contains(string(kh), "master,") || !strings.Contains(string(kh), "node001,") {
		t.Fatalf("known_hosts rebuilt from the instances' host keys: %q %v", kh, err)
	}
}

// TestSSHHostKeyMismatch: a node presenting a key other than the pinned one is refused, by
// both clients, with a message saying what to check.
func TestSSHHostKeyMismatch(t *testing.T) {
	e := newSSHEnv(t)
	other := sshdtest.Start(t, sshdtest.Options{})
	e.p.insts[0].HostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other.HostKey)))
	for _, builtin := range []bool{false, true} {
		e.builtin = builtin
		r := e.cli("sshmaster", "lo", "true")
		if r.code == 0 {
			t.Fatalf("builtin=%v: connected despite a host key mismatch", builtin)
		}
		if builtin && !strings.Contains(r.errOut, "host key") {
			t.Errorf("built-in client: message lacks the reason: %s", r.errOut)
		}
		if !builtin && !strings.Contains(strings.ToLower(r.errOut), "host key") {
			t.Errorf("system ssh: message lacks the reason: %s", r.errOut)
		}
	}
}

func TestPutGet(t *testing.T) {
	e := newSSHEnv(t)
	src := filepath.Join(e.home, "work")
	for name, mode := range map[string]os.FileMode{"a.txt": 0o644, "run.sh": 0o755, "sub/b.csv": 0o600, "sub/c.csv": 0o640} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("content of "+name), mode); err != nil {
			t.Fatal(err)
		}
	}
	remoteDir := filepath.Join(e.master.Home, "put-test")
	t.Cleanup(func() { os.RemoveAll(remoteDir) })
	if r := e.cli("put", "lo", src, remoteDir); r.code != 0 || !strings.Contains(r.errOut, "✓ copied 1 path to master:") {
		t.Fatalf("put: %+v", r)
	}
	st, err := os.Stat(filepath.Join(remoteDir, "run.sh"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("put kept permissions? %v %v", st, err)
	}
	dest := filepath.Join(e.home, "back")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := e.cli("get", "lo", remoteDir+"/sub/*.csv", remoteDir+"/run.sh", dest); r.code != 0 {
		t.Fatalf("get: %+v", r)
	}
	for name, mode := range map[string]os.FileMode{"b.csv": 0o600, "c.csv": 0o640, "run.sh": 0o755} {
		st, err := os.Stat(filepath.Join(dest, name))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("get %s: %v %v", name, st, err)
		}
	}
	if r := e.cli("get", "lo", remoteDir+"/*.nothing", dest); r.code == 0 {
		t.Errorf("a glob matching nothing must fail: %+v", r)
	}
	if r := e.cli("put", "lo", filepath.Join(e.home, "missing"), remoteDir); r.code != exitUsage {
		t.Errorf("put of a missing local path: %+v", r)
	}

	// What put can write, get can read: a directory only root may enter is written through
	// sudo by put and read through sudo by get.
	rootOnly, err := os.MkdirTemp("/var/tmp", "clusterctl-rootonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rootOnly) })
	if err := os.Chmod(rootOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	if r := e.cli("put", "lo", src, rootOnly+"/"); r.code != 0 {
		t.Fatalf("put into a root-only directory: %+v", r)
	}
	if st, err := os.Stat(filepath.Join(rootOnly, "work", "sub", "b.csv")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("put as root: %v %v", st, err)
	}
	back := filepath.Join(e.home, "from-root")
	if r := e.cli("get", "lo", rootOnly+"/work", back); r.code != 0 {
		t.Fatalf("get from a root-only directory: %+v", r)
	}
	for name, mode := range map[string]os.FileMode{"a.txt": 0o644, "run.sh": 0o755, "sub/b.csv": 0o600} {
		data, err := os.ReadFile(filepath.Join(back, name))
		st, serr := os.Stat(filepath.Join(back, name))
		if err != nil || serr != nil || string(data) != "content of "+name || st.Mode().Perm() != mode {
			t.Errorf("get %s through sudo: %q %v %v", name, data, err, st)
		}
	}
	if r := e.cli("get", "lo", rootOnly+"/work/missing.txt", back); r.code == 0 {
		t.Errorf("get of a missing root-only file succeeded")
	}
}

// TestSSHMasterInteractive drives an interactive sshmaster session through a pseudo-terminal
// with the built-in client: type a command, see its output, exit with a status.
func TestSSHMasterInteractive(t *testing.T) {
	e := newSSHEnv(t)
	e.builtin = true
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	streams := &ui.Streams{In: tty, Out: tty, ErrOut: tty, LookupEnv: func(string) (string, bool) { return "", false }}
	done := make(chan int, 1)
	go func() { done <- e.run(streams, "sshmaster", "lo") }()
	time.Sleep(500 * time.Millisecond)
	if _, err := ptmx.Write([]byte("echo interactive-$((6*7))\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		seen := regexp.MustCompile(`interactive-42`).Match(out.Bytes())
		mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("no output from the session: %q", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := ptmx.Write([]byte("exit 5\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 5 {
			t.Fatalf("exit status %d, want 5", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session did not end")
	}
}

// TestSSHConfig: ssh-config writes Host blocks the system ssh reaches every node with,
// verified against the pinned keys, node001 through the master; a changed host key is refused.
func TestSSHConfig(t *testing.T) {
	e := newSSHEnv(t)
	printed := e.cli("ssh-config", "lo")
	if printed.code != 0 || !strings.Contains(printed.out, "Host lo-master\n") || !strings.Contains(printed.out, "Host lo-node001\n") ||
		!strings.Contains(printed.out, "    ProxyJump lo-master\n") || !strings.Contains(printed.out, "StrictHostKeyChecking yes") {
		t.Fatalf("ssh-config:\n%+v", printed)
	}
	file := filepath.Join(e.home, ".ssh", "clusterctl-lo")
	r := e.cli("ssh-config", "-o", file, "lo")
	if r.code != 0 || !strings.Contains(r.errOut, "Include "+file) {
		t.Fatalf("ssh-config -o: %+v", r)
	}
	data, err := os.ReadFile(file)
	if st, serr := os.Stat(file); err != nil || serr != nil || st.Mode().Perm() != 0o600 || string(data) != printed.out {
		t.Fatalf("written file: %v %v %v", st, err, serr)
	}
	for _, host := range []string{"lo-master", "lo-node001"} {
		out, err := exec.Command(sshdtest.SSHPath, "-F", file, "-o", "BatchMode=yes", host, "echo via-$((40+2))").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "via-42") {
			t.Errorf("ssh -F %s %s: %v\n%s", file, host, err, out)
		}
	}
	other := sshdtest.Start(t, sshdtest.Options{})
	e.p.insts[0].PublicIP, e.p.insts[0].PrivateIP = other.Addr, other.Addr // a new address: its key is not the pinned one
	e.p.insts[0].HostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(e.master.HostKey)))
	e.must(t, "ssh-config", "-o", file, "lo")
	if out, err := exec.Command(sshdtest.SSHPath, "-F", file, "-o", "BatchMode=yes", "lo-master", "true").CombinedOutput(); err == nil {
		t.Errorf("ssh reached a host whose key is not the pinned one:\n%s", out)
	}
}
