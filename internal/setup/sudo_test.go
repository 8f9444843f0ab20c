package setup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
)

// TestDroppedConnection: a connection dropped while a step's script runs is made again and the
// script run again (setup's scripts are idempotent), so the step succeeds; SudoOnce, for
// scripts that must not run twice, fails instead, saying the script may or may not have
// finished.
func TestDroppedConnection(t *testing.T) {
	dir := t.TempDir()
	keyFile, signer := sshtest.WriteKeyFile(t, dir, sshtest.Ed25519, "")
	srv := sshtest.Start(t, sshtest.Config{AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}, Dir: dir})
	kh := remote.NewKnownHosts(filepath.Join(dir, "known_hosts"))
	if err := kh.Pin([]string{srv.Addr}, srv.HostKey.PublicKey()); err != nil {
		t.Fatal(err)
	}
	pool := remote.NewPool(remote.Options{KeyFile: keyFile, KnownHosts: kh, ReadyTimeout: 5 * time.Second,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	defer pool.Close()
	n := &Node{Instance: cloud.Instance{ID: "i-1", Alias: "node001", State: cloud.StateRunning},
		Target: remote.Target{Name: "node001", Addr: srv.Addr, User: "root"}}
	c := &Cluster{Tag: "t", Nodes: []*Node{n}, Pool: pool}

	for _, tc := range []struct {
		name string
		run  func(script string) error
		want func(err error, starts int) string
	}{
		{"idempotent step", func(s string) error { _, err := c.Sudo(t.Context(), n, s); return err },
			func(err error, starts int) string {
				if err != nil || starts != 2 {
					return "want success after a second run"
				}
				return ""
			}},
		{"run once", func(s string) error { _, err := c.SudoOnce(t.Context(), n, s); return err },
			func(err error, starts int) string {
				var lost *remote.ConnectionLostError
				if !errors.As(err, &lost) || !lost.Started || starts != 1 || !strings.Contains(err.Error(), "connection to node001 lost while it ran") ||
					!strings.Contains(err.Error(), "may or may not have finished") {
					return "want a ConnectionLostError saying the command may or may not have finished"
				}
				return ""
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".log")
			script := "echo start >> " + log + "; sleep 1; echo end >> " + log
			if _, err := c.Sudo(t.Context(), n, "true"); err != nil { // connected before the drop
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- tc.run(script) }()
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if data, _ := os.ReadFile(log); strings.Contains(string(data), "start") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the script never started")
				}
			}
			srv.DropConnections()
			err := <-done
			data, _ := os.ReadFile(log)
			if why := tc.want(err, strings.Count(string(data), "start")); why != "" {
				t.Errorf("%s; got %v, log %q", why, err, data)
			}
		})
	}
}
