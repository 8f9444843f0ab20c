package remote_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
	"golang.org/x/crypto/ssh"
)

func TestPoolReusesOneConnectionPerTarget(t *testing.T) {
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	pool := remote.NewPool(e.opts())
	tg := target("node001", s.Addr)
	var wg sync.WaitGroup
	clients := make([]*remote.Client, 20)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pool.Get(t.Context(), tg)
			if err != nil {
				t.Error(err)
				return
			}
			clients[i] = c
			if _, err := c.Run(t.Context(), "true"); err != nil {
				t.Error(err)
			}
			c.Close() // a no-op for pooled clients
		}()
	}
	wg.Wait()
	if s.Accepted() != 1 {
		t.Errorf("server saw %d connections, want 1", s.Accepted())
	}
	for _, c := range clients[1:] {
		if c != clients[0] {
			t.Fatal("pool returned different clients for one target")
		}
	}
	if _, err := clients[0].Run(t.Context(), "true"); err != nil {
		t.Errorf("pooled client closed by a caller's Close: %v", err)
	}
	if err := pool.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	<-clients[0].Done()
	if _, err := pool.Get(t.Context(), tg); err == nil {
		t.Error("Get after Close succeeded")
	}
}

func TestPoolRedialsDeadConnection(t *testing.T) {
	e := newEnv(t)
	s := sshtest.Start(t, sshtest.Config{})
	p := sshtest.NewProxy(t, s.Addr)
	if err := e.kh.Pin([]string{p.Addr}, s.HostKey.PublicKey()); err != nil {
		t.Fatal(err)
	}
	pool := remote.NewPool(e.opts())
	defer pool.Close()
	tg := target("node001", p.Addr)
	c1, err := pool.Get(t.Context(), tg)
	if err != nil {
		t.Fatal(err)
	}
	c1.SSH().Close() // the connection dies under the pool
	<-c1.Done()
	c2, err := pool.Get(t.Context(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if c2 == c1 {
		t.Fatal("pool returned the dead client")
	}
	if _, err := c2.Run(t.Context(), "true"); err != nil {
		t.Fatal(err)
	}
}

func TestJumpHostVerifiesBothKeys(t *testing.T) {
	tests := []struct {
		name         string
		pinJumpBad   bool
		pinNodeBad   bool
		wantMismatch string
	}{
		{name: "both pinned"},
		{name: "jump host key wrong", pinJumpBad: true, wantMismatch: "master"},
		{name: "node key wrong", pinNodeBad: true, wantMismatch: "node001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			auth := []ssh.PublicKey{e.signer.PublicKey()}
			master := sshtest.Start(t, sshtest.Config{AuthorizedKeys: auth})
			node := sshtest.Start(t, sshtest.Config{AuthorizedKeys: auth})
			wrong := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
			pin := func(addr string, key ssh.PublicKey, bad bool) {
				if bad {
					key = wrong
				}
				if err := e.kh.Pin([]string{addr}, key); err != nil {
					t.Fatal(err)
				}
			}
			pin(master.Addr, master.HostKey.PublicKey(), tt.pinJumpBad)
			pin(node.Addr, node.HostKey.PublicKey(), tt.pinNodeBad)
			jump := target("master", master.Addr)
			tg := target("node001", node.Addr)
			tg.Jump = &jump

			pool := remote.NewPool(e.opts())
			defer pool.Close()
			connects := map[string]func() (*remote.Client, error){
				"pool":    func() (*remote.Client, error) { return pool.Get(t.Context(), tg) },
				"connect": func() (*remote.Client, error) { return remote.Connect(t.Context(), tg, e.opts()) },
			}
			for how, connect := range connects {
				c, err := connect()
				if tt.wantMismatch != "" {
					var mm *remote.HostKeyMismatchError
					if !errors.As(err, &mm) || mm.Host != tt.wantMismatch {
						t.Fatalf("%s: err = %v, want mismatch for %s", how, err, tt.wantMismatch)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				// The command runs on the node, reached only through the master's channel.
				res, err := c.Run(t.Context(), "echo via jump")
				if err != nil || res.Stdout != "via jump\n" {
					t.Fatalf("%s: run: %+v %v", how, res, err)
				}
				if !strings.Contains(c.Target().String(), "via master") {
					t.Errorf("target %s", c.Target())
				}
				c.Close()
			}
			if tt.wantMismatch != "" {
				return
			}
			// One master connection for the pool and one for Connect; each carried one
			// forwarded connection to the node.
			if master.Accepted() != 2 || node.Accepted() != 2 {
				t.Errorf("master accepted %d, node %d connections; want 2 and 2", master.Accepted(), node.Accepted())
			}
			// The pool reuses its master connection instead of dialling again.
			if _, err := pool.Get(t.Context(), jump); err != nil {
				t.Fatal(err)
			}
			if master.Accepted() != 2 {
				t.Errorf("master accepted %d connections after pool.Get(master), want 2", master.Accepted())
			}
		})
	}
}

func TestSessionLimitsQueueInsteadOfFailing(t *testing.T) {
	tests := []struct {
		name      string
		clientMax int
	}{
		{name: "client bound matches server", clientMax: 3},
		{name: "client bound above server", clientMax: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.server(t, sshtest.Config{MaxSessions: 3})
			o := e.opts()
			o.MaxSessions = tt.clientMax
			c, err := remote.Connect(t.Context(), target("node001", s.Addr), o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var wg sync.WaitGroup
			for i := range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := c.Run(t.Context(), fmt.Sprintf("sleep 0.05; echo %d", i))
					if err != nil || res.Stdout != fmt.Sprintf("%d\n", i) {
						t.Errorf("command %d: %+v %v", i, res, err)
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestPoolSpreadsNodesOverJumpConnections: a jump host's connection carries at most
// MaxForwards forwarded nodes (an sshd process has a limit of open files); more nodes open
// another connection to it, and the first one stays the one master commands use.
func TestPoolSpreadsNodesOverJumpConnections(t *testing.T) {
	e := newEnv(t)
	auth := []ssh.PublicKey{e.signer.PublicKey()}
	master := sshtest.Start(t, sshtest.Config{AuthorizedKeys: auth})
	if err := e.kh.Pin([]string{master.Addr}, master.HostKey.PublicKey()); err != nil {
		t.Fatal(err)
	}
	jump := target("master", master.Addr)
	var nodes []remote.Target
	for i := 1; i <= 5; i++ {
		s := sshtest.Start(t, sshtest.Config{AuthorizedKeys: auth})
		if err := e.kh.Pin([]string{s.Addr}, s.HostKey.PublicKey()); err != nil {
			t.Fatal(err)
		}
		tg := target(fmt.Sprintf("node%03d", i), s.Addr)
		tg.Jump = &jump
		nodes = append(nodes, tg)
	}
	opts := e.opts()
	opts.MaxForwards = 2
	pool := remote.NewPool(opts)
	defer pool.Close()
	m, err := pool.Get(t.Context(), jump)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range nodes {
		c, err := pool.Get(t.Context(), tg)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := c.Run(t.Context(), "echo ok"); err != nil || res.Stdout != "ok\n" {
			t.Fatalf("%s: %+v %v", tg.Name, res, err)
		}
	}
	// Five nodes, two per connection: three connections to the master, the first shared
	// with its own commands.
	if got := master.Accepted(); got != 3 {
		t.Fatalf("master accepted %d connections, want 3", got)
	}
	if again, err := pool.Get(t.Context(), jump); err != nil || again != m {
		t.Fatalf("the master's own connection changed: %v", err)
	}
}
