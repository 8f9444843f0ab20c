package ec2

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestClusterLifecycle(t *testing.T) {
	bigRecord := bytes.Repeat([]byte(`{"plugin":"ipcluster","n":12345678},`), 200) // several chunks
	cases := []struct {
		name     string
		spec     cloud.GroupSpec
		wantCIDR []string // ingress CIDRs moto must hold, besides the self rule
	}{
		{name: "no rules", spec: cloud.GroupSpec{Tag: "bare", Recorded: []byte(`{"cluster_size":2}`)}},
		{name: "ssh and http", spec: cloud.GroupSpec{Tag: "web", Recorded: bigRecord, Rules: []cloud.Rule{
			{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "203.0.113.0/24"},
			{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDR: "0.0.0.0/0"},
		}}, wantCIDR: []string{"203.0.113.0/24", "0.0.0.0/0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c, err := e.p.CreateCluster(e.ctx, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if c.GroupName != "@sc-"+tc.spec.Tag || c.GroupID == "" || c.VPCID == "" {
				t.Fatalf("created %+v", c)
			}

			// What moto holds: name, description, tags, rules.
			out, err := e.raw.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{c.GroupID}})
			if err != nil {
				t.Fatal(err)
			}
			g := out.SecurityGroups[0]
			wantDesc := "clusterctl cluster " + tc.spec.Tag
			if len(tc.spec.Recorded) > 0 {
				wantDesc += " " + cloud.RecordSeal(tc.spec.Recorded) // the record's seal
			}
			if aws.ToString(g.Description) != wantDesc || aws.ToString(g.VpcId) != c.VPCID {
				t.Errorf("group description %q vpc %q", aws.ToString(g.Description), aws.ToString(g.VpcId))
			}
			tags := tagMap(g.Tags)
			if tags[cloud.TagCluster] != tc.spec.Tag || tags[cloud.TagVersion] != "test" || tags[cloud.TagName] != c.GroupName {
				t.Errorf("group tags %v", tags)
			}
			for k, v := range tags {
				if len(v) > cloud.MaxTagValue {
					t.Errorf("tag %s is %d chars", k, len(v))
				}
			}
			assertIngress(t, g, c.GroupID, tc.wantCIDR)

			got, err := e.p.GetCluster(e.ctx, tc.spec.Tag)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Recorded, tc.spec.Recorded) || got.GroupID != c.GroupID || got.CreatedAt.IsZero() {
				t.Fatalf("GetCluster = %+v, record %d bytes", got, len(got.Recorded))
			}
			list, err := e.p.ListClusters(e.ctx)
			if err != nil || len(list) != 1 || list[0].Tag != tc.spec.Tag || !bytes.Equal(list[0].Recorded, tc.spec.Recorded) {
				t.Fatalf("ListClusters = %+v, %v", list, err)
			}

			if _, err := e.p.CreateCluster(e.ctx, tc.spec); !errors.Is(err, cloud.ErrExists) {
				t.Fatalf("second create: %v, want ErrExists", err)
			}
			if err := e.p.DeleteCluster(e.ctx, tc.spec.Tag); err != nil {
				t.Fatal(err)
			}
			if _, err := e.p.GetCluster(e.ctx, tc.spec.Tag); !errors.Is(err, cloud.ErrNotFound) {
				t.Fatalf("get after delete: %v, want ErrNotFound", err)
			}
			left, err := e.raw.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{
				Filters: []types.Filter{filter("group-name", c.GroupName)}})
			if err != nil || len(left.SecurityGroups) != 0 {
				t.Fatalf("group still in moto: %v, %v", left, err)
			}
			if err := e.p.DeleteCluster(e.ctx, tc.spec.Tag); err != nil {
				t.Fatalf("deleting a missing cluster: %v", err)
			}
		})
	}
}

// assertIngress checks the group allows everything from itself and exactly the wanted CIDRs.
func assertIngress(t *testing.T, g types.SecurityGroup, groupID string, wantCIDR []string) {
	t.Helper()
	self := false
	var cidrs []string
	for _, perm := range g.IpPermissions {
		for _, pair := range perm.UserIdGroupPairs {
			if aws.ToString(pair.GroupId) == groupID && aws.ToString(perm.IpProtocol) == "-1" {
				self = true
			}
		}
		for _, r := range perm.IpRanges {
			cidrs = append(cidrs, aws.ToString(r.CidrIp))
		}
	}
	if !self {
		t.Errorf("no all-traffic rule from the group itself: %+v", g.IpPermissions)
	}
	if !slices.Equal(slices.Sorted(slices.Values(cidrs)), slices.Sorted(slices.Values(wantCIDR))) {
		t.Errorf("ingress cidrs %v, want %v", cidrs, wantCIDR)
	}
}
