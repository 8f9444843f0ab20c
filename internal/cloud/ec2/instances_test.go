package ec2

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestSortInstancesByAlias(t *testing.T) {
	want := []string{"master", "node", "node001", "node002", "node010", "node999", "node1000", "node1001", "volhost-us-east-1a", ""}
	cases := []struct {
		name string
		seed uint64
	}{{"shuffle 1", 1}, {"shuffle 2", 2}, {"shuffle 3", 3}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			insts := make([]cloud.Instance, len(want))
			for i, a := range want {
				insts[i] = cloud.Instance{ID: "i-" + a, Alias: a}
			}
			r := rand.New(rand.NewPCG(tc.seed, 0))
			r.Shuffle(len(insts), func(i, j int) { insts[i], insts[j] = insts[j], insts[i] })
			cloud.SortInstances(insts)
			got := make([]string, len(insts))
			for i, in := range insts {
				got[i] = in.Alias
			}
			if !slices.Equal(got, want) {
				t.Fatalf("order %q, want %q", got, want)
			}
		})
	}
}

func TestToInstance(t *testing.T) {
	cases := []struct {
		name string
		in   types.Instance
		want cloud.Instance
	}{
		{
			name: "spot node",
			in: types.Instance{
				InstanceId: aws.String("i-1"), InstanceLifecycle: types.InstanceLifecycleTypeSpot,
				SpotInstanceRequestId: aws.String("sir-1"), State: &types.InstanceState{Name: types.InstanceStateNameRunning},
				Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1b")}, PrivateIpAddress: aws.String("10.0.0.5"),
				Tags: tagList(map[string]string{cloud.TagCluster: "c", cloud.TagAlias: "node001", cloud.TagRole: "node"}),
			},
			want: cloud.Instance{ID: "i-1", Cluster: "c", Alias: "node001", Role: cloud.RoleNode, State: "running",
				Lifecycle: cloud.Spot, SpotRequestID: "sir-1", Zone: "us-east-1b", PrivateIP: "10.0.0.5"},
		},
		{
			name: "untagged on-demand",
			in:   types.Instance{InstanceId: aws.String("i-2"), State: &types.InstanceState{Name: types.InstanceStateNameStopped}},
			want: cloud.Instance{ID: "i-2", State: "stopped", Lifecycle: cloud.OnDemand},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := toInstance(tc.in)
			got.Tags = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
