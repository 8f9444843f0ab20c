package ec2

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Region is an EC2 region (listregions).
type Region struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
}

// Zone is an availability zone of the provider's region (listzones).
type Zone struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Region string `json:"region"`
	State  string `json:"state"`
}

// Image is a machine image as listimages and listpublic show it.
type Image struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Description    string    `json:"description,omitempty"`
	Architecture   string    `json:"architecture"`
	State          string    `json:"state"`
	OwnerID        string    `json:"owner_id"`
	Public         bool      `json:"public"`
	RootDeviceName string    `json:"root_device_name,omitempty"`
	Platform       string    `json:"platform,omitempty"`
	Created        time.Time `json:"created"`
	// Family names the distribution line for PublicImages ("debian-12-amd64").
	Family string `json:"family,omitempty"`
	// Clusterctl marks an image made by ebsimage (removeimage deletes those).
	Clusterctl bool `json:"clusterctl,omitempty"`
	// Snapshots are the EBS snapshots behind the image's volumes.
	Snapshots []string `json:"snapshots,omitempty"`
}

// ImageFilter selects images for Images; with nothing set it lists the caller's own images.
type ImageFilter struct {
	// Owned lists images the account owns (listimages).
	Owned bool
	// ExecutableByMe lists images the account may launch (listimages -x).
	ExecutableByMe bool
	// IDs lists these images (showimage).
	IDs []string
}

// Regions lists the regions enabled for the account.
func (p *Provider) Regions(ctx context.Context) ([]Region, error) {
	out, err := p.api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	regions := make([]Region, len(out.Regions))
	for i, r := range out.Regions {
		regions[i] = Region{Name: aws.ToString(r.RegionName), Endpoint: aws.ToString(r.Endpoint)}
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i].Name < regions[j].Name })
	return regions, nil
}

// Zones lists the availability zones of the provider's region.
func (p *Provider) Zones(ctx context.Context) ([]Zone, error) {
	out, err := p.api.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		return nil, fmt.Errorf("list zones in %s: %w", p.region, err)
	}
	zones := make([]Zone, len(out.AvailabilityZones))
	for i, z := range out.AvailabilityZones {
		zones[i] = Zone{Name: aws.ToString(z.ZoneName), ID: aws.ToString(z.ZoneId),
			Region: aws.ToString(z.RegionName), State: string(z.State)}
	}
	sort.Slice(zones, func(i, j int) bool { return zones[i].Name < zones[j].Name })
	return zones, nil
}

// Images lists images by owner, launch permission or id, newest first.
func (p *Provider) Images(ctx context.Context, f ImageFilter) ([]Image, error) {
	in := &ec2.DescribeImagesInput{ImageIds: f.IDs}
	if f.Owned || (!f.ExecutableByMe && len(f.IDs) == 0) {
		in.Owners = []string{"self"}
	}
	if f.ExecutableByMe {
		in.ExecutableUsers = []string{"self"}
	}
	raw, err := p.describeImages(ctx, in)
	if isCode(err, codeAMINotFound, codeAMIMalformed) {
		return nil, notFound("image %v in %s", f.IDs, p.region)
	}
	if err != nil {
		return nil, err
	}
	images := make([]Image, len(raw))
	for i, im := range raw {
		images[i] = toImage(im)
	}
	sort.SliceStable(images, func(i, j int) bool { return images[i].Created.After(images[j].Created) })
	return images, nil
}

// describeImages returns all pages of a DescribeImages call.
func (p *Provider) describeImages(ctx context.Context, in *ec2.DescribeImagesInput) ([]types.Image, error) {
	var out []types.Image
	pages := ec2.NewDescribeImagesPaginator(p.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe images: %w", err)
		}
		out = append(out, page.Images...)
	}
	return out, nil
}

func toImage(im types.Image) Image {
	out := Image{
		ID:             aws.ToString(im.ImageId),
		Name:           aws.ToString(im.Name),
		Description:    aws.ToString(im.Description),
		Architecture:   string(im.Architecture),
		State:          string(im.State),
		OwnerID:        aws.ToString(im.OwnerId),
		Public:         aws.ToBool(im.Public),
		RootDeviceName: aws.ToString(im.RootDeviceName),
		Platform:       string(im.Platform),
	}
	if t, err := time.Parse(time.RFC3339, aws.ToString(im.CreationDate)); err == nil {
		out.Created = t
	}
	_, out.Clusterctl = tagMap(im.Tags)[cloud.TagImage]
	for _, b := range im.BlockDeviceMappings {
		if b.Ebs != nil && aws.ToString(b.Ebs.SnapshotId) != "" {
			out.Snapshots = append(out.Snapshots, aws.ToString(b.Ebs.SnapshotId))
		}
	}
	return out
}

// ImageSpec says how ebsimage makes an image.
type ImageSpec struct {
	InstanceID, Name, Description string
	// SnapshotDescription is StarCluster's -D: EC2 describes the snapshots it makes for an
	// image itself, so it is kept as the snapshots' Description tag.
	SnapshotDescription string
	NoReboot            bool
}

// CreateImage makes an EBS-backed image (AMI) of an instance (ebsimage), so a node configured by
// hand can be the image of later clusters (workflows: Pegasus). The instance is rebooted for a
// consistent filesystem unless NoReboot. The image and its snapshots are tagged as clusterctl's
// (TagImage) and with the cluster the instance came from; it is pending until EC2 finishes the
// snapshot.
func (p *Provider) CreateImage(ctx context.Context, spec ImageSpec) (string, error) {
	tags := map[string]string{cloud.TagName: spec.Name, cloud.TagImage: "ebsimage"}
	insts, err := p.describeInstances(ctx, filter("instance-id", spec.InstanceID))
	if err != nil || len(insts) == 0 {
		return "", notFound("instance %s in %s", spec.InstanceID, p.region)
	}
	if c := tagMap(insts[0].Tags)[cloud.TagCluster]; c != "" {
		tags["clusterctl:source-cluster"] = c
	}
	snapTags := maps.Clone(tags)
	if spec.SnapshotDescription != "" {
		snapTags["Description"] = spec.SnapshotDescription
	}
	instanceID := spec.InstanceID
	out, err := p.api.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(instanceID), Name: aws.String(spec.Name),
		Description: aws.String(spec.Description), NoReboot: aws.Bool(spec.NoReboot),
		TagSpecifications: []types.TagSpecification{tagSpec(types.ResourceTypeImage, tags)}})
	if err != nil {
		return "", fmt.Errorf("create image of %s: %w", instanceID, err)
	}
	id := aws.ToString(out.ImageId)
	return id, p.tagImageSnapshots(ctx, id, snapTags)
}

// tagImageSnapshots tags the snapshots EC2 makes for a new image, once the image names them
// (they appear while it is still pending), so removeimage and the console show whose they are.
func (p *Provider) tagImageSnapshots(ctx context.Context, imageID string, tags map[string]string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var snaps []string
	err := poll(ctx, p.poll, func(ctx context.Context) (bool, error) {
		images, err := p.Images(ctx, ImageFilter{IDs: []string{imageID}})
		if err != nil && !errors.Is(err, cloud.ErrNotFound) {
			return false, err
		}
		if len(images) == 1 {
			snaps = images[0].Snapshots
		}
		return len(snaps) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("image %s: wait for its snapshots: %w", imageID, err)
	}
	if _, err := p.api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: snaps, Tags: tagList(tags)}); err != nil {
		return fmt.Errorf("image %s: tag its snapshots: %w", imageID, err)
	}
	return nil
}

// RemoveImage deregisters an image made by ebsimage and, unless keepSnapshots, deletes the
// snapshots behind it (removeimage). An image clusterctl did not make is refused unless force:
// it may be shared or launched by other tools.
func (p *Provider) RemoveImage(ctx context.Context, id string, keepSnapshots, force bool) (Image, error) {
	images, err := p.Images(ctx, ImageFilter{IDs: []string{id}})
	if err != nil {
		return Image{}, err
	}
	if len(images) == 0 {
		return Image{}, notFound("image %s in %s", id, p.region)
	}
	im := images[0]
	if !im.Clusterctl && !force {
		return im, fmt.Errorf("image %s (%s) was not made by clusterctl's ebsimage; pass --force to remove it anyway", id, im.Name)
	}
	if _, err := p.api.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
		return im, fmt.Errorf("deregister image %s: %w", id, err)
	}
	if keepSnapshots {
		return im, nil
	}
	for _, snap := range im.Snapshots {
		if _, err := p.api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)}); err != nil {
			return im, fmt.Errorf("image %s is deregistered, but deleting its snapshot %s failed: %w", id, snap, err)
		}
	}
	return im, nil
}
