package ec2

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// CreateVolume creates an encrypted gp3 volume, tagged at creation with spec.Tags and its Name,
// and waits until it is available, so it can be attached right away.
func (p *Provider) CreateVolume(ctx context.Context, spec cloud.VolumeSpec) (cloud.Volume, error) {
	if spec.SizeGB <= 0 || spec.Zone == "" {
		return cloud.Volume{}, fmt.Errorf("create volume: size and zone are required")
	}
	tags := maps.Clone(spec.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	if spec.Name != "" {
		tags[cloud.TagName] = spec.Name
	}
	in := &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String(spec.Zone),
		Size:             aws.Int32(int32(spec.SizeGB)),
		Encrypted:        aws.Bool(true),
		VolumeType:       types.VolumeTypeGp3,
	}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{tagSpec(types.ResourceTypeVolume, tags)}
	}
	out, err := p.api.CreateVolume(ctx, in)
	if err != nil {
		return cloud.Volume{}, fmt.Errorf("create %d GB volume in %s: %w", spec.SizeGB, spec.Zone, err)
	}
	id := aws.ToString(out.VolumeId)
	v, err := p.waitVolume(ctx, id, "available", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable })
	if err != nil {
		return cloud.Volume{}, err
	}
	return toVolume(v), nil
}

// AttachVolume attaches a volume at device and waits until EC2 reports it attached.
func (p *Provider) AttachVolume(ctx context.Context, volumeID, instanceID, device string) error {
	_, err := p.api.AttachVolume(ctx, &ec2.AttachVolumeInput{
		VolumeId: aws.String(volumeID), InstanceId: aws.String(instanceID), Device: aws.String(device),
	})
	if err != nil {
		return fmt.Errorf("attach %s to %s at %s: %w", volumeID, instanceID, device, err)
	}
	_, err = p.waitVolume(ctx, volumeID, "attached to "+instanceID, func(v types.Volume) bool {
		for _, a := range v.Attachments {
			if aws.ToString(a.InstanceId) == instanceID && a.State == types.VolumeAttachmentStateAttached {
				return true
			}
		}
		return false
	})
	return err
}

// DetachVolume detaches a volume and waits until it is available again. The request names the
// instance and device it is attached at (EC2 does not need them, moto does); a volume that is
// not attached is left alone.
func (p *Provider) DetachVolume(ctx context.Context, volumeID string) error {
	v, err := p.volume(ctx, volumeID)
	if err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	if len(v.Attachments) == 0 {
		return nil
	}
	a := v.Attachments[0]
	_, err = p.api.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(volumeID), InstanceId: a.InstanceId, Device: a.Device})
	if err != nil {
		return fmt.Errorf("detach %s from %s: %w", volumeID, aws.ToString(a.InstanceId), err)
	}
	_, err = p.waitVolume(ctx, volumeID, "available", func(v types.Volume) bool { return v.State == types.VolumeStateAvailable })
	return err
}

// DeleteVolume deletes an available volume; a volume that does not exist is reported with
// cloud.ErrNotFound.
func (p *Provider) DeleteVolume(ctx context.Context, volumeID string) error {
	_, err := p.api.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(volumeID)})
	if isCode(err, codeVolumeNotFound) {
		return notFound("volume %s in %s", volumeID, p.region)
	}
	if err != nil {
		return fmt.Errorf("delete volume %s: %w", volumeID, err)
	}
	return nil
}

// waitVolume polls one volume until ok holds, tolerating a just-created volume EC2 does not
// list yet. want describes the goal for the error message.
func (p *Provider) waitVolume(ctx context.Context, id, want string, ok func(types.Volume) bool) (types.Volume, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var last types.Volume
	err := poll(ctx, p.poll, func(ctx context.Context) (bool, error) {
		v, err := p.volume(ctx, id)
		if errors.Is(err, cloud.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if v.State == types.VolumeStateError {
			return false, fmt.Errorf("volume %s is in state error", id)
		}
		last = v
		return ok(v), nil
	})
	if err != nil {
		return last, fmt.Errorf("wait for volume %s to be %s (now %s): %w", id, want, last.State, err)
	}
	return last, nil
}
