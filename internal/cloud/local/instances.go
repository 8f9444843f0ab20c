package local

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// pendingGrace is how long an instance whose launch has not finished (recorded pending, no
// container yet) counts as pending rather than dead: a launch in another process is seconds.
const pendingGrace = 2 * time.Minute

// Instances lists the cluster's instances sorted by alias, with their state as of now: the
// recorded state checked against the nspawn process (alive or not) and the overlay (mounted or
// not). A cluster that does not exist has no instances, as on EC2.
func (p *Provider) Instances(_ context.Context, tag string) ([]cloud.Instance, error) {
	if checkTag(tag) != nil {
		return nil, nil
	}
	c, err := p.readCluster(tag)
	if errors.Is(err, cloud.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	recs, err := p.readInstances(tag)
	if err != nil {
		return nil, err
	}
	mounts, err := mountPoints()
	if err != nil {
		return nil, err
	}
	mounted := make(map[string]bool, len(mounts))
	for _, m := range mounts {
		mounted[m] = true
	}
	out := make([]cloud.Instance, len(recs))
	now := time.Now()
	for i, r := range recs {
		state := observedState(r, nspawnAlive(r.PID, machineName(r.ID)), mounted[p.mergedDir(r)], now)
		out[i] = toInstance(r, c, state)
		if state == cloud.StateDead {
			out[i].StateReason = "its container exited without being stopped"
		}
	}
	cloud.SortInstances(out)
	return out, nil
}

// observedState derives the state the engine sees. Recorded running with its process gone is
// StateDead: the container died without clusterctl stopping it (killed, host rebooted), and is
// reported so, never waited for.
func observedState(r instanceRecord, alive, mounted bool, now time.Time) string {
	switch r.State {
	case cloud.StateRunning:
		if alive {
			return cloud.StateRunning
		}
		return cloud.StateDead
	case cloud.StatePending:
		if alive || now.Sub(r.LaunchTime) < pendingGrace {
			return cloud.StatePending
		}
		return cloud.StateDead
	case cloud.StateStopping, cloud.StateStopped:
		if alive || mounted {
			return cloud.StateStopping
		}
		return cloud.StateStopped
	}
	return r.State
}

// toInstance is the engine's view of an instance record of cluster c; its bridge plays the
// security group.
func toInstance(r instanceRecord, c clusterRecord, state string) cloud.Instance {
	in := cloud.Instance{
		ID:           r.ID,
		Cluster:      r.Cluster,
		Alias:        r.Alias,
		Role:         r.Role,
		State:        state,
		PrivateIP:    r.Address.String(),
		Lifecycle:    r.Lifecycle,
		LaunchTime:   r.LaunchTime,
		InstanceType: r.InstanceType,
		ImageID:      r.ImageID,
		Zone:         Zone,
		KeyName:      r.KeyName,
		SubnetID:     c.Subnet.String(),
		Groups:       []string{c.Bridge},
		HostKey:      r.HostKey,
		Tags: map[string]string{
			cloud.TagCluster: r.Cluster,
			cloud.TagAlias:   r.Alias,
			cloud.TagRole:    string(r.Role),
			cloud.TagName:    r.Cluster + "-" + r.Alias,
			cloud.TagHostKey: r.HostKey,
		},
	}
	if r.Lifecycle == cloud.Spot {
		// A spot instance has a request on EC2; the engine counts them, so fake a stable one.
		in.SpotRequestID = "sir-" + strings.TrimPrefix(r.ID, "i-")
		in.SpotPrice = r.SpotPrice
	}
	return in
}
