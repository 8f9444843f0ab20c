package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// CreateCluster creates the cluster's boundary: a record in the state directory, a free /24 of
// 10.213.0.0/16, and a bridge carrying its first address, isolated from other clusters. spec.Mounts
// are what every node will share (/home is always among them); spec.Rules are accepted and
// ignored, since nothing outside this host can reach the bridge anyway.
func (p *Provider) CreateCluster(ctx context.Context, spec cloud.GroupSpec) (cloud.Cluster, error) {
	if err := checkTag(spec.Tag); err != nil {
		return cloud.Cluster{}, fmt.Errorf("create cluster: %w", err)
	}
	mounts, err := clusterMounts(spec.Mounts)
	if err != nil {
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
	}
	lock, err := p.stateLock(ctx)
	if err != nil {
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
	}
	defer lock.Unlock()
	if _, err := p.readCluster(spec.Tag); err == nil {
		return cloud.Cluster{}, fmt.Errorf("cluster %s (%s): %w", spec.Tag, p.clusterDir(spec.Tag), cloud.ErrExists)
	} else if !errors.Is(err, cloud.ErrNotFound) {
		return cloud.Cluster{}, err
	}
	clusters, err := p.readClusters()
	if err != nil {
		return cloud.Cluster{}, err
	}
	if err := p.checkMountVolumes(spec.Tag, mounts, clusters); err != nil {
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
	}
	release, err := networkLock(ctx)
	if err != nil {
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
	}
	defer release()
	rec := clusterRecord{Version: stateVersion, Tag: spec.Tag, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Mounts: mounts, Recorded: slices.Clone(spec.Recorded)}
	if rec.Subnet, err = p.freeSubnet(clusters); err != nil {
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
	}
	rec.Bridge = freeBridgeName(spec.Tag, clusters)
	dir := p.clusterDir(spec.Tag)
	for _, d := range []string{p.instancesDir(spec.Tag), p.sharedHome(spec.Tag)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
		}
	}
	for _, m := range mounts {
		if m.VolumeID == "" {
			if err := os.MkdirAll(p.mountSource(spec.Tag, m), 0o755); err != nil {
				return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
			}
		}
	}
	err = writeJSON(filepath.Join(dir, clusterFile), rec)
	if err == nil {
		err = p.ensureBridge(ctx, rec)
	}
	if err != nil {
		cleanup := context.WithoutCancel(ctx)
		_ = p.deleteBridge(cleanup, rec.Bridge)
		_ = os.RemoveAll(dir)
		return cloud.Cluster{}, fmt.Errorf("create cluster %s: %w", spec.Tag, err)
	}
	p.log.Info("created cluster", "tag", spec.Tag, "subnet", rec.Subnet, "bridge", rec.Bridge)
	return toCluster(rec), nil
}

// freeSubnet picks a /24 no other cluster and no host interface uses.
func (p *Provider) freeSubnet(clusters []clusterRecord) (netip.Prefix, error) {
	used, err := hostPrefixes()
	if err != nil {
		return netip.Prefix{}, err
	}
	for _, c := range clusters {
		used = append(used, c.Subnet)
	}
	return allocateSubnet(used)
}

// freeBridgeName is the tag's bridge name, rehashed while another cluster records it or an
// interface of that name exists that is not ours to reuse.
func freeBridgeName(tag string, clusters []clusterRecord) string {
	taken := map[string]bool{}
	for _, c := range clusters {
		taken[c.Bridge] = true
	}
	for attempt := 0; ; attempt++ {
		name := bridgeName(tag, attempt)
		if _, err := net.InterfaceByName(name); err == nil || taken[name] {
			continue
		}
		return name
	}
}

// GetCluster returns the cluster with this tag or an error wrapping cloud.ErrNotFound.
func (p *Provider) GetCluster(_ context.Context, tag string) (cloud.Cluster, error) {
	rec, err := p.readCluster(tag)
	if err != nil {
		return cloud.Cluster{}, err
	}
	return toCluster(rec), nil
}

// ListClusters returns every cluster in the state directory, sorted by tag.
func (p *Provider) ListClusters(_ context.Context) ([]cloud.Cluster, error) {
	recs, err := p.readClusters()
	if err != nil {
		return nil, err
	}
	out := make([]cloud.Cluster, len(recs))
	for i, r := range recs {
		out[i] = toCluster(r)
	}
	return out, nil
}

// toCluster is the engine's view of a cluster record: the bridge plays the security group.
func toCluster(r clusterRecord) cloud.Cluster {
	return cloud.Cluster{Tag: r.Tag, GroupID: r.Bridge, GroupName: cloud.GroupPrefix + r.Tag,
		CreatedAt: r.CreatedAt, Recorded: slices.Clone(r.Recorded), Sealed: true} // root-owned state
}

// DeleteCluster removes the bridge, its isolation rule and the cluster's directory, the shared
// /home included. Like EC2 refusing to delete a security group in use, it fails while the
// cluster still has instances. A cluster that is already gone is not an error.
func (p *Provider) DeleteCluster(ctx context.Context, tag string) error {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return fmt.Errorf("delete cluster %s: %w", tag, err)
	}
	defer lock.Unlock()
	rec, err := p.readCluster(tag)
	if errors.Is(err, cloud.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	insts, err := p.readInstances(tag)
	if err != nil {
		return err
	}
	if len(insts) > 0 {
		ids := make([]string, len(insts))
		for i, in := range insts {
			ids[i] = in.ID + " (" + in.Alias + ")"
		}
		slices.Sort(ids)
		return fmt.Errorf("delete cluster %s: it still has %d instances (%s); terminate them first",
			tag, len(insts), strings.Join(ids, ", "))
	}
	dir := p.clusterDir(tag)
	// Leftovers of a launch interrupted before its record was written, and the nosuid binds
	// of the shared directories: unmount, then remove.
	if err := unmountUnder(dir); err != nil {
		return fmt.Errorf("delete cluster %s: %w", tag, err)
	}
	for _, m := range rec.Mounts {
		if m.VolumeID != "" {
			if err := unbindNosuid(p.mountSource(tag, m)); err != nil {
				return fmt.Errorf("delete cluster %s: %w", tag, err)
			}
		}
	}
	if err := p.deleteBridge(ctx, rec.Bridge); err != nil {
		return fmt.Errorf("delete cluster %s: %w", tag, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete cluster %s: %w", tag, err)
	}
	p.log.Info("deleted cluster", "tag", tag, "bridge", rec.Bridge)
	return nil
}
