package ec2

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Launch starts len(req.Aliases) identical instances, on demand or spot, with IMDSv2 required
// and an encrypted root volume. The instances go out in as few RunInstances calls as EC2's user
// data and tag limits allow (launchBatches: a hundred per call at most), each with MinCount =
// MaxCount so EC2 launches all of a call or none; the first call goes alone, the others follow
// it into its zone at once. Every instance, its volumes and spot request are tagged at creation
// (TagSpecifications): the cluster, the role, and the aliases and host keys of the call's
// instances by launch index (batchTags), so naming a thousand instances costs no CreateTags at
// all.
//
// Nothing is launched when the user data cannot be built. If a call fails, the instances
// launched so far are returned with the error: they carry the cluster tag, so the caller can
// terminate them or a rerun can finish the work.
func (p *Provider) Launch(ctx context.Context, req cloud.LaunchRequest) ([]cloud.Instance, error) {
	if len(req.Aliases) == 0 {
		return nil, nil
	}
	if req.Tag == "" || req.ImageID == "" || req.InstanceType == "" {
		return nil, fmt.Errorf("launch: tag, image and instance type are required")
	}
	if req.GroupID == "" {
		c, err := p.GetCluster(ctx, req.Tag)
		if err != nil && c.GroupID == "" {
			return nil, fmt.Errorf("launch %s: %w", strings.Join(req.Aliases, ","), err)
		}
		req.GroupID = c.GroupID
	}
	batches, err := launchBatches(req.Aliases, req.Boot)
	if err != nil {
		return nil, fmt.Errorf("launch %s: %w", req.Role, err)
	}
	root, err := p.rootDevice(ctx, req.ImageID)
	if err != nil {
		return nil, fmt.Errorf("launch %s: %w", req.Role, err)
	}
	if req.RootVolumeGB <= 0 {
		req.RootVolumeGB = root.sizeGB
	}
	keys := hostPublicKeys(req.Boot.HostKeys)
	insts, err := p.launchBatch(ctx, req, root.name, batches[0], keys)
	if err != nil || len(batches) == 1 {
		cloud.SortInstances(insts)
		return insts, err
	}
	if req.Zone == "" && len(insts) > 0 {
		req.Zone = insts[0].Zone
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	g := errgroup.Group{}
	g.SetLimit(p.parallel)
	for _, b := range batches[1:] {
		g.Go(func() error {
			got, err := p.launchBatch(ctx, req, root.name, b, keys)
			mu.Lock()
			insts = append(insts, got...)
			errs = append(errs, err)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // the calls report through errs
	cloud.SortInstances(insts)
	return insts, errors.Join(errs...)
}

// launchBatch makes one RunInstances call for a batch, its instances named at launch.
func (p *Provider) launchBatch(ctx context.Context, req cloud.LaunchRequest, rootDevice string, b launchBatch, keys map[string]string) ([]cloud.Instance, error) {
	names, err := batchTags(req.Tag, b.aliases, keys)
	if err != nil {
		return nil, fmt.Errorf("launch %s: %w", strings.Join(b.aliases, ","), err)
	}
	in := runInput(req, len(b.aliases), rootDevice, b.userData, clientToken(), names)
	out, err := p.api.RunInstances(ctx, in)
	if code := apiCode(err); capacityCode(code) {
		return nil, &cloud.CapacityError{Code: code, InstanceType: req.InstanceType, Zone: req.Zone, Spot: req.SpotPrice != "", Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("run %d x %s (%s) for cluster %s: %w", len(b.aliases), req.InstanceType, req.ImageID, req.Tag, err)
	}
	if len(out.Instances) != len(b.aliases) {
		// MinCount = MaxCount makes this impossible on EC2; say so if an implementation differs.
		err = fmt.Errorf("launch: asked for %d instances, got %d", len(b.aliases), len(out.Instances))
	}
	insts := make([]cloud.Instance, len(out.Instances))
	for i, raw := range out.Instances {
		insts[i] = toInstance(raw)
		// The response may omit the tags set at creation; the instance carries them anyway.
		insts[i].Cluster, insts[i].Role = req.Tag, req.Role
		insts[i].Tags[cloud.TagCluster], insts[i].Tags[cloud.TagRole] = req.Tag, string(req.Role)
		idx := int(aws.ToInt32(raw.AmiLaunchIndex))
		if idx >= 0 && idx < len(b.aliases) {
			insts[i].Alias = b.aliases[idx]
			insts[i].HostKey = keys[b.aliases[idx]]
		}
	}
	return insts, err
}

// runInput builds the RunInstances request for n instances of a launch request.
// names are the tags naming the call's instances (batchTags), which the instances and their
// spot requests carry.
func runInput(req cloud.LaunchRequest, count int, rootDevice string, userData []byte, token string, names map[string]string) *ec2.RunInstancesInput {
	n := int32(count)
	tags := map[string]string{cloud.TagCluster: req.Tag, cloud.TagRole: string(req.Role)}
	if req.SpotPrice != "" {
		tags[cloud.TagBid] = req.SpotPrice
	}
	named := maps.Clone(tags)
	maps.Copy(named, names)
	specs := []types.TagSpecification{
		tagSpec(types.ResourceTypeInstance, named),
		tagSpec(types.ResourceTypeVolume, tags),
	}
	ebs := &types.EbsBlockDevice{
		Encrypted:           aws.Bool(true),
		DeleteOnTermination: aws.Bool(true),
		VolumeType:          types.VolumeTypeGp3,
	}
	if req.RootVolumeGB > 0 {
		ebs.VolumeSize = aws.Int32(int32(req.RootVolumeGB))
	}
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(req.ImageID),
		InstanceType: types.InstanceType(req.InstanceType),
		MinCount:     aws.Int32(n),
		MaxCount:     aws.Int32(n),
		// A client token makes the SDK's retries of a timed-out call idempotent: EC2 returns the
		// first call's instances instead of launching a second set.
		ClientToken: aws.String(token),
		UserData:    aws.String(base64.StdEncoding.EncodeToString(userData)),
		MetadataOptions: &types.InstanceMetadataOptionsRequest{
			HttpTokens:   types.HttpTokensStateRequired,
			HttpEndpoint: types.InstanceMetadataEndpointStateEnabled,
		},
		BlockDeviceMappings: append([]types.BlockDeviceMapping{{DeviceName: aws.String(rootDevice), Ebs: ebs}}, copyMappings(req.Volumes)...),
	}
	if req.KeyName != "" {
		in.KeyName = aws.String(req.KeyName)
	}
	if req.IAMProfile != "" {
		if strings.HasPrefix(req.IAMProfile, "arn:") {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String(req.IAMProfile)}
		} else {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String(req.IAMProfile)}
		}
	}
	if req.SpotPrice != "" {
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{
			MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{
				MaxPrice:                     aws.String(req.SpotPrice),
				SpotInstanceType:             types.SpotInstanceTypeOneTime,
				InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate,
			},
		}
		specs = append(specs, tagSpec(types.ResourceTypeSpotInstancesRequest, named))
	}
	in.TagSpecifications = specs
	if req.SubnetID != "" {
		in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{
			DeviceIndex:              aws.Int32(0),
			SubnetId:                 aws.String(req.SubnetID),
			Groups:                   []string{req.GroupID},
			AssociatePublicIpAddress: req.PublicIP,
			DeleteOnTermination:      aws.Bool(true),
		}}
	} else {
		in.SecurityGroupIds = []string{req.GroupID}
	}
	if req.Zone != "" {
		in.Placement = &types.Placement{AvailabilityZone: aws.String(req.Zone)}
	}
	return in
}

// imageRoot is an image's root device: its name and default size.
type imageRoot struct {
	name   string
	sizeGB int
}

// rootDevice returns the image's root device name, which the encrypted root mapping must use
// (it differs between images: /dev/xvda, /dev/sda1), and its size, used when the template sets
// none (EC2 would take it from the image's snapshot anyway; moto insists on a size).
func (p *Provider) rootDevice(ctx context.Context, imageID string) (imageRoot, error) {
	out, err := p.api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
	if isCode(err, codeAMINotFound, codeAMIMalformed, codeAMIUnavailable) || (err == nil && len(out.Images) == 0) {
		return imageRoot{}, notFound("image %s in %s", imageID, p.region)
	}
	if err != nil {
		return imageRoot{}, fmt.Errorf("describe image %s: %w", imageID, err)
	}
	img := out.Images[0]
	root := imageRoot{name: aws.ToString(img.RootDeviceName)}
	if root.name == "" {
		return imageRoot{}, fmt.Errorf("image %s has no root device name", imageID)
	}
	for _, m := range img.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == root.name && m.Ebs != nil {
			root.sizeGB = int(aws.ToInt32(m.Ebs.VolumeSize))
		}
	}
	return root, nil
}

// hostPublicKeys returns the public half of each alias's host key (authorized_keys format), for
// the cloud.TagHostKey tag. Keys that do not parse are skipped: buildUserData already refused
// them before anything was launched.
func hostPublicKeys(keys map[string][]byte) map[string]string {
	pubs := make(map[string]string, len(keys))
	for alias, raw := range keys {
		if _, pub, err := normalizeHostKey(raw); err == nil {
			pubs[alias] = pub
		}
	}
	return pubs
}

// clientToken returns a fresh idempotency token for one RunInstances call.
func clientToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "clusterctl-" + hex.EncodeToString(b[:])
}
