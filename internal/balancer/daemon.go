//go:build unix

package balancer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotRunning is returned by Kill when no balancer holds the pid file (it is removed).
var ErrNotRunning = errors.New("balancer not running")

// killPoll is how often Kill looks whether the process has exited.
const killPoll = 20 * time.Millisecond

// A pid file names a process, and `loadbalance --kill` signals it. A file alone proves
// nothing: it may be stale (the pid reused by another program), or written by someone else.
// So a balancer holds an exclusive flock on its pid file for as long as it runs, and Kill
// signals a process only when the kernel says that very process holds the lock on that very
// file (/proc/locks) and its command line is a balancer's. Pid files are created 0600, owned by
// the caller, never through a link.

// PidFile is a running balancer's pid file, locked until Release.
type PidFile struct {
	f    *os.File
	path string
}

// WritePidFile records pid in path and keeps it locked, refusing when a live balancer holds
// it (two balancers on one cluster would fight over its size). A file nobody holds is stale
// and is taken over.
func WritePidFile(path string, pid int) (*PidFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("pid file: %w", err)
	}
	f, err := openOwned(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			old, _ := ReadPidFile(path)
			return nil, fmt.Errorf("pid file %s: a balancer is already running as pid %d", path, old)
		}
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	return &PidFile{f: f, path: path}, nil
}

// Release removes the pid file (while still holding its lock, so no one else's file is
// removed) and unlocks it.
func (p *PidFile) Release() error {
	if p == nil || p.f == nil {
		return nil
	}
	var err error
	if st, serr := os.Lstat(p.path); serr == nil {
		if mine, _ := p.f.Stat(); mine != nil && os.SameFile(st, mine) {
			err = os.Remove(p.path)
		}
	}
	return errors.Join(err, p.f.Close())
}

// openOwned opens a pid file without following a link, and only when it is a regular file of
// this user's: a file another user planted (in /tmp, say) is neither written nor trusted.
func openOwned(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("pid file %s is a link; refusing it", path)
		}
		return nil, fmt.Errorf("pid file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.Mode().IsRegular() || (ok && int(sys.Uid) != os.Geteuid()) {
		f.Close()
		return nil, fmt.Errorf("pid file %s is not a regular file of this user's; refusing it", path)
	}
	return f, nil
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

// Kill stops the balancer holding pidfile (`loadbalance --kill --pidfile F`): SIGTERM, which
// the loop takes as a clean stop, then it waits for the process to exit until ctx ends. A
// file no balancer holds is stale: it is removed and nothing is signalled (ErrNotRunning).
func Kill(ctx context.Context, pidfile string) error {
	f, err := openOwned(pidfile, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	pid, perr := ReadPidFile(pidfile)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		_ = os.Remove(pidfile)
		return fmt.Errorf("%s (pid %d) is held by no balancer: %w", pidfile, pid, ErrNotRunning)
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("pid file %s: %w", pidfile, err)
	}
	if perr != nil {
		return perr
	}
	if err := checkBalancer(f, pid); err != nil {
		return fmt.Errorf("pid file %s: %w; nothing was signalled", pidfile, err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
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
	if st, err := os.Lstat(pidfile); err == nil {
		if mine, _ := f.Stat(); mine != nil && os.SameFile(st, mine) {
			_ = os.Remove(pidfile) // it died without releasing
		}
	}
	return nil
}

// checkBalancer verifies that pid holds the lock on f (the kernel's /proc/locks says so) and
// runs a balancer (its command line has "loadbalance").
func checkBalancer(f *os.File, pid int) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("cannot tell which process holds it")
	}
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return fmt.Errorf("cannot tell which process holds it: %w", err)
	}
	holders := lockHolders(string(locks), uint64(sys.Dev), sys.Ino)
	if !slices.Contains(holders, pid) {
		return fmt.Errorf("it names pid %d, but the lock on it is held by %v", pid, holders)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return fmt.Errorf("pid %d: %w", pid, err)
	}
	if !slices.Contains(strings.Split(string(cmdline), "\x00"), "loadbalance") {
		return fmt.Errorf("pid %d is not a balancer (%q)", pid, strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " "))
	}
	return nil
}

// lockHolders returns the pids holding FLOCK locks on the file dev:ino, from the text of
// /proc/locks ("1: FLOCK ADVISORY WRITE 1234 08:01:56789 0 EOF"; waiting locks, marked "->",
// hold nothing).
func lockHolders(locks string, dev, ino uint64) []int {
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), ino)
	var out []int
	for _, line := range strings.Split(locks, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] == "->" || f[1] != "FLOCK" || f[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil {
			out = append(out, pid)
		}
	}
	return out
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
