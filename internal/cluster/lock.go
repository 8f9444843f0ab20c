package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/lockfile"
)

// Two commands that change one cluster at once can corrupt it (two addnodes take the same
// alias, terminate pulls the nodes from under an addnode, two balancers fight), so every
// operation that changes a cluster holds its lock: the provider's (a lease EC2 keeps for every
// machine, the local provider's state directory) or, for a provider without one, a lock file
// under StateDir. A command finding the lock taken waits up to LockWait, saying who holds it,
// then gives up with a *cloud.LockedError naming the holder and since when. Commands that only
// read (listclusters, sshmaster, get) take no lock and never wait.

// DefaultLockWait is how long a command waits for another one to finish with a cluster.
const DefaultLockWait = 10 * time.Minute

// lockPoll paces the retries while waiting for a lock.
const lockPoll = time.Second

// heldLocks counts the locks an engine (one command) holds, so operations that call each other
// (start -x runs setup, repair adds nodes) take each lock once.
type heldLocks struct {
	mu   sync.Mutex
	held map[string]*heldLock
}

type heldLock struct {
	n       int
	release func()
}

// lock takes lock name (cloud.LockCluster, cloud.LockBalancer) of cluster tag for this command
// and returns its release. A balancer lock is never waited for: a second balancer is refused.
func (e *Engine) lock(ctx context.Context, tag, name string) (func(), error) {
	key := tag + "\x00" + name
	e.locks.mu.Lock()
	if h, ok := e.locks.held[key]; ok {
		h.n++
		e.locks.mu.Unlock()
		return e.unlocker(key), nil
	}
	e.locks.mu.Unlock()
	release, err := e.waitLock(ctx, tag, name)
	if err != nil {
		return nil, err
	}
	e.locks.mu.Lock()
	defer e.locks.mu.Unlock()
	if e.locks.held == nil {
		e.locks.held = map[string]*heldLock{}
	}
	e.locks.held[key] = &heldLock{n: 1, release: release}
	return e.unlocker(key), nil
}

// unlocker releases one hold of key; the last one gives the lock back.
func (e *Engine) unlocker(key string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			e.locks.mu.Lock()
			defer e.locks.mu.Unlock()
			h := e.locks.held[key]
			if h == nil {
				return
			}
			if h.n--; h.n == 0 {
				delete(e.locks.held, key)
				h.release()
			}
		})
	}
}

// waitLock tries the lock until it is free, LockWait has passed, or ctx ends.
func (e *Engine) waitLock(ctx context.Context, tag, name string) (func(), error) {
	start := time.Now()
	said := false
	for {
		release, err := e.tryLock(ctx, tag, name)
		var le *cloud.LockedError
		if !errors.As(err, &le) {
			if err == nil && said && e.Status != nil {
				e.Status.Infof("Cluster %s is free: going on.", tag)
			}
			return release, err
		}
		waited := time.Since(start)
		if name == cloud.LockBalancer || waited >= e.LockWait {
			le.Tag, le.Name, le.Waited = tag, name, waited
			return nil, le
		}
		if !said && e.Status != nil {
			said = true
			e.Status.Infof("Waiting for cluster %s: %s holds it (up to %s; --lock-wait changes it).", tag, le.Holder, e.LockWait)
		}
		e.log().Info("cluster locked, waiting", "cluster", tag, "holder", le.Holder.String())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(lockPoll, e.LockWait-waited)):
		}
	}
}

// tryLock takes the lock without waiting, from the provider when it keeps locks, else from a
// lock file under StateDir.
func (e *Engine) tryLock(ctx context.Context, tag, name string) (func(), error) {
	h := e.holder()
	if l, ok := e.Provider.(cloud.Locker); ok {
		return l.LockCluster(ctx, tag, name, h)
	}
	if e.StateDir == "" {
		return func() {}, nil
	}
	release, err := lockfile.TryLock(filepath.Join(e.StateDir, "locks", e.Provider.Name()+"-"+tag+"."+name), h)
	var le *cloud.LockedError
	if errors.As(err, &le) {
		le.Tag, le.Name = tag, name
	}
	return release, err
}

// holder is this command, as the lock records it.
func (e *Engine) holder() cloud.Holder {
	host, _ := os.Hostname()
	cmd := e.Command
	if cmd == "" {
		cmd = "clusterctl"
	}
	return cloud.Holder{Command: cmd, PID: os.Getpid(), Host: host, Since: e.now()}
}

// LockBalancer takes the cluster's balancer lock for a balancer's whole run: a second
// balancer on the cluster is refused at once with the first one's pid and host.
func (e *Engine) LockBalancer(ctx context.Context, tag string) (func(), error) {
	return e.lockNamed(ctx, tag, cloud.LockBalancer)
}

// lockExisting takes the cluster lock of a cluster that exists (else the not-found error that
// names the clusters that do); a cluster whose record is damaged can still be locked, so it
// can still be stopped or terminated.
func (e *Engine) lockExisting(ctx context.Context, tag string) (func(), error) {
	return e.lockNamed(ctx, tag, cloud.LockCluster)
}

// lockNamed takes lock name of a cluster that exists.
func (e *Engine) lockNamed(ctx context.Context, tag, name string) (func(), error) {
	if err := CheckTagName(tag); err != nil {
		return nil, err
	}
	cl, err := e.Provider.GetCluster(ctx, tag)
	switch {
	case errors.Is(err, cloud.ErrNotFound) && cl.GroupID == "":
		return nil, e.NotFound(ctx, tag)
	case err != nil && cl.GroupID == "":
		return nil, err
	}
	return e.lock(ctx, tag, name)
}
