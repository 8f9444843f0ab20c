//go:build unix

package balancer

import (
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

// startSleep starts a real child process and reaps it in the background, returning its pid
// and a channel that delivers its exit status.
func startSleep(t *testing.T) (int, <-chan *os.ProcessState) {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan *os.ProcessState, 1)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); exited <- cmd.ProcessState; close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	return cmd.Process.Pid, exited
}

// deadPid returns the pid of a process that has exited and been reaped.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestWritePidFile(t *testing.T) {
	live, _ := startSleep(t)
	tests := []struct {
		name     string
		existing string // file content before; "" means no file
		err      string
	}{
		{name: "fresh", existing: ""},
		{name: "live process refuses", existing: strconv.Itoa(live), err: "already running as pid " + strconv.Itoa(live)},
		{name: "stale pid is replaced", existing: strconv.Itoa(deadPid(t))},
		{name: "garbage is replaced", existing: "not a pid"},
		{name: "our own pid is rewritten", existing: strconv.Itoa(os.Getpid())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run", "balancer.pid")
			if tc.existing != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tc.existing+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := WritePidFile(path, os.Getpid())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if got, _ := ReadPidFile(path); got != live {
					t.Errorf("a refused start changed the pid file to %d", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, err := ReadPidFile(path); err != nil || got != os.Getpid() {
				t.Errorf("ReadPidFile = %d, %v", got, err)
			}
		})
	}
}

func TestRemovePidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "balancer.pid")
	if err := WritePidFile(path, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if err := RemovePidFile(path, os.Getpid()+1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error("removed a pid file naming another process")
	}
	if err := RemovePidFile(path, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("pid file left behind")
	}
	if err := RemovePidFile(path, os.Getpid()); err != nil {
		t.Errorf("removing a missing pid file: %v", err)
	}
}

func TestKill(t *testing.T) {
	pid, exited := startSleep(t)
	path := filepath.Join(t.TempDir(), "balancer.pid")
	if err := WritePidFile(path, pid); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Kill(ctx, path); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Error("Kill returned before the process exited")
	}
	select {
	case st := <-exited:
		if ws, ok := st.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGTERM {
			t.Errorf("child ended with %v, want SIGTERM", st)
		}
	case <-ctx.Done():
		t.Fatal("child never reaped")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("pid file left behind")
	}

	if err := os.WriteFile(path, []byte(strconv.Itoa(deadPid(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Kill(ctx, path); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Kill of a stale pid file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale pid file left behind")
	}
	if err := Kill(ctx, path); err == nil {
		t.Error("Kill without a pid file succeeded")
	}
}
