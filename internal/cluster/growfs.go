package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// ErrNotMounted is returned by GrowFilesystem when no running cluster has the volume mounted:
// its filesystem grows the next time a cluster mounts it.
var ErrNotMounted = errors.New("no running cluster has the volume mounted")

// GrowFilesystem grows the filesystem of a volume that a running cluster's master mounts, after
// the volume grew (resizevolume). It returns the cluster and the mount path. A provider that
// shares directories instead of block devices (local) has no filesystem to grow.
func (e *Engine) GrowFilesystem(ctx context.Context, volumeID string, keyFile func(string) string) (tag, mountPath string, err error) {
	if e.Provider.Capabilities().SharedFilesystem {
		return "", "", ErrNotMounted
	}
	clusters, err := e.Provider.ListClusters(ctx)
	if err != nil {
		return "", "", err
	}
	for _, c := range clusters {
		rec, err := DecodeRecord(c.Recorded)
		if err != nil {
			continue
		}
		for _, v := range rec.Volumes {
			if v.ID != volumeID {
				continue
			}
			err := e.growOn(ctx, c.Tag, volumeID, v.MountPath, keyFile)
			if errors.Is(err, ErrNotMounted) {
				continue // a stopped or other cluster naming the same volume
			}
			return c.Tag, v.MountPath, err
		}
	}
	return "", "", ErrNotMounted
}

// growOn runs the grow script on a cluster's master when the volume is attached to it.
func (e *Engine) growOn(ctx context.Context, tag, volumeID, mountPath string, keyFile func(string) string) error {
	acc, err := e.Access(ctx, tag, keyFile)
	if err != nil {
		return err
	}
	m, err := acc.Master()
	if err != nil || m.State != cloud.StateRunning {
		return ErrNotMounted
	}
	vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{IDs: []string{volumeID}})
	if err != nil {
		return err
	}
	if len(vols) == 0 || vols[0].AttachedTo != m.ID {
		return ErrNotMounted
	}
	script, err := setup.GrowFSScript(mountPath, true)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", tag, err)
	}
	_, err = acc.RunAsRoot(ctx, m, script)
	return err
}
