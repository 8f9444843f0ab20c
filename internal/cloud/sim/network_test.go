package sim

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// TestLinkDelayAndBandwidth: bytes arrive half a round trip after they are sent, no faster
// than the bandwidth allows.
func TestLinkDelayAndBandwidth(t *testing.T) {
	tests := []struct {
		name      string
		delay     time.Duration
		bandwidth float64
		uplink    float64
		size      int
		atLeast   time.Duration
	}{
		{"latency", 20 * time.Millisecond, 0, 0, 10, 20 * time.Millisecond},
		{"bandwidth", time.Millisecond, 1e6, 0, 100_000, 100 * time.Millisecond},
		{"the slower of link and uplink", time.Millisecond, 1e7, 1e6, 100_000, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent int
			a, b := pipe(tt.delay, tt.bandwidth, nil, nil, func(n int) { sent += n }, nil)
			if tt.uplink > 0 {
				a.out.shared = &uplink{bandwidth: tt.uplink}
			}
			start := time.Now()
			go func() { _, _ = a.Write(make([]byte, tt.size)); a.Close() }()
			got, err := io.ReadAll(b)
			took := time.Since(start)
			if err != nil || len(got) != tt.size || sent != tt.size {
				t.Fatalf("read %d of %d (counted %d): %v", len(got), tt.size, sent, err)
			}
			if took < tt.atLeast || took > tt.atLeast*5+50*time.Millisecond {
				t.Fatalf("took %s, want about %s", took, tt.atLeast)
			}
		})
	}
}

func TestMaxStartupsDropsAsSSHD(t *testing.T) {
	h := &Host{sshd: DefaultSSHD}
	for n, want := range map[int64]bool{1: false, 10: false, 100: true, 150: true} {
		if got := h.dropStartup(n); got != want {
			t.Errorf("connection %d dropped = %v, want %v", n, got, want)
		}
	}
	dropped := 0
	for range 1000 {
		if h.dropStartup(55) {
			dropped++
		}
	}
	// Halfway between 10 and 100, sshd drops 30% + 70%/2 = 65%.
	if dropped < 550 || dropped > 750 {
		t.Errorf("dropped %d of 1000 at 55 unauthenticated connections, want about 650", dropped)
	}
}

// testNet launches a master and nodes on a simulated cloud and returns how to reach them.
type testNet struct {
	p     *Provider
	insts []cloud.Instance
	opts  remote.Options
}

func newTestNet(t *testing.T, o Options, nodes int) *testNet {
	t.Helper()
	ctx := context.Background()
	o.APILatency = -1
	o.Network = NewNetwork()
	o.Network.RTT = time.Millisecond
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.CreateCluster(ctx, cloud.GroupSpec{Tag: "t"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, userKey, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(userKey, "")
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(userKey)
	boot := cloud.BootConfig{LoginUser: "admin", HostKeys: map[string][]byte{},
		AuthorizedKeys: []string{string(ssh.MarshalAuthorizedKey(signer.PublicKey()))}}
	aliases := []string{"master"}
	for i := 1; i <= nodes; i++ {
		aliases = append(aliases, fmt.Sprintf("node%03d", i))
	}
	for _, a := range aliases {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		b, _ := ssh.MarshalPrivateKey(k, "")
		boot.HostKeys[a] = pem.EncodeToMemory(b)
	}
	sc := &testNet{p: p}
	for i, role := range []cloud.Role{cloud.RoleMaster, cloud.RoleNode} {
		as := aliases[:1]
		if i == 1 {
			as = aliases[1:]
		}
		got, err := p.Launch(ctx, cloud.LaunchRequest{Tag: "t", GroupID: c.GroupID, Role: role, Aliases: as, Boot: boot})
		if err != nil {
			t.Fatal(err)
		}
		sc.insts = append(sc.insts, got...)
	}
	kh := remote.NewKnownHosts(filepath.Join(dir, "known_hosts"))
	for _, in := range sc.insts {
		pub, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(in.HostKey))
		if err := kh.Pin([]string{in.Alias, in.PrivateIP, in.PublicIP}, pub); err != nil {
			t.Fatal(err)
		}
	}
	sc.opts = remote.Options{KeyFile: keyFile, KnownHosts: kh, Dial: p.Network().Dial, ReadyTimeout: 5 * time.Second}
	if _, err := p.Wait(ctx, "t", []string{sc.insts[0].ID}, cloud.StateRunning); err != nil {
		t.Fatal(err)
	}
	return sc
}

// target reaches instance i, through the master when it has no public address.
func (sc *testNet) target(i int) remote.Target {
	in, m := sc.insts[i], sc.insts[0]
	t := remote.Target{Name: in.Alias, Addr: in.Addr(), User: "admin"}
	if in.PublicIP == "" {
		t.Jump = &remote.Target{Name: m.Alias, Addr: m.PublicIP, User: "admin"}
	}
	return t
}

// TestUnrecordedCommandFails: a simulated node answers only what a real node was recorded
// answering; anything else fails with status 127 and is listed.
func TestUnrecordedCommandFails(t *testing.T) {
	sc := newTestNet(t, Options{Answers: &Answers{}}, 0)
	c, err := remote.Connect(context.Background(), sc.target(0), sc.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Run(context.Background(), "echo hello")
	if res.ExitStatus != 127 || !strings.Contains(res.Stderr, "no recorded answer") || err == nil {
		t.Fatalf("got %+v, %v", res, err)
	}
	if m := sc.p.Network().Missed(); len(m) != 1 || !strings.Contains(m[0], "echo hello") {
		t.Fatalf("missed %q", m)
	}
}

// TestMasterForwardsWithinItsOpenFiles: the master's sshd refuses forwards beyond the open
// files of its connection's process, as OpenSSH under systemd does; a pool that spreads the
// nodes over several connections to the master (remote.Options.MaxForwards) reaches them all.
func TestMasterForwardsWithinItsOpenFiles(t *testing.T) {
	sshd := DefaultSSHD
	sshd.NoFile = sshdReservedFiles + 2 // two forwards per connection
	for _, tt := range []struct {
		maxForwards int
		wantErr     bool
	}{{maxForwards: 100, wantErr: true}, {maxForwards: 2}} {
		t.Run(fmt.Sprintf("%d per connection", tt.maxForwards), func(t *testing.T) {
			sc := newTestNet(t, Options{SSHD: &sshd, Answers: &Answers{}}, 5)
			opts := sc.opts
			opts.MaxForwards = tt.maxForwards
			opts.ReadyTimeout = 0
			pool := remote.NewPool(opts)
			defer pool.Close()
			var failed int
			for i := 1; i < len(sc.insts); i++ {
				if _, err := pool.Get(context.Background(), sc.target(i)); err != nil {
					failed++
					if !strings.Contains(err.Error(), "Too many open files") {
						t.Fatalf("%s: %v", sc.insts[i].Alias, err)
					}
				}
			}
			st := sc.p.Network().Stats()
			if (failed > 0) != tt.wantErr || st.PeakForwards > 2 {
				t.Fatalf("%d of 5 nodes failed, at most %d forwards on one connection (%+v)", failed, st.PeakForwards, st)
			}
		})
	}
}

var _ net.Conn = (*conn)(nil)
