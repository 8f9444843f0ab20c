package cluster

import (
	"reflect"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/config"
)

func TestNewPlan(t *testing.T) {
	bid := 0.03
	r := Record{ClusterSize: 8, MasterType: "m5.xlarge", MasterImage: "ami-m", NodeImage: "ami-n", SpotBid: &bid,
		NodeTypes: []config.InstanceSpec{{Type: "c5.2xlarge", Image: "ami-c", Count: 2}, {Type: "m5.large", Count: 1}, {Type: "m5.large"}}}
	p := NewPlan("t", r)
	want := []Group{
		{Role: cloud.RoleMaster, Type: "m5.xlarge", Image: "ami-m", Aliases: []string{"master"}},
		{Role: cloud.RoleNode, Type: "c5.2xlarge", Image: "ami-c", Aliases: []string{"node001", "node002"}, Spot: true},
		{Role: cloud.RoleNode, Type: "m5.large", Image: "ami-n", Aliases: []string{"node003", "node004", "node005", "node006", "node007"}, Spot: true},
	}
	if !reflect.DeepEqual(p.Groups, want) {
		t.Fatalf("groups:\n%+v\nwant\n%+v", p.Groups, want)
	}
	if p.SpotPrice(p.Groups[0]) != "" || p.SpotPrice(p.Groups[1]) != "0.03" {
		t.Errorf("master must be on-demand, workers spot at 0.03")
	}
	r.ForceSpotMaster, r.DNSPrefix = true, true
	p = NewPlan("t", r)
	if !p.Groups[0].Spot || p.Groups[0].Aliases[0] != "t-master" || p.Groups[1].Aliases[0] != "t-node001" {
		t.Errorf("force spot master / dns prefix: %+v", p.Groups)
	}
	missing := p.Missing(map[string]bool{"t-master": true, "t-node001": true, "t-node003": true})
	if len(missing) != 2 || !reflect.DeepEqual(missing[0].Aliases, []string{"t-node002"}) || len(missing[1].Aliases) != 4 {
		t.Errorf("missing: %+v", missing)
	}
	if got := NewPlan("t", Record{ClusterSize: 1, MasterType: "m", NodeTypes: []config.InstanceSpec{{Type: "m"}}}); len(got.Groups) != 1 {
		t.Errorf("a one-instance cluster is the master alone: %+v", got.Groups)
	}
}
