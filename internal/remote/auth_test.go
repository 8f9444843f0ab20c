package remote_test

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestConnectWithEachKeyKind(t *testing.T) {
	for _, kind := range []sshtest.KeyKind{sshtest.Ed25519, sshtest.RSA, sshtest.ECDSA} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t)
			e.keyFile, e.signer = sshtest.WriteKeyFile(t, t.TempDir(), kind, "")
			// Host key of the same kind, so RSA SHA-2 host key negotiation is covered too.
			s := e.server(t, sshtest.Config{HostKey: sshtest.NewSigner(t, kind)})
			c := e.connect(t, target("node001", s.Addr))
			if res, err := c.Run(t.Context(), "echo ok"); err != nil || res.Stdout != "ok\n" {
				t.Fatalf("run: %+v %v", res, err)
			}
		})
	}
}

// startAgent serves an in-memory ssh-agent on a unix socket holding keys.
func startAgent(t *testing.T, keys ...any) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = agent.ServeAgent(keyring, c)
			}()
		}
	}()
	return sock
}

func TestPassphraseProtectedKeyUsesAgent(t *testing.T) {
	const passphrase = "correct horse"
	dir := t.TempDir()
	keyFile, signer := sshtest.WriteKeyFile(t, dir, sshtest.Ed25519, passphrase)
	unrelated := sshtest.NewKey(t, sshtest.Ed25519)

	tests := []struct {
		name    string
		env     string // SSH_AUTH_SOCK value; "agent" and "agent-without" start agents
		wantErr string
	}{
		{name: "no agent", env: "", wantErr: "SSH_AUTH_SOCK is not set"},
		{name: "agent unreachable", env: filepath.Join(dir, "missing.sock"), wantErr: "cannot reach the agent"},
		{name: "agent lacks key", env: "agent-without", wantErr: "does not hold it; run ssh-add " + keyFile},
		{name: "agent holds key", env: "agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.keyFile, e.signer = keyFile, signer
			s := e.server(t, sshtest.Config{})
			sock := tt.env
			switch tt.env {
			case "agent":
				// The agent holds the decrypted key, as after ssh-add.
				raw, err := ssh.ParseRawPrivateKeyWithPassphrase(mustRead(t, keyFile), []byte(passphrase))
				if err != nil {
					t.Fatal(err)
				}
				sock = startAgent(t, unrelated, raw)
			case "agent-without":
				sock = startAgent(t, unrelated)
			}
			t.Setenv("SSH_AUTH_SOCK", sock)
			o := e.opts()
			o.ReadyTimeout = 5 * time.Second
			c, err := remote.Connect(t.Context(), target("node001", s.Addr), o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer c.Close()
				if res, err := c.Run(t.Context(), "echo ok"); err != nil || res.Stdout != "ok\n" {
					t.Fatalf("run: %+v %v", res, err)
				}
				return
			}
			if !errors.Is(err, remote.ErrKeyNotInAgent) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrKeyNotInAgent mentioning %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), passphrase) {
				t.Fatal("error leaks the passphrase")
			}
			if s.Accepted() != 0 {
				t.Errorf("dialled %d times although the key cannot be used", s.Accepted())
			}
		})
	}
}

func TestConnectReportsBadKeyFile(t *testing.T) {
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	tests := []struct {
		name    string
		keyFile string
		wantErr string
	}{
		{name: "missing", keyFile: filepath.Join(e.dir, "nope"), wantErr: "read cluster key"},
		{name: "not a key", keyFile: e.keyFile + ".pub", wantErr: "parse cluster key"},
		{name: "unset", keyFile: "", wantErr: "no cluster key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := e.opts()
			o.KeyFile = tt.keyFile
			_, err := remote.Connect(t.Context(), target("node001", s.Addr), o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
