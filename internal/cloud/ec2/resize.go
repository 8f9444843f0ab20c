package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ResizeVolume grows a volume with an elastic volume modification and waits until EC2 reports
// it optimizing or completed, the point from which the new size can be used (resizevolume).
// StarCluster copied the volume through a snapshot and a helper instance; EC2 now grows a
// volume in place, attached or not.
func (p *Provider) ResizeVolume(ctx context.Context, volumeID string, sizeGB int) error {
	v, err := p.volume(ctx, volumeID)
	if err != nil {
		return fmt.Errorf("resize: %w", err)
	}
	if cur := int(aws.ToInt32(v.Size)); sizeGB <= cur {
		return fmt.Errorf("resize volume %s: it has %d GB already; volumes only grow", volumeID, cur)
	}
	if _, err := p.api.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(volumeID), Size: aws.Int32(int32(sizeGB))}); err != nil {
		return fmt.Errorf("resize volume %s to %d GB: %w", volumeID, sizeGB, err)
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	return poll(ctx, p.poll, func(ctx context.Context) (bool, error) {
		out, err := p.api.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{volumeID}})
		if err != nil {
			return false, fmt.Errorf("resize volume %s: %w", volumeID, err)
		}
		for _, m := range out.VolumesModifications {
			if aws.ToInt32(m.TargetSize) != int32(sizeGB) {
				continue
			}
			switch m.ModificationState {
			case types.VolumeModificationStateOptimizing, types.VolumeModificationStateCompleted:
				return true, nil
			case types.VolumeModificationStateFailed:
				return false, fmt.Errorf("resize volume %s: EC2 failed the modification: %s", volumeID, aws.ToString(m.StatusMessage))
			}
		}
		return false, nil
	})
}
