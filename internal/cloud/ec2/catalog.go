package ec2

import (
	"context"
	"fmt"
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
	return out
}

// CreateImage makes an EBS-backed image (AMI) of an instance (ebsimage), so a node configured by
// hand can be the image of later clusters (workflows: Pegasus). The instance is rebooted for a
// consistent filesystem unless noReboot. The image is tagged with the cluster the instance came
// from; it is pending until EC2 finishes the snapshot.
func (p *Provider) CreateImage(ctx context.Context, instanceID, name, description string, noReboot bool) (string, error) {
	tags := map[string]string{cloud.TagName: name}
	insts, err := p.describeInstances(ctx, filter("instance-id", instanceID))
	if err != nil || len(insts) == 0 {
		return "", notFound("instance %s in %s", instanceID, p.region)
	}
	if c := tagMap(insts[0].Tags)[cloud.TagCluster]; c != "" {
		tags["clusterctl:source-cluster"] = c
	}
	out, err := p.api.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(instanceID), Name: aws.String(name),
		Description: aws.String(description), NoReboot: aws.Bool(noReboot),
		TagSpecifications: []types.TagSpecification{tagSpec(types.ResourceTypeImage, tags)}})
	if err != nil {
		return "", fmt.Errorf("create image of %s: %w", instanceID, err)
	}
	return aws.ToString(out.ImageId), nil
}
