package remote_test

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
	"golang.org/x/crypto/ssh"
)

func TestConnectAuthFailureIsRetriedUntilReadyTimeout(t *testing.T) {
	e := newEnv(t)
	other := sshtest.NewSigner(t, sshtest.Ed25519)
	s := e.server(t, sshtest.Config{AuthorizedKeys: []ssh.PublicKey{other.PublicKey()}})
	o := e.opts()
	o.ReadyTimeout = 700 * time.Millisecond
	start := time.Now()
	_, err := remote.Connect(t.Context(), target("node001", s.Addr), o)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("err = %v, want authentication failure", err)
	}
	if !strings.Contains(err.Error(), "node001") {
		t.Errorf("error %q does not name the node", err)
	}
	if s.Accepted() < 2 {
		t.Errorf("server saw %d connections, want retries", s.Accepted())
	}
	if d := time.Since(start); d < o.ReadyTimeout || d > 5*time.Second {
		t.Errorf("gave up after %s, want about %s", d, o.ReadyTimeout)
	}
}

func TestConnectHostKeyMismatchIsRefusedAtOnce(t *testing.T) {
	e := newEnv(t)
	s := sshtest.Start(t, sshtest.Config{AuthorizedKeys: []ssh.PublicKey{e.signer.PublicKey()}})
	pinned := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
	if err := e.kh.Pin([]string{"node001", s.Addr}, pinned); err != nil {
		t.Fatal(err)
	}
	o := e.opts()
	o.ReadyTimeout = 30 * time.Second
	o.TrustOnFirstUse = true // must not override an existing pin
	start := time.Now()
	_, err := remote.Connect(t.Context(), target("node001", s.Addr), o)
	var mm *remote.HostKeyMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("err = %v, want *HostKeyMismatchError", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("mismatch took %s; it must not be retried", d)
	}
	if n := s.Accepted(); n != 1 {
		t.Errorf("server saw %d connections, want exactly 1", n)
	}
	msg := err.Error()
	for _, want := range []string{"node001", e.kh.Path(), ssh.FingerprintSHA256(pinned),
		ssh.FingerprintSHA256(s.HostKey.PublicKey()), "reused", "rebuilt", "intercepted"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(strings.ToLower(msg), "stricthostkeychecking=no") {
		t.Errorf("message advises disabling host key checking:\n%s", msg)
	}
}

func TestConnectUnknownHostWithoutTOFUIsRefused(t *testing.T) {
	e := newEnv(t)
	s := sshtest.Start(t, sshtest.Config{})
	o := e.opts()
	o.ReadyTimeout = 10 * time.Second
	start := time.Now()
	_, err := remote.Connect(t.Context(), target("node001", s.Addr), o)
	var unknown *remote.UnknownHostKeyError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want *UnknownHostKeyError", err)
	}
	if time.Since(start) > 2*time.Second || s.Accepted() != 1 {
		t.Errorf("unknown host key was retried (%d connections)", s.Accepted())
	}
}

func TestConnectTrustOnFirstUsePinsAndReports(t *testing.T) {
	e := newEnv(t)
	s := sshtest.Start(t, sshtest.Config{})
	o := e.opts()
	o.TrustOnFirstUse = true
	var notices []remote.PinNotice
	var mu sync.Mutex
	o.OnPin = func(n remote.PinNotice) {
		mu.Lock()
		defer mu.Unlock()
		notices = append(notices, n)
	}
	for range 2 {
		c, err := remote.Connect(t.Context(), target("node001", s.Addr), o)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		c.Close()
	}
	if len(notices) != 1 {
		t.Fatalf("got %d pin notices, want 1 (second connection must use the pin)", len(notices))
	}
	n := notices[0]
	if n.Fingerprint != ssh.FingerprintSHA256(s.HostKey.PublicKey()) || n.File != e.kh.Path() {
		t.Errorf("notice = %+v", n)
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	wantAlias := "[node001]:" + port
	if len(n.Hostnames) != 2 || n.Hostnames[0] != wantAlias {
		t.Errorf("pinned names %v, want alias %s and the address", n.Hostnames, wantAlias)
	}
	// Without TOFU the pin alone now admits the host.
	o.TrustOnFirstUse = false
	c, err := remote.Connect(t.Context(), target("node001", s.Addr), o)
	if err != nil {
		t.Fatalf("connect with pin: %v", err)
	}
	c.Close()
}

func TestConnectRetriesUntilLateServerListens(t *testing.T) {
	e := newEnv(t)
	addr := sshtest.FreeAddr(t)
	hostKey := sshtest.NewSigner(t, sshtest.Ed25519)
	if err := e.kh.Pin([]string{addr}, hostKey.PublicKey()); err != nil {
		t.Fatal(err)
	}
	o := e.opts()
	o.ReadyTimeout = 10 * time.Second
	type result struct {
		c   *remote.Client
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		c, err := remote.Connect(t.Context(), target("late", addr), o)
		done <- result{c, err, time.Now()}
	}()
	time.Sleep(600 * time.Millisecond)
	startedAt := time.Now()
	s := sshtest.Start(t, sshtest.Config{Addr: addr, HostKey: hostKey})
	r := <-done
	if r.err != nil {
		t.Fatalf("connect: %v", r.err)
	}
	defer r.c.Close()
	if r.at.Before(startedAt) {
		t.Fatal("connected before the server started")
	}
	if s.Accepted() < 1 {
		t.Fatal("server never saw the connection")
	}
	if res, err := r.c.Run(t.Context(), "echo up"); err != nil || res.Stdout != "up\n" {
		t.Fatalf("run: %+v %v", res, err)
	}
}

func TestConnectHandshakeTimeout(t *testing.T) {
	e := newEnv(t)
	addr := sshtest.Blackhole(t)
	o := e.opts()
	o.HandshakeTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := remote.Connect(t.Context(), target("wedged", addr), o)
	if err == nil || !strings.Contains(err.Error(), "did not finish within 300ms") {
		t.Fatalf("err = %v, want handshake timeout", err)
	}
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("handshake timeout is not a timeout net.Error: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestKeepaliveClosesDeadConnection(t *testing.T) {
	e := newEnv(t)
	s := sshtest.Start(t, sshtest.Config{AuthorizedKeys: []ssh.PublicKey{e.signer.PublicKey()}})
	p := sshtest.NewProxy(t, s.Addr)
	if err := e.kh.Pin([]string{p.Addr}, s.HostKey.PublicKey()); err != nil {
		t.Fatal(err)
	}
	o := e.opts()
	o.KeepaliveInterval = 100 * time.Millisecond
	o.KeepaliveMaxMissed = 3
	c, err := remote.Connect(t.Context(), target("node001", p.Addr), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Alive while the peer answers.
	time.Sleep(500 * time.Millisecond)
	if c.Err() != nil {
		t.Fatalf("connection closed while peer answered: %v", c.Err())
	}
	p.Freeze()
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("connection to a frozen peer still open after 3s")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "keepalive") {
		t.Errorf("Err() = %v, want keepalive reason", err)
	}
	if _, err := c.Run(t.Context(), "true"); err == nil || !strings.Contains(err.Error(), "keepalive") {
		t.Errorf("run on dead connection: %v, want keepalive reason", err)
	}
}
