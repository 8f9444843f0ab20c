package sshdtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options configure one sshd.
type Options struct {
	// AuthorizedKeys may log in (as User, or root).
	AuthorizedKeys []ssh.PublicKey
	// ExtraConfig lines are appended to the generated sshd_config.
	ExtraConfig []string
}

// Server is a running sshd.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// HostKey is the server's ed25519 host key.
	HostKey ssh.PublicKey
	// User is the login user (User), UID and GID its ids, Home its home directory. The
	// account exists only inside this sshd's mount namespace: use the ids, not a name lookup.
	User     string
	UID, GID int
	Home     string

	cmd    *exec.Cmd
	stderr *lockedBuffer
}

// Start runs /usr/sbin/sshd -D -e -f CONFIG on a free loopback port with a host key and
// configuration generated in t.TempDir(), and stops it when the test ends. sshd runs in its own
// mount namespace where the login user exists (see account); the test is skipped, saying why,
// when that is impossible (not root, sshd or sudo missing).
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := t.TempDir()
	acct := newAccount(t, dir)
	// sshd's privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshdtest: create /run/sshd: %v", err)
	}
	hostKey := writeHostKey(t, filepath.Join(dir, "ssh_host_ed25519_key"))
	authKeys := writeAuthorizedKeys(t, opts.AuthorizedKeys)

	var lastErr string
	for range 3 { // the free port may be taken between probing and binding
		port := freePort(t)
		cfg := filepath.Join(dir, "sshd_config")
		if err := os.WriteFile(cfg, []byte(config(dir, port, authKeys, opts.ExtraConfig)), 0o600); err != nil {
			t.Fatalf("sshdtest: write config: %v", err)
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), HostKey: hostKey, User: User,
			UID: acct.uid, GID: acct.gid, Home: acct.home, stderr: &lockedBuffer{}}
		// unshare execs sh, which mounts the account files and execs sshd: one process
		// throughout, so signals reach sshd itself.
		s.cmd = exec.Command(UnsharePath, "--mount", "--propagation", "private", "--",
			"/bin/sh", "-c", acct.mountScript(), "sh", SSHDPath, "-D", "-e", "-f", cfg)
		s.cmd.Stderr = s.stderr
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("sshdtest: start sshd: %v", err)
		}
		exited := make(chan struct{})
		go func() {
			_ = s.cmd.Wait()
			close(exited)
		}()
		if s.waitListening(exited) {
			t.Cleanup(func() {
				_ = s.cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					_ = s.cmd.Process.Kill()
					<-exited
				}
				if t.Failed() {
					t.Logf("sshd log (%s):\n%s", s.Addr, s.stderr.String())
				}
			})
			return s
		}
		_ = s.cmd.Process.Kill()
		<-exited
		lastErr = s.stderr.String()
		if !strings.Contains(lastErr, "Address already in use") {
			break
		}
	}
	t.Fatalf("sshdtest: sshd did not start:\n%s", lastErr)
	return nil
}

// waitListening waits until sshd accepts connections, or reports false if it exited.
func (s *Server) waitListening(exited <-chan struct{}) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Log returns what sshd has logged so far (connection and authentication events).
func (s *Server) Log() string { return s.stderr.String() }

// config renders a self-contained sshd_config.
func config(dir string, port int, authKeys string, extra []string) string {
	lines := []string{
		"Port " + strconv.Itoa(port),
		"ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(dir, "ssh_host_ed25519_key"),
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + authKeys,
		"UsePAM no",
		"StrictModes no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowTcpForwarding yes",
		"X11Forwarding no",
		"PrintMotd no",
		"Subsystem sftp internal-sftp",
	}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

// writeHostKey generates an ed25519 host key at path (mode 0600, as sshd requires).
func writeHostKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshdtest: host key: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "sshdtest host key")
	if err != nil {
		t.Fatalf("sshdtest: host key: %v", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("sshdtest: host key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sshdtest: host key: %v", err)
	}
	return signer.PublicKey()
}

// writeAuthorizedKeys writes the keys to a file the login user can read. sshd opens
// AuthorizedKeysFile with the user's privileges, so it lives in its own world-searchable
// directory rather than in t.TempDir(), whose parent only root may enter.
func writeAuthorizedKeys(t testing.TB, keys []ssh.PublicKey) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sshdtest-auth-*")
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	var b bytes.Buffer
	for _, k := range keys {
		b.Write(ssh.MarshalAuthorizedKey(k))
	}
	path := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	return path
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshdtest: find free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects sshd's log from its stderr copier while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// String describes the server for test logs.
func (s *Server) String() string { return fmt.Sprintf("sshd on %s", s.Addr) }
