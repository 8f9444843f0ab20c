package local

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/lockfile"
)

var _ cloud.Locker = (*Provider)(nil)

// LockCluster takes a cluster's lock in the state directory (STATE/locks/TAG.NAME), where
// every clusterctl process on this machine that manages the cluster finds it. The lock is a
// flock, so a holder that dies (kill -9 included) releases it; the files stay, a few bytes per
// cluster, because removing a lock file others may be waiting on would let two hold it.
func (p *Provider) LockCluster(_ context.Context, tag, name string, h cloud.Holder) (func(), error) {
	if err := checkTag(tag); err != nil {
		return nil, err
	}
	if err := p.ensurePrivate(); err != nil {
		return nil, err
	}
	release, err := lockfile.TryLock(filepath.Join(p.stateDir, "locks", tag+"."+name), h)
	var le *cloud.LockedError
	if errors.As(err, &le) {
		le.Tag, le.Name = tag, name
	}
	return release, err
}
