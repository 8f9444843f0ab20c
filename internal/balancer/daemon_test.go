//go:build unix

package balancer

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets this test binary play a running balancer: with BALANCER_TEST_PIDFILE set it
// takes the pid file, says so on stdout and waits for SIGTERM, its command line ending in
// "loadbalance" as a real balancer's does.
func TestMain(m *testing.M) {
	if path := os.Getenv("BALANCER_TEST_PIDFILE"); path != "" {
		pf, err := WritePidFile(path, os.Getpid())
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("ready\n")
		time.Sleep(30 * time.Second)
		_ = pf.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startBalancer runs this binary as a balancer holding path, and returns its pid and a
// channel that delivers its exit status.
func startBalancer(t *testing.T, path string) (int, <-chan *os.ProcessState) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "loadbalance")
	cmd.Env = append(os.Environ(), "BALANCER_TEST_PIDFILE="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan *os.ProcessState, 1)
	line, _ := bufio.NewReader(out).ReadString('\n')
	go func() { _ = cmd.Wait(); exited <- cmd.ProcessState }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if line != "ready\n" {
		t.Fatalf("helper balancer: %q", line)
	}
	return cmd.Process.Pid, exited
}

// startSleep starts an unrelated process (the victim of a forged pid file).
func startSleep(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	return cmd.Process.Pid
}

func TestWritePidFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run", "balancer.pid")
	pid, _ := startBalancer(t, path)
	if _, err := WritePidFile(path, os.Getpid()); err == nil || !strings.Contains(err.Error(), "already running as pid "+strconv.Itoa(pid)) {
		t.Fatalf("a second balancer: %v", err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("pid file mode %v %v", st.Mode().Perm(), err)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("pid file directory mode %v %v", st.Mode().Perm(), err)
	}

	// A stale file (its writer gone, nothing locks it) is taken over, whatever it says.
	stale := filepath.Join(dir, "stale.pid")
	if err := os.WriteFile(stale, []byte("not a pid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pf, err := WritePidFile(stale, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadPidFile(stale); err != nil || got != os.Getpid() {
		t.Errorf("ReadPidFile = %d, %v", got, err)
	}
	if err := pf.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("Release left the pid file")
	}

	// A link planted where the pid file goes is refused, its target untouched.
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pid")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if _, err := WritePidFile(link, os.Getpid()); err == nil {
		t.Error("a pid file through a link was accepted")
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep\n" {
		t.Errorf("the link's target changed: %q", data)
	}
}

func TestKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	path := filepath.Join(dir, "balancer.pid")
	pid, exited := startBalancer(t, path)
	if err := Kill(ctx, path); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Error("Kill returned before the process exited")
	}
	select {
	case st := <-exited:
		if ws, ok := st.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGTERM {
			t.Errorf("balancer ended with %v, want SIGTERM", st)
		}
	case <-ctx.Done():
		t.Fatal("balancer never reaped")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("pid file left behind")
	}
	if err := Kill(ctx, path); err == nil {
		t.Error("Kill without a pid file succeeded")
	}
}

// TestKillSignalsOnlyTheBalancer: pid files that name some other process (a stale file whose
// pid was reused, a file rewritten to name a victim while a balancer holds it) make Kill
// signal nothing.
func TestKillSignalsOnlyTheBalancer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	victim := startSleep(t)

	stale := filepath.Join(dir, "stale.pid")
	if err := os.WriteFile(stale, []byte(strconv.Itoa(victim)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Kill(ctx, stale); !errors.Is(err, ErrNotRunning) {
		t.Errorf("stale file naming a live process: %v", err)
	}
	if !alive(victim) {
		t.Fatal("Kill signalled the process a stale pid file named")
	}

	held := filepath.Join(dir, "held.pid")
	balancer, _ := startBalancer(t, held)
	if err := os.WriteFile(held, []byte(strconv.Itoa(victim)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Kill(ctx, held)
	if err == nil || !strings.Contains(err.Error(), "held by ["+strconv.Itoa(balancer)+"]") {
		t.Errorf("forged pid under a balancer's lock: %v", err)
	}
	if !alive(victim) || !alive(balancer) {
		t.Error("Kill signalled a process it should not have")
	}
}

func TestLockHolders(t *testing.T) {
	locks := `1: FLOCK  ADVISORY  WRITE 4321 08:01:123456 0 EOF
1: -> FLOCK  ADVISORY  WRITE 999 08:01:123456 0 EOF
2: POSIX  ADVISORY  WRITE 55 08:01:123456 0 EOF
3: FLOCK  ADVISORY  READ 77 00:2b:123456 0 EOF
`
	if got := lockHolders(locks, 0x0801, 123456); len(got) != 1 || got[0] != 4321 {
		t.Errorf("holders %v", got)
	}
}
