package local

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Launch creates len(req.Aliases) containers of one image in the cluster and boots them in
// parallel. Like EC2's RunInstances with MinCount = MaxCount it is all or none: when any
// instance fails, the ones already made are removed again and the error names each failure.
// The image is built first when missing (with progress lines), so a start needs no separate
// build step. Instances come back running in the nspawn sense; Wait tells when sshd answers.
func (p *Provider) Launch(ctx context.Context, req cloud.LaunchRequest) ([]cloud.Instance, error) {
	if len(req.Aliases) == 0 {
		return nil, nil
	}
	if req.Tag == "" || req.ImageID == "" {
		return nil, fmt.Errorf("launch: tag and image are required")
	}
	c, err := p.readCluster(req.Tag)
	if err != nil {
		return nil, fmt.Errorf("launch %d instances: %w", len(req.Aliases), err)
	}
	def, err := lookupImage(req.ImageID)
	if err != nil {
		return nil, fmt.Errorf("launch into cluster %s: %w", req.Tag, err)
	}
	if err := checkType(req.InstanceType); err != nil {
		return nil, fmt.Errorf("launch into cluster %s: %w", req.Tag, err)
	}
	if err := p.EnsureImage(ctx, def.Name); err != nil {
		return nil, fmt.Errorf("launch into cluster %s: %w", req.Tag, err)
	}
	lower := p.imageRoot(def.Name)
	login, err := resolveLoginUser(lower, req.Boot.LoginUser, def.LoginUser)
	if err != nil {
		return nil, fmt.Errorf("launch into cluster %s: image %s: %w", req.Tag, def.Name, err)
	}
	keys := make([]hostKey, len(req.Aliases))
	for i, a := range req.Aliases {
		if keys[i], err = parseHostKey(a, req.Boot.HostKeys[a]); err != nil {
			return nil, fmt.Errorf("launch into cluster %s: %w", req.Tag, err)
		}
	}
	if err := p.ensureBridge(ctx, c); err != nil {
		return nil, fmt.Errorf("launch into cluster %s: %w", req.Tag, err)
	}
	binds, err := p.bindArgs(c)
	if err != nil {
		return nil, fmt.Errorf("launch into cluster %s: %w", req.Tag, err)
	}
	if _, err := p.raiseHostLimits(len(req.Aliases)); err != nil {
		return nil, fmt.Errorf("launch into cluster %s: %w", req.Tag, err)
	}
	recs, err := p.allocate(ctx, req, c, keys)
	if err != nil {
		return nil, fmt.Errorf("launch into cluster %s: %w", req.Tag, err)
	}
	homeRoot, homeRel, shared := p.hostRoot(c, login.home)
	err = p.createCopies(ctx, recs, req.Volumes)
	if shared && err == nil {
		err = authorizeKeys(homeRoot, homeRel, filepath.Join(lower, login.home), login, req.Boot.AuthorizedKeys)
	}
	errs := make([]error, len(recs))
	if err == nil {
		var wg sync.WaitGroup
		for i := range recs {
			wg.Go(func() {
				errs[i] = p.bootNew(&recs[i], c, keys[i], req.Boot, login, shared, binds)
			})
		}
		wg.Wait()
	}
	if err = errors.Join(append(errs, err)...); err != nil {
		cleanup := context.WithoutCancel(ctx)
		for _, r := range recs {
			if derr := p.destroy(cleanup, r, 0); derr != nil {
				p.log.Warn("cleanup after failed launch", "instance", r.ID, "error", derr)
			}
		}
		return nil, fmt.Errorf("launch %d instances into cluster %s (removed again): %w", len(recs), req.Tag, err)
	}
	out := make([]cloud.Instance, len(recs))
	for i, r := range recs {
		out[i] = toInstance(r, c, cloud.StateRunning)
	}
	cloud.SortInstances(out)
	p.log.Info("launched instances", "cluster", req.Tag, "count", len(out), "image", def.Name)
	return out, nil
}

// allocate reserves ids and addresses for a launch and writes the instances' records (pending)
// under the state lock, so concurrent launches never share an address and an interrupted
// launch leaves records that Terminate can clean up.
func (p *Provider) allocate(ctx context.Context, req cloud.LaunchRequest, c clusterRecord, keys []hostKey) ([]instanceRecord, error) {
	lock, err := p.stateLock(ctx)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	existing, err := p.readInstances(c.Tag)
	if err != nil {
		return nil, err
	}
	var used []netip.Addr
	aliases := map[string]string{}
	for _, e := range existing {
		used = append(used, e.Address)
		aliases[e.Alias] = e.ID
	}
	for _, a := range req.Aliases {
		if id, ok := aliases[a]; ok {
			return nil, fmt.Errorf("alias %s is taken by instance %s", a, id)
		}
	}
	addrs, err := allocateAddresses(c.Subnet, used, len(req.Aliases))
	if err != nil {
		return nil, err
	}
	lifecycle := cloud.OnDemand
	if req.SpotPrice != "" {
		lifecycle = cloud.Spot
	}
	now := time.Now().UTC().Truncate(time.Second)
	recs := make([]instanceRecord, len(req.Aliases))
	for i, a := range req.Aliases {
		recs[i] = instanceRecord{ID: newID("i-"), Cluster: c.Tag, Alias: a, Role: req.Role, State: cloud.StatePending,
			Address: addrs[i], Lifecycle: lifecycle, SpotPrice: req.SpotPrice, LaunchTime: now,
			InstanceType: req.InstanceType, ImageID: req.ImageID, KeyName: req.KeyName, HostKey: keys[i].public}
		dir := p.instanceDir(c.Tag, recs[i].ID)
		for _, sub := range []string{"upper", "work", "merged"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return recs[:i+1], err
			}
		}
		if err := privateConsole(dir); err != nil {
			return recs[:i+1], err
		}
		if err := p.saveInstance(recs[i]); err != nil {
			return recs[:i+1], err
		}
	}
	return recs, nil
}

// bootNew prepares a new instance's root (overlay mounted, first-boot files written into its
// upper layer) and boots it.
func (p *Provider) bootNew(rec *instanceRecord, c clusterRecord, key hostKey, boot cloud.BootConfig,
	login loginUser, sharedHome bool, binds []string) error {
	dir, merged := p.instanceDir(rec.Cluster, rec.ID), p.mergedDir(*rec)
	lower := p.imageRoot(rec.ImageID)
	if err := mountOverlay(lower, filepath.Join(dir, "upper"), filepath.Join(dir, "work"), merged); err != nil {
		return fmt.Errorf("%s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := writeSeed(merged, seedFiles(rec.Alias, *rec, c.Subnet, key, boot.Scripts)); err != nil {
		return fmt.Errorf("%s (%s): %w", rec.Alias, rec.ID, err)
	}
	if !sharedHome {
		if err := authorizeKeys(merged, strings.TrimPrefix(login.home, "/"), filepath.Join(lower, login.home), login, boot.AuthorizedKeys); err != nil {
			return fmt.Errorf("%s (%s): %w", rec.Alias, rec.ID, err)
		}
	}
	if err := p.boot(rec, c, binds); err != nil {
		return fmt.Errorf("%s (%s): %w", rec.Alias, rec.ID, err)
	}
	return nil
}

// boot mounts the instance's root if needed, starts its container and records it running.
func (p *Provider) boot(rec *instanceRecord, c clusterRecord, binds []string) error {
	dir, merged := p.instanceDir(rec.Cluster, rec.ID), p.mergedDir(*rec)
	mounted, err := isMounted(merged)
	if err != nil {
		return err
	}
	if !mounted {
		lower := p.imageRoot(rec.ImageID)
		if _, err := os.Stat(lower); err != nil {
			return fmt.Errorf("image %s of instance %s: %w", rec.ImageID, rec.ID, err)
		}
		if err := mountOverlay(lower, filepath.Join(dir, "upper"), filepath.Join(dir, "work"), merged); err != nil {
			return err
		}
	}
	if err := privateConsole(dir); err != nil {
		return err
	}
	// Shared, so volumes attached while the instance runs reach it (attachLive).
	if err := shareMount(merged); err != nil {
		return err
	}
	own, err := p.instanceVolumeBinds(*rec, c)
	if err != nil {
		return err
	}
	pid, err := p.spawn(*rec, nspawnArgs(merged, c.Bridge, machineName(rec.ID), rec.Alias, slices.Concat(binds, own)))
	if err != nil {
		if !mounted {
			_ = unmount(merged) // leave a stopped instance as it was: not mounted
		}
		return err
	}
	rec.PID, rec.State = pid, cloud.StateRunning
	return p.saveInstance(*rec)
}
