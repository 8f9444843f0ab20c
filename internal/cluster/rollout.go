package cluster

import (
	"context"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// rollout replaces, one at a time, the workers whose copy of copied volume idx was made from a
// snapshot other than snap: each goes through removenode's path (plugins' hooks, the scheduler
// disables and removes it, the other nodes forget it, it is terminated) and a node of the same
// alias, type and image is added, which gets the new copy. One at a time keeps all but one
// worker serving. The master is never replaced; it is named in kept when its copy is older.
func (e *Engine) rollout(ctx context.Context, tag string, r Record, idx int, snap string, so SetupOptions) (replaced, kept []string, err error) {
	insts, err := e.Provider.Instances(ctx, tag)
	if err != nil {
		return nil, nil, err
	}
	var running []cloud.Instance
	for _, in := range insts {
		if in.State == cloud.StateRunning {
			running = append(running, in)
		}
	}
	copies, err := e.nodeCopies(ctx, tag, r, running, idx)
	if err != nil {
		return nil, nil, err
	}
	var old []cloud.Instance
	for _, c := range copies {
		switch {
		case c.SnapshotID == snap:
		case c.Instance.Role == cloud.RoleMaster:
			kept = append(kept, c.Instance.Alias)
		default:
			old = append(old, c.Instance)
		}
	}
	for i, in := range old {
		if e.Status != nil {
			e.Status.Infof("Replacing %s, whose copy of %s is older (%d of %d):", in.Alias, r.Copies[idx].Name, i+1, len(old))
		}
		_, err := e.RemoveNodes(ctx, tag, RemoveOptions{Aliases: []string{in.Alias}}, so)
		if err == nil {
			_, err = e.AddNodes(ctx, tag, AddOptions{Aliases: []string{in.Alias}, Count: 1, Type: in.InstanceType, Image: in.ImageID}, so)
		}
		if err != nil {
			return replaced, kept, fmt.Errorf("rollout stopped at %s (%d of %d replaced): %w", in.Alias, i, len(old), err)
		}
		replaced = append(replaced, in.Alias)
	}
	return replaced, kept, nil
}
