package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// copyMappings are the block device mappings that give every instance of a launch its own
// volume from each snapshot (SHARE = copy). EC2 creates them in the instance's own zone, tags
// them with the launch's volume tags (the cluster's), attaches them before boot and, unless
// kept, deletes them when the instance terminates: one RunInstances call whatever the number of
// nodes, and a spot node reclaimed by EC2 leaves no volume behind.
func copyMappings(vols []cloud.LaunchVolume) []types.BlockDeviceMapping {
	out := make([]types.BlockDeviceMapping, 0, len(vols))
	for _, v := range vols {
		out = append(out, types.BlockDeviceMapping{DeviceName: aws.String(v.Device), Ebs: &types.EbsBlockDevice{
			SnapshotId:          aws.String(v.SnapshotID),
			DeleteOnTermination: aws.Bool(!v.Keep),
			Encrypted:           aws.Bool(true),
			VolumeType:          types.VolumeTypeGp3,
		}})
	}
	return out
}

// checkSnapshots checks that every snapshot the plan copies to its nodes exists in the region,
// belongs to the account and is completed.
func (p *Provider) checkSnapshots(ctx context.Context, plan cloud.Plan, pc *preflight) {
	var ids []string
	names := map[string]string{}
	for _, req := range plan.Requests {
		for _, v := range req.Volumes {
			if _, seen := names[v.SnapshotID]; !seen {
				ids = append(ids, v.SnapshotID)
			}
			names[v.SnapshotID] = v.Name
		}
	}
	if len(ids) == 0 {
		return
	}
	for _, id := range ids {
		if !cloud.SnapshotIDPattern.MatchString(id) {
			pc.addf("volume %s: %q is not a snapshot id (snap-...)", names[id], id)
		}
	}
	out, err := p.api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{filter("snapshot-id", ids...)}})
	if err != nil {
		pc.add(fmt.Errorf("describe snapshots: %w", err))
		return
	}
	found := map[string]types.Snapshot{}
	for _, s := range out.Snapshots {
		found[aws.ToString(s.SnapshotId)] = s
	}
	for _, id := range ids {
		s, ok := found[id]
		switch {
		case !cloud.SnapshotIDPattern.MatchString(id):
		case !ok:
			pc.addf("volume %s: snapshot %s not found in %s", names[id], id, p.region)
		case s.State != types.SnapshotStateCompleted:
			pc.addf("volume %s: snapshot %s is %s, not completed", names[id], id, s.State)
		}
	}
}
