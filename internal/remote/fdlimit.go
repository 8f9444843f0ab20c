package remote

import (
	"os"
	"syscall"
)

// Bounds of a fan-out that sets no concurrency of its own.
const (
	// MaxConcurrency is the most items a fan-out works on at once by default: every node of a
	// thousand-node cluster at once, with room to spare.
	MaxConcurrency = 4096
	// reservedFiles are the open files kept free for everything but new connections (logs,
	// the known_hosts file, the SDK's connections to the cloud).
	reservedFiles = 128
)

// FanOutLimit is how many items a fan-out works on at once when the caller sets no bound: all of
// them, as far as the open files this process may still have allow (each new connection holds
// one; Go raises the soft limit to the hard one at start), at most MaxConcurrency. Work on
// nodes connected already needs no new file, so the bound only ever slows down the first
// connections of a cluster larger than the limit, never fails them.
func FanOutLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return DefaultConcurrency
	}
	free := int64(min(lim.Cur, 1<<31)) - int64(openFiles()) - reservedFiles
	return int(max(min(free, MaxConcurrency), DefaultConcurrency))
}

// openFiles counts this process's open files where the system tells (Linux), else 0.
func openFiles() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(entries)
}
