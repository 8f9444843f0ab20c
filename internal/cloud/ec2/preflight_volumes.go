package ec2

import (
	"context"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// checkVolumes checks that the plan's volumes exist, are available (or already attached to this
// cluster's master, as on a restart), share one zone, and that this zone is the one the cluster
// launches in (an EBS volume attaches only within its zone). It returns the volumes' zone.
func (p *Provider) checkVolumes(ctx context.Context, plan cloud.Plan, zone string, pc *preflight) string {
	if len(plan.VolumeIDs) == 0 {
		return ""
	}
	vols, err := p.Volumes(ctx, cloud.VolumeFilter{IDs: plan.VolumeIDs})
	if err != nil {
		pc.add(err)
		return ""
	}
	byID := map[string]cloud.Volume{}
	for _, v := range vols {
		byID[v.ID] = v
	}
	master := ""
	masterLooked := false
	var zones []string
	var where []string
	for _, id := range plan.VolumeIDs {
		v, ok := byID[id]
		if !ok {
			pc.addf("volume %s not found in %s", id, p.region)
			continue
		}
		if !slices.Contains(zones, v.Zone) {
			zones = append(zones, v.Zone)
		}
		where = append(where, id+" in "+v.Zone)
		switch v.State {
		case "available":
		case "in-use":
			if !masterLooked {
				master, masterLooked = p.masterID(ctx, plan.Tag), true
			}
			if master == "" || v.AttachedTo != master {
				pc.addf("volume %s is in-use (attached to %s), not available", id, v.AttachedTo)
			}
		default:
			pc.addf("volume %s is %s, not available", id, v.State)
		}
	}
	if len(zones) > 1 {
		pc.addf("volumes must share one zone, these do not: %s", strings.Join(where, ", "))
		return ""
	}
	if len(zones) == 1 && zone != "" && zones[0] != zone {
		for _, id := range plan.VolumeIDs {
			if v, ok := byID[id]; ok {
				pc.addf("volume %s is in %s but the cluster launches in %s", id, v.Zone, zone)
			}
		}
	}
	if len(zones) == 1 {
		return zones[0]
	}
	return ""
}

// masterID returns the id of the cluster's live master, or "" when there is none (a new
// cluster) or it cannot be listed.
func (p *Provider) masterID(ctx context.Context, tag string) string {
	if tag == "" {
		return ""
	}
	insts, err := p.Instances(ctx, tag)
	if err != nil {
		return ""
	}
	for _, in := range insts {
		if in.Role == cloud.RoleMaster || in.Alias == string(cloud.RoleMaster) {
			return in.ID
		}
	}
	return ""
}
