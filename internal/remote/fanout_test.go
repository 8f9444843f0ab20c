package remote_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
	"golang.org/x/crypto/ssh"
)

func nodeName(i int) string { return fmt.Sprintf("node%03d", i) }

// TestFanOutLimitFollowsOpenFiles: the default bound is what the open-file limit leaves, at
// least DefaultConcurrency and at most MaxConcurrency.
func TestFanOutLimitFollowsOpenFiles(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	got := remote.FanOutLimit()
	if got < remote.DefaultConcurrency || got > remote.MaxConcurrency || uint64(got) > lim.Cur {
		t.Fatalf("FanOutLimit() = %d with a limit of %d open files", got, lim.Cur)
	}
	// A lower limit lowers the bound (restored at the end).
	low := lim
	low.Cur = 300
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	if got := remote.FanOutLimit(); got >= 300-100 || got < remote.DefaultConcurrency {
		t.Fatalf("FanOutLimit() = %d with a limit of 300 open files", got)
	}
}

func TestFanOut(t *testing.T) {
	items := make([]int, 100)
	for i := range items {
		items[i] = i
	}
	tests := []struct {
		name        string
		concurrency int
		failing     map[int]bool
		wantMax     int
	}{
		// By default every item runs at once, as far as open files allow.
		{name: "default concurrency", failing: map[int]bool{}, wantMax: len(items)},
		{name: "limited, some fail", concurrency: 4, failing: map[int]bool{3: true, 50: true, 99: true}, wantMax: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var running, peak atomic.Int64
			var dones []int
			var mu sync.Mutex
			err := remote.FanOut(t.Context(), items, nodeName, remote.FanOutOpts{
				Concurrency: tt.concurrency,
				OnDone: func(done, total int, name string, err error) {
					mu.Lock()
					defer mu.Unlock()
					dones = append(dones, done)
					if total != len(items) {
						t.Errorf("total = %d", total)
					}
				},
			}, func(ctx context.Context, i int) error {
				n := running.Add(1)
				defer running.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(2 * time.Millisecond)
				if tt.failing[i] {
					return &remote.RemoteError{Host: nodeName(i), Command: "false", ExitStatus: 1}
				}
				return nil
			})
			if p := peak.Load(); p > int64(tt.wantMax) || p < 2 || (tt.concurrency == 0 && p < int64(len(items))/2) {
				t.Errorf("peak concurrency %d, want 2..%d", p, tt.wantMax)
			}
			if len(dones) != len(items) || dones[len(dones)-1] != len(items) {
				t.Errorf("OnDone called %d times, last %v", len(dones), dones[len(dones)-1:])
			}
			if len(tt.failing) == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			for i := range tt.failing {
				if !strings.Contains(err.Error(), nodeName(i)+": ") {
					t.Errorf("joined error lacks %s:\n%v", nodeName(i), err)
				}
			}
			var rerr *remote.RemoteError
			var herr *remote.HostError
			if !errors.As(err, &rerr) || !errors.As(err, &herr) {
				t.Errorf("errors.As cannot find the typed errors in %v", err)
			}
			if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != len(tt.failing) {
				t.Errorf("joined %d errors, want %d", n, len(tt.failing))
			}
		})
	}
}

func TestFanOutStopsStartingOnCancel(t *testing.T) {
	items := make([]int, 50)
	ctx, cancel := context.WithCancel(t.Context())
	var started atomic.Int64
	err := remote.FanOut(ctx, items, func(int) string { return "n" }, remote.FanOutOpts{Concurrency: 2},
		func(ctx context.Context, _ int) error {
			if started.Add(1) == 3 {
				cancel()
			}
			return nil
		})
	if n := started.Load(); n > 5 {
		t.Errorf("%d items started after cancel, want no new work", n)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "not started") {
		t.Errorf("err = %v, want cancellation and the count not started", err)
	}
}

// TestFanOutOverManyServers runs a command on 200 in-process servers, 7 of which reject the
// cluster key, through one pool: every failing node is named and all others succeed.
func TestFanOutOverManyServers(t *testing.T) {
	e := newEnv(t)
	hostKey := sshtest.NewSigner(t, sshtest.Ed25519)
	stranger := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
	rejecting := map[int]bool{5: true, 17: true, 60: true, 99: true, 123: true, 150: true, 199: true}
	targets := make([]remote.Target, 200)
	for i := range targets {
		cfg := sshtest.Config{HostKey: hostKey, AuthorizedKeys: []ssh.PublicKey{e.signer.PublicKey()}}
		if rejecting[i] {
			cfg.AuthorizedKeys = []ssh.PublicKey{stranger}
		}
		s := sshtest.Start(t, cfg)
		targets[i] = target(nodeName(i), s.Addr)
	}
	o := e.opts()
	o.TrustOnFirstUse = true // pins 200 keys concurrently into one file
	pool := remote.NewPool(o)
	defer pool.Close()
	var ok atomic.Int64
	start := time.Now()
	err := remote.FanOut(t.Context(), targets, func(t remote.Target) string { return t.Name }, remote.FanOutOpts{},
		func(ctx context.Context, tg remote.Target) error {
			c, err := pool.Get(ctx, tg)
			if err != nil {
				return err
			}
			res, err := c.Run(ctx, "echo $((6*7))")
			if err == nil && res.Stdout == "42\n" {
				ok.Add(1)
			}
			return err
		})
	t.Logf("fan-out over 200 servers took %s", time.Since(start))
	if ok.Load() != 193 {
		t.Errorf("%d nodes succeeded, want 193", ok.Load())
	}
	if err == nil {
		t.Fatal("no error although 7 nodes reject the key")
	}
	for i := range rejecting {
		if !strings.Contains(err.Error(), nodeName(i)+": connect to "+nodeName(i)) {
			t.Errorf("error lacks %s", nodeName(i))
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 7 {
		t.Errorf("joined %d errors, want 7:\n%v", n, err)
	}
	if lines := strings.Count(string(mustRead(t, e.kh.Path())), "\n"); lines != 200 {
		t.Errorf("known_hosts has %d lines, want 200 pins", lines)
	}
}
