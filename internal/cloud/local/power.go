package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// forEach runs fn for every id in parallel and joins the errors: stopping ten containers takes
// as long as stopping one.
func forEach(ids []string, fn func(id string) error) error {
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = fn(id) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stop shuts the instances down cleanly (SIGTERM, up to 40 s, then SIGKILL) and unmounts their
// roots. Their upper layers are kept, like an EBS-backed stop, so Start boots them with
// everything they wrote. Stopping a dead instance cleans it up the same way.
func (p *Provider) Stop(ctx context.Context, ids []string) error {
	return forEach(ids, func(id string) error {
		rec, err := p.findInstance(id)
		if err != nil {
			return fmt.Errorf("stop: %w", err)
		}
		return p.stopInstance(ctx, &rec, stopGrace)
	})
}

// stopInstance stops one container and records it stopped.
func (p *Provider) stopInstance(ctx context.Context, rec *instanceRecord, grace time.Duration) error {
	if rec.State == cloud.StateStopped && !nspawnAlive(rec.PID, machineName(rec.ID)) {
		if err := unmount(p.mergedDir(*rec)); err != nil {
			return fmt.Errorf("stop %s (%s): %w", rec.Alias, rec.ID, err)
		}
		return nil
	}
	rec.State = cloud.StateStopping
	if err := p.saveInstance(*rec); err != nil {
		return err
	}
	if err := stopProcess(ctx, rec.PID, machineName(rec.ID), grace); err != nil {
		return fmt.Errorf("stop %s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := p.removeVeth(ctx, machineName(rec.ID)); err != nil {
		return fmt.Errorf("stop %s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := unmount(p.mergedDir(*rec)); err != nil {
		return fmt.Errorf("stop %s (%s): %w", rec.Alias, rec.ID, err)
	}
	rec.State, rec.PID = cloud.StateStopped, 0
	return p.saveInstance(*rec)
}

// Start boots stopped (or dead) instances again on their kept upper layers; running ones are
// left alone. The bridge is re-created first if a host reboot removed it.
func (p *Provider) Start(ctx context.Context, ids []string) error {
	if _, err := p.raiseHostLimits(len(ids)); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return forEach(ids, func(id string) error {
		rec, err := p.findInstance(id)
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		return p.startInstance(ctx, &rec)
	})
}

// startInstance boots one instance unless it already runs. A dead one is cleaned up first: the
// remains of its container (which outlives a killed nspawn) must not share the root with the
// new one.
func (p *Provider) startInstance(ctx context.Context, rec *instanceRecord) error {
	if nspawnAlive(rec.PID, machineName(rec.ID)) {
		return nil
	}
	if err := stopProcess(ctx, rec.PID, machineName(rec.ID), 0); err != nil {
		return fmt.Errorf("start %s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := p.removeVeth(ctx, machineName(rec.ID)); err != nil {
		return fmt.Errorf("start %s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := unmount(p.mergedDir(*rec)); err != nil {
		return fmt.Errorf("start %s (%s): %w", rec.Alias, rec.ID, err)
	}
	c, err := p.readCluster(rec.Cluster)
	if err != nil {
		return fmt.Errorf("start %s: %w", rec.ID, err)
	}
	if err := p.ensureBridge(ctx, c); err != nil {
		return fmt.Errorf("start %s (%s): %w", rec.Alias, rec.ID, err)
	}
	binds, err := p.bindArgs(c)
	if err != nil {
		return fmt.Errorf("start %s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := p.boot(rec, c, binds); err != nil {
		return fmt.Errorf("start %s (%s): %w", rec.Alias, rec.ID, err)
	}
	return nil
}

// Reboot stops and starts each instance (a clean shutdown, then a boot on the same root).
func (p *Provider) Reboot(ctx context.Context, ids []string) error {
	return forEach(ids, func(id string) error {
		rec, err := p.findInstance(id)
		if err != nil {
			return fmt.Errorf("reboot: %w", err)
		}
		if err := p.stopInstance(ctx, &rec, stopGrace); err != nil {
			return err
		}
		return p.startInstance(ctx, &rec)
	})
}

// Terminate stops the instances (with a shorter grace: their disks are discarded), unmounts
// and deletes them. Ids that no longer exist are already terminated and not an error.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	return forEach(ids, func(id string) error {
		rec, err := p.findInstance(id)
		if errors.Is(err, cloud.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("terminate: %w", err)
		}
		return p.destroy(ctx, rec, terminateGrace)
	})
}

// destroy removes an instance completely: its process (after grace, killed), its mounts and its
// directory. It is also the cleanup of a failed launch (grace 0).
func (p *Provider) destroy(ctx context.Context, rec instanceRecord, grace time.Duration) error {
	if err := stopProcess(ctx, rec.PID, machineName(rec.ID), grace); err != nil {
		return fmt.Errorf("terminate %s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := p.removeVeth(ctx, machineName(rec.ID)); err != nil {
		return fmt.Errorf("terminate %s (%s): %w", rec.Alias, rec.ID, err)
	}
	dir := p.instanceDir(rec.Cluster, rec.ID)
	if err := unmountUnder(dir); err != nil {
		return fmt.Errorf("terminate %s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := p.releaseVolumes(ctx, rec); err != nil {
		return fmt.Errorf("terminate %s (%s): %w", rec.Alias, rec.ID, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("terminate %s (%s): %w", rec.Alias, rec.ID, err)
	}
	p.log.Info("terminated instance", "instance", rec.ID, "alias", rec.Alias, "cluster", rec.Cluster)
	return nil
}
