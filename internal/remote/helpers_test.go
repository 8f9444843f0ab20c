package remote_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
	"golang.org/x/crypto/ssh"
)

// testEnv is a client side for tests: a cluster key, a known_hosts store and options with
// short timeouts.
type testEnv struct {
	dir     string
	keyFile string
	signer  ssh.Signer
	kh      *remote.KnownHosts
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	key, signer := sshtest.WriteKeyFile(t, dir, sshtest.Ed25519, "")
	return &testEnv{dir: dir, keyFile: key, signer: signer,
		kh: remote.NewKnownHosts(filepath.Join(dir, "known_hosts", "test"))}
}

// opts are connection options tuned for loopback tests.
func (e *testEnv) opts() remote.Options {
	return remote.Options{
		KeyFile:          e.keyFile,
		KnownHosts:       e.kh,
		DialTimeout:      2 * time.Second,
		HandshakeTimeout: 3 * time.Second,
		MinBackoff:       20 * time.Millisecond,
		MaxBackoff:       200 * time.Millisecond,
	}
}

// server starts an in-process server authorizing the env's key, with its host key pinned.
func (e *testEnv) server(t *testing.T, cfg sshtest.Config) *sshtest.Server {
	t.Helper()
	if cfg.AuthorizedKeys == nil {
		cfg.AuthorizedKeys = []ssh.PublicKey{e.signer.PublicKey()}
	}
	s := sshtest.Start(t, cfg)
	if err := e.kh.Pin([]string{s.Addr}, s.HostKey.PublicKey()); err != nil {
		t.Fatalf("pin: %v", err)
	}
	return s
}

// target names a server as a node.
func target(name, addr string) remote.Target {
	return remote.Target{Name: name, Addr: addr, User: "tester"}
}

// connect connects to a server, failing the test on error and closing with it.
func (e *testEnv) connect(t *testing.T, tg remote.Target) *remote.Client {
	t.Helper()
	c, err := remote.Connect(t.Context(), tg, e.opts())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mustRead returns a file's content, failing the test on error.
func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeExecutable writes a script with mode 0755.
func writeExecutable(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o755)
}
