package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// Stop stops a cluster's on-demand instances (their disks are kept, like StarCluster's EBS
// stop). Spot instances cannot be stopped: without terminateSpot that is an error naming them;
// with it they are terminated.
func (e *Engine) Stop(ctx context.Context, tag string, terminateSpot bool) error {
	unlock, err := e.lockExisting(ctx, tag)
	if err != nil {
		return err
	}
	defer unlock()
	insts, err := e.clusterInstances(ctx, tag)
	if err != nil {
		return err
	}
	var stop, spot []string
	var spotNames []string
	for _, in := range insts {
		switch {
		case in.State == cloud.StateStopped:
		case in.Lifecycle == cloud.Spot:
			spot = append(spot, in.ID)
			spotNames = append(spotNames, in.Alias)
		default:
			stop = append(stop, in.ID)
		}
	}
	if len(spot) > 0 && !terminateSpot {
		return fmt.Errorf("spot instances cannot be stopped (%s); pass -t to terminate them and stop the rest", strings.Join(spotNames, ", "))
	}
	if len(spot) > 0 {
		if err := e.step(ctx, fmt.Sprintf("terminate %d spot instances", len(spot)), func(ctx context.Context, _ *ui.Step) error {
			return e.Provider.Terminate(ctx, spot)
		}); err != nil {
			return err
		}
	}
	if len(stop) == 0 {
		return nil
	}
	return e.step(ctx, fmt.Sprintf("stop %d instances", len(stop)), func(ctx context.Context, st *ui.Step) error {
		if err := e.Provider.Stop(ctx, stop); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, e.waitTimeout())
		defer cancel()
		done, err := e.Provider.Wait(ctx, tag, stop, cloud.StateStopped)
		if st != nil {
			st.Count(len(done), len(stop))
		}
		return err
	})
}

// Terminate removes everything of a cluster: it detaches its volumes (which are never deleted),
// terminates its instances (cancelling their spot requests), deletes its security group and its
// local known_hosts. Only resources tagged with this cluster are touched, and running it again
// on a cluster that is gone is harmless.
func (e *Engine) Terminate(ctx context.Context, tag string) error {
	if err := CheckTagName(tag); err != nil {
		return err
	}
	cl, gerr := e.Provider.GetCluster(ctx, tag)
	groupExists := gerr == nil
	switch {
	case gerr != nil && cl.GroupID != "":
		// Only the recorded template is damaged (or was tampered with): terminating needs
		// none of it, and must stay possible.
		groupExists = true
		if e.Status != nil {
			e.Status.Warnf("cluster %s: %v; terminating it anyway", tag, gerr)
		}
	case gerr != nil && !errors.Is(gerr, cloud.ErrNotFound):
		return gerr
	}
	if groupExists {
		unlock, err := e.lock(ctx, tag, cloud.LockCluster)
		if err != nil {
			return err
		}
		defer unlock()
	}
	insts, err := e.launchedInstances(ctx, tag, &cl)
	var dup *DuplicateAliasError
	if errors.As(err, &dup) {
		e.warnOnce(err.Error() + "; terminating all of them")
	} else if err != nil {
		return err
	}
	if !groupExists && len(insts) == 0 {
		e.forgetHosts(tag)
		return e.NotFound(ctx, tag)
	}
	if err := e.detachVolumes(ctx, tag, insts); err != nil {
		return err
	}
	if len(insts) > 0 {
		ids := make([]string, len(insts))
		for i, in := range insts {
			ids[i] = in.ID
		}
		if err := e.step(ctx, fmt.Sprintf("terminate %d instances", len(ids)), func(ctx context.Context, _ *ui.Step) error {
			return e.Provider.Terminate(ctx, ids)
		}); err != nil {
			return err
		}
	}
	if groupExists {
		what := "security group " + cl.GroupName
		if e.Provider.Capabilities().HostOnlyNetwork {
			what = "network " + cl.GroupID
		}
		if err := e.step(ctx, "delete "+what, func(ctx context.Context, _ *ui.Step) error {
			ctx, cancel := context.WithTimeout(ctx, e.waitTimeout())
			defer cancel()
			return e.Provider.DeleteCluster(ctx, tag)
		}); err != nil {
			return err
		}
	}
	e.forgetHosts(tag)
	e.forgetClusterKey(tag)
	return nil
}

// detachVolumes detaches every volume attached to the cluster's instances, so terminating them
// never takes a user volume along (EBS deletes volumes attached with DeleteOnTermination).
func (e *Engine) detachVolumes(ctx context.Context, tag string, insts []cloud.Instance) error {
	if len(insts) == 0 {
		return nil
	}
	byID := map[string]bool{}
	for _, in := range insts {
		byID[in.ID] = true
	}
	vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{State: "in-use"})
	if err != nil {
		return err
	}
	var attached []cloud.Volume
	for _, v := range vols {
		if byID[v.AttachedTo] && v.Tags[cloud.TagCluster] != tag {
			attached = append(attached, v)
		}
	}
	if len(attached) == 0 {
		return nil
	}
	return e.step(ctx, fmt.Sprintf("detach %d volumes", len(attached)), func(ctx context.Context, st *ui.Step) error {
		for i, v := range attached {
			if err := e.Provider.DetachVolume(ctx, v.ID); err != nil {
				return fmt.Errorf("detach volume %s: %w", v.ID, err)
			}
			if st != nil {
				st.SetUnit("volumes")
				st.Count(i+1, len(attached))
			}
		}
		return nil
	})
}

func (e *Engine) forgetHosts(tag string) {
	if e.StateDir == "" {
		return
	}
	path := KnownHostsPath(e.StateDir, tag)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		e.log().Warn("could not remove known_hosts", "path", path, "error", err)
	}
	_ = os.Remove(path + ".lock")
}

// clusterInstances lists a cluster's instances, failing with a clear error when the cluster
// does not exist.
func (e *Engine) clusterInstances(ctx context.Context, tag string) ([]cloud.Instance, error) {
	if err := CheckTagName(tag); err != nil {
		return nil, err
	}
	cl, err := e.Provider.GetCluster(ctx, tag)
	if errors.Is(err, cloud.ErrNotFound) {
		return nil, e.NotFound(ctx, tag)
	}
	if err != nil && cl.GroupID == "" {
		return nil, err
	}
	insts, err := e.launchedInstances(ctx, tag, &cl)
	var dup *DuplicateAliasError
	if errors.As(err, &dup) {
		e.warnOnce(err.Error() + "; stopping all of them")
		return insts, nil // stopping needs no aliases
	}
	return insts, err
}
