package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestRunInput covers the request fields moto cannot show back: the instance profile (moto
// needs a real IAM profile), the network interface form and the public-address choice.
func TestRunInput(t *testing.T) {
	base := cloud.LaunchRequest{Tag: "c", GroupID: "sg-1", Role: cloud.RoleNode, Aliases: []string{"node001", "node002", "node003"},
		InstanceType: "c7g.large", ImageID: "ami-1", KeyName: "k"}
	cases := []struct {
		name  string
		edit  func(*cloud.LaunchRequest)
		check func(t *testing.T, in *ec2.RunInstancesInput)
	}{
		{"defaults", func(*cloud.LaunchRequest) {}, func(t *testing.T, in *ec2.RunInstancesInput) {
			if aws.ToInt32(in.MinCount) != 3 || aws.ToInt32(in.MaxCount) != 3 || in.InstanceMarketOptions != nil ||
				len(in.SecurityGroupIds) != 1 || in.NetworkInterfaces != nil || in.IamInstanceProfile != nil || in.Placement != nil {
				t.Errorf("input %+v", in)
			}
			ebs := in.BlockDeviceMappings[0].Ebs
			if aws.ToString(in.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" || !aws.ToBool(ebs.Encrypted) ||
				!aws.ToBool(ebs.DeleteOnTermination) || ebs.VolumeType != types.VolumeTypeGp3 || ebs.VolumeSize != nil {
				t.Errorf("root mapping %+v", ebs)
			}
			if in.MetadataOptions.HttpTokens != types.HttpTokensStateRequired || len(in.TagSpecifications) != 2 {
				t.Errorf("metadata %+v, %d tag specs", in.MetadataOptions, len(in.TagSpecifications))
			}
		}},
		{"profile by name", func(r *cloud.LaunchRequest) { r.IAMProfile = "nodes" }, func(t *testing.T, in *ec2.RunInstancesInput) {
			if aws.ToString(in.IamInstanceProfile.Name) != "nodes" || in.IamInstanceProfile.Arn != nil {
				t.Errorf("profile %+v", in.IamInstanceProfile)
			}
		}},
		{"profile by arn", func(r *cloud.LaunchRequest) { r.IAMProfile = "arn:aws:iam::1:instance-profile/n" }, func(t *testing.T, in *ec2.RunInstancesInput) {
			if aws.ToString(in.IamInstanceProfile.Arn) != "arn:aws:iam::1:instance-profile/n" || in.IamInstanceProfile.Name != nil {
				t.Errorf("profile %+v", in.IamInstanceProfile)
			}
		}},
		{"subnet without public ip", func(r *cloud.LaunchRequest) { r.SubnetID = "subnet-1"; r.PublicIP = aws.Bool(false) }, func(t *testing.T, in *ec2.RunInstancesInput) {
			ni := in.NetworkInterfaces
			if len(ni) != 1 || aws.ToInt32(ni[0].DeviceIndex) != 0 || aws.ToString(ni[0].SubnetId) != "subnet-1" ||
				ni[0].Groups[0] != "sg-1" || ni[0].AssociatePublicIpAddress == nil || *ni[0].AssociatePublicIpAddress || in.SecurityGroupIds != nil {
				t.Errorf("interfaces %+v, groups %v", ni, in.SecurityGroupIds)
			}
		}},
		{"spot in a zone with a bigger root", func(r *cloud.LaunchRequest) { r.SpotPrice = "0.1"; r.Zone = "us-east-1d"; r.RootVolumeGB = 50 },
			func(t *testing.T, in *ec2.RunInstancesInput) {
				if aws.ToString(in.InstanceMarketOptions.SpotOptions.MaxPrice) != "0.1" || len(in.TagSpecifications) != 3 ||
					aws.ToString(in.Placement.AvailabilityZone) != "us-east-1d" || aws.ToInt32(in.BlockDeviceMappings[0].Ebs.VolumeSize) != 50 {
					t.Errorf("input %+v", in)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			tc.edit(&req)
			tc.check(t, runInput(req, len(req.Aliases), "/dev/xvda", []byte("ud"), "tok", map[string]string{cloud.TagAliases: "node001..node003"}))
		})
	}
}
