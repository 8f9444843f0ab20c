// Package lockfile is a cluster lock on this machine: an exclusive flock on a file, with its
// holder written beside it so a command that finds the lock taken can say who holds it and
// since when. The kernel releases a flock when its holder dies (even by kill -9), so a crashed
// command never leaves a cluster locked. The local provider keeps its clusters' locks so, and
// the engine uses it for providers that keep none of their own.
package lockfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TryLock takes the lock at path for h, without waiting. When another holds it, the error is a
// *cloud.LockedError with the holder as recorded (the caller fills in the tag and lock name);
// release gives the lock back.
func TryLock(path string, h cloud.Holder) (release func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		f.Close()
		return nil, &cloud.LockedError{Holder: awaitHolder(holderPath(path))}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := writeHolder(holderPath(path), h); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		// The holder file goes first: once the lock is free, the file is the next holder's.
		_ = os.Remove(holderPath(path))
		_ = f.Close()
	}, nil
}

func holderPath(path string) string { return path + ".holder" }

// writeHolder records h atomically, so a reader never sees half of it.
func writeHolder(path string, h cloud.Holder) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("record the lock's holder: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("record the lock's holder: %w", err)
	}
	return nil
}

// holderGrace is how long a command that finds the lock taken waits for its holder's record:
// the holder writes it right after it takes the lock, and a command arriving in between
// should still name it.
const holderGrace = 500 * time.Millisecond

// awaitHolder reads the recorded holder, waiting up to holderGrace for a record not written
// yet.
func awaitHolder(path string) cloud.Holder {
	deadline := time.Now().Add(holderGrace)
	for {
		h := readHolder(path)
		if h.Command != "" || time.Now().After(deadline) {
			return h
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readHolder reads the recorded holder; a missing or unreadable record (the holder took the
// lock a moment ago) is an unknown holder.
func readHolder(path string) cloud.Holder {
	var h cloud.Holder
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &h) != nil {
		return cloud.Holder{}
	}
	return h
}
