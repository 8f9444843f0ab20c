package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lockPoll paces waiting for a lock another clusterctl process (or goroutine) holds.
const lockPoll = 100 * time.Millisecond

// networkLockName is an abstract unix socket name that serializes subnet allocation across every
// clusterctl process on the host, whatever its state directory: two clusters must never pick
// the same /24. An abstract socket leaves no file behind and is released when its holder dies;
// its scope (the network namespace) is exactly the scope of the bridges it protects.
const networkLockName = "@clusterctl-local-network"

// fileLock holds an exclusive flock on a file. flock conflicts between open file descriptions,
// so it serializes goroutines of one process as well as separate processes.
type fileLock struct{ f *os.File }

// lockFile takes an exclusive lock on path (created if missing), waiting until ctx ends.
// onWait, when set, is called once if the lock is busy, so a long wait can be explained.
func lockFile(ctx context.Context, path string, onWait func()) (*fileLock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for waited := false; ; waited = true {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return &fileLock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !waited && onWait != nil {
			onWait()
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// Unlock releases the lock.
func (l *fileLock) Unlock() { _ = l.f.Close() }

// stateLock serializes changes to the state directory (cluster and instance records, volume
// attachments) between processes.
func (p *Provider) stateLock(ctx context.Context) (*fileLock, error) {
	if err := p.ensurePrivate(); err != nil {
		return nil, err
	}
	return lockFile(ctx, filepath.Join(p.stateDir, "lock"), nil)
}

// networkLock holds the host-wide network allocation lock until its release function is called.
func networkLock(ctx context.Context) (func(), error) {
	addr := &net.UnixAddr{Name: networkLockName, Net: "unix"}
	for {
		l, err := net.ListenUnix("unix", addr)
		if err == nil {
			return func() { _ = l.Close() }, nil
		}
		if !errors.Is(err, unix.EADDRINUSE) {
			return nil, fmt.Errorf("take the network allocation lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the network allocation lock: %w", ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}
