// Package mototest runs moto's EC2 server on a loopback port for tests of the EC2 provider, so
// they exercise the real SDK, real requests and a server that keeps state, without AWS.
package mototest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Settings every test client uses: dummy credentials (moto accepts any) and moto's default
// region. Pass them through the provider's Options, never through the process environment.
const (
	Region          = "us-east-1"
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
)

// ErrUnavailable means neither moto_server nor python3 with moto is installed.
var ErrUnavailable = errors.New("moto's EC2 server is required for these tests: `make test` installs it (pip install 'moto[server]'), or install it by hand")

// startTimeout bounds how long moto may take to answer after it starts.
const startTimeout = 60 * time.Second

// Server is one running moto server.
type Server struct {
	endpoint string
	cmd      *exec.Cmd
	dir      string
	log      *tail
	exited   chan struct{}
	once     sync.Once
}

// Start runs a moto server for the test and stops it at cleanup. It skips the test when moto is
// not installed and fails it when moto is installed but does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer(context.Background())
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// StartServer runs a moto server on a free loopback port and waits until it answers; for use in
// TestMain, where there is no testing.TB. The caller must Close it.
func StartServer(ctx context.Context) (*Server, error) {
	argv, err := command()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mototest-")
	if err != nil {
		return nil, fmt.Errorf("moto: %w", err)
	}
	amis := filepath.Join(dir, "amis.json")
	if err := writeImages(amis); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	var last error
	for range 3 { // a port taken between probing and binding is retried
		s, err := launch(ctx, argv, dir, amis)
		if err == nil {
			return s, nil
		}
		last = err
	}
	_ = os.RemoveAll(dir)
	return nil, last
}

// command finds moto: the moto_server script, else python3 -m moto.server when python3 can
// import it.
func command() ([]string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return []string{p}, nil
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil, ErrUnavailable
	}
	if err := exec.Command(py, "-c", "import moto.server").Run(); err != nil {
		return nil, ErrUnavailable
	}
	return []string{py, "-m", "moto.server"}, nil
}

func launch(ctx context.Context, argv []string, dir, amis string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append(argv[1:], "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd := exec.Command(argv[0], args...)
	log := &tail{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "MOTO_AMIS_PATH="+amis)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so Close stops moto's children too
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	s := &Server{endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, dir: dir, log: log, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls moto's API root until it answers, the process exits or time runs out.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"/moto-api/", nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("moto exited before answering: %s", s.log.String())
		case <-ctx.Done():
			return fmt.Errorf("moto did not answer on %s: %w; output: %s", s.endpoint, ctx.Err(), s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Endpoint is the server's URL, for the provider's Options.Endpoint.
func (s *Server) Endpoint() string { return s.endpoint }

// Reset drops every resource moto holds (POST /moto-api/reset), so tests sharing one server
// start from the same state: default VPC and subnets, and the fixture images.
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: %s", resp.Status)
	}
	return nil
}

// Close stops the server and removes its files.
func (s *Server) Close() error {
	s.stop()
	return os.RemoveAll(s.dir)
}

// stop sends SIGTERM to moto's process group, then SIGKILL if it lingers.
func (s *Server) stop() {
	s.once.Do(func() {
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.exited
		}
	})
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last max bytes written, for error messages (moto logs every request).
type tail struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// Main is a test binary's TestMain around one shared moto server: it starts the server, hands
// it (or, when moto is missing, nil and the reason) to set, runs the tests, stops the server
// and returns the exit code for os.Exit.
func Main(m *testing.M, set func(s *Server, skipReason string)) int {
	s, err := StartServer(context.Background())
	switch {
	case errors.Is(err, ErrUnavailable):
		set(nil, err.Error())
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	default:
		set(s, "")
	}
	code := m.Run()
	if s != nil {
		_ = s.Close()
	}
	return code
}
