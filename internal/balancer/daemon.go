//go:build unix

package balancer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNotRunning is returned by Kill when the pid file names no live process (it is removed).
var ErrNotRunning = errors.New("balancer not running")

// killPoll is how often Kill looks whether the process has exited.
const killPoll = 20 * time.Millisecond

// WritePidFile records pid in path for `loadbalance --background`, refusing when the file
// names another live process: two balancers on one cluster would fight over its size. A stale
// file (its process gone) is replaced. The file is created exclusively, so two balancers
// starting at once cannot both win.
func WritePidFile(path string, pid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d\n", pid)
			cerr := f.Close()
			if err := errors.Join(werr, cerr); err != nil {
				return fmt.Errorf("pid file %s: %w", path, err)
			}
			return nil
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("pid file: %w", err)
		}
		old, rerr := ReadPidFile(path)
		if rerr == nil && old != pid && alive(old) {
			return fmt.Errorf("pid file %s: a balancer is already running as pid %d", path, old)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pid file: remove stale: %w", err)
		}
	}
	return fmt.Errorf("pid file %s: another process keeps creating it", path)
}

// ReadPidFile returns the pid recorded in path.
func ReadPidFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: no pid in %q", path, bytes.TrimSpace(data))
	}
	return pid, nil
}

// RemovePidFile removes path only while it still names pid, so a balancer that exits late
// never deletes the file of one started after it.
func RemovePidFile(path string, pid int) error {
	old, err := ReadPidFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil || old != pid {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// Kill stops the balancer named by pidfile (`loadbalance --kill --pidfile F`): SIGTERM, which
// the loop takes as a clean stop, then it waits for the process to exit until ctx ends. The
// pid file is removed once the process is gone, or at once when it was stale (ErrNotRunning).
func Kill(ctx context.Context, pidfile string) error {
	pid, err := ReadPidFile(pidfile)
	if err != nil {
		return err
	}
	if !alive(pid) {
		_ = RemovePidFile(pidfile, pid)
		return fmt.Errorf("pid %d from %s: %w", pid, pidfile, ErrNotRunning)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			_ = RemovePidFile(pidfile, pid)
			return fmt.Errorf("pid %d from %s: %w", pid, pidfile, ErrNotRunning)
		}
		return fmt.Errorf("stop balancer pid %d: %w", pid, err)
	}
	tick := time.NewTicker(killPoll)
	defer tick.Stop()
	for alive(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("balancer pid %d did not exit after SIGTERM: %w", pid, ctx.Err())
		case <-tick.C:
		}
	}
	return RemovePidFile(pidfile, pid)
}

// alive reports whether pid is a running process. Signal 0 probes without touching it (EPERM
// means it exists under another user); a zombie has exited and counts as gone.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no procfs (BSD, macOS): trust the signal probe
	}
	// The state follows the parenthesized command name, which may itself contain ") ".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
