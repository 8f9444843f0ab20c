package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// codeSnapshotNotFound is EC2's "no such snapshot".
const codeSnapshotNotFound = "InvalidSnapshot.NotFound"

var _ cloud.Snapshotter = (*Provider)(nil)

// CreateSnapshot snapshots a volume, tagged at creation, and waits until EC2 reports it
// completed. Large volumes take a while: the wait follows ctx's deadline, or
// cloud.DefaultWaitTimeout when there is none.
func (p *Provider) CreateSnapshot(ctx context.Context, spec cloud.SnapshotSpec) (cloud.Snapshot, error) {
	in := &ec2.CreateSnapshotInput{VolumeId: aws.String(spec.VolumeID)}
	if spec.Description != "" {
		in.Description = aws.String(spec.Description)
	}
	if len(spec.Tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{tagSpec(types.ResourceTypeSnapshot, spec.Tags)}
	}
	out, err := p.api.CreateSnapshot(ctx, in)
	if isCode(err, codeVolumeNotFound) {
		return cloud.Snapshot{}, notFound("snapshot of volume %s in %s", spec.VolumeID, p.region)
	}
	if err != nil {
		return cloud.Snapshot{}, fmt.Errorf("snapshot volume %s: %w", spec.VolumeID, err)
	}
	id := aws.ToString(out.SnapshotId)
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var last cloud.Snapshot
	err = poll(ctx, p.poll, func(ctx context.Context) (bool, error) {
		snaps, err := p.Snapshots(ctx, cloud.SnapshotFilter{IDs: []string{id}})
		if err != nil || len(snaps) == 0 {
			return false, err // not listed yet: eventual consistency
		}
		last = snaps[0]
		if last.State == string(types.SnapshotStateError) {
			return false, fmt.Errorf("snapshot %s of volume %s failed", id, spec.VolumeID)
		}
		return last.State == cloud.SnapshotCompleted, nil
	})
	if err != nil {
		return last, fmt.Errorf("wait for snapshot %s of volume %s to complete (now %s): %w", id, spec.VolumeID, orUnknown(last.State), err)
	}
	return last, nil
}

// Snapshots lists the account's own snapshots matching f, newest first. Unknown ids are simply
// absent, as with volumes.
func (p *Provider) Snapshots(ctx context.Context, f cloud.SnapshotFilter) ([]cloud.Snapshot, error) {
	var filters []types.Filter
	if f.Cluster != "" {
		filters = append(filters, clusterFilter(f.Cluster))
	}
	filters = append(filters, tagFilters(f.Tags)...)
	var out []cloud.Snapshot
	err := byIDs(filters, "snapshot-id", f.IDs, func(fs []types.Filter) error {
		pages := ec2.NewDescribeSnapshotsPaginator(p.api, &ec2.DescribeSnapshotsInput{
			OwnerIds: []string{"self"}, Filters: fs, MaxResults: aws.Int32(1000)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("describe snapshots: %w", err)
			}
			for _, s := range page.Snapshots {
				out = append(out, toSnapshot(s))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cloud.SortSnapshots(out)
	return out, nil
}

// DeleteSnapshot deletes a snapshot. EC2 refuses while an image (AMI) uses it; volumes created
// from it do not depend on it.
func (p *Provider) DeleteSnapshot(ctx context.Context, id string) error {
	_, err := p.api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	if isCode(err, codeSnapshotNotFound) {
		return notFound("snapshot %s in %s", id, p.region)
	}
	if err != nil {
		return fmt.Errorf("delete snapshot %s: %w", id, err)
	}
	return nil
}

// toSnapshot maps an EBS snapshot to the engine's view.
func toSnapshot(s types.Snapshot) cloud.Snapshot {
	return cloud.Snapshot{
		ID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId), SizeGB: int(aws.ToInt32(s.VolumeSize)),
		State: string(s.State), StartTime: aws.ToTime(s.StartTime).UTC(),
		Description: aws.ToString(s.Description), Tags: tagMap(s.Tags),
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
