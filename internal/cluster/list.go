package cluster

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Info is one cluster as listclusters shows it: StarCluster's fields, from the provider.
type Info struct {
	Tag          string           `json:"tag"`
	Group        string           `json:"security_group"`
	Template     string           `json:"template,omitempty"`
	Description  string           `json:"description,omitempty"`
	LaunchTime   time.Time        `json:"launch_time"`
	Uptime       string           `json:"uptime"`
	VPC          string           `json:"vpc,omitempty"`
	Subnet       string           `json:"subnet,omitempty"`
	Zone         string           `json:"zone,omitempty"`
	KeyPair      string           `json:"keypair,omitempty"`
	Volumes      []cloud.Volume   `json:"volumes"`
	SpotRequests SpotSummary      `json:"spot_requests"`
	Nodes        []cloud.Instance `json:"nodes"`
	Total        int              `json:"total_nodes"`
}

// SpotSummary counts the spot requests behind a cluster's instances.
type SpotSummary struct {
	Active int `json:"active"`
}

// List describes the clusters with the given tags, or all of them.
func (e *Engine) List(ctx context.Context, tags ...string) ([]Info, error) {
	for _, t := range tags {
		if err := CheckTagName(t); err != nil {
			return nil, err
		}
	}
	clusters, err := e.Provider.ListClusters(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, t := range tags {
		want[t] = true
	}
	var out []Info
	for _, c := range clusters {
		if len(want) > 0 && !want[c.Tag] {
			continue
		}
		info, err := e.describe(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	for _, t := range tags {
		found := false
		for _, c := range clusters {
			found = found || c.Tag == t
		}
		if !found {
			return out, e.NotFound(ctx, t)
		}
	}
	return out, nil
}

func (e *Engine) describe(ctx context.Context, c cloud.Cluster) (Info, error) {
	info := Info{Tag: c.Tag, Group: c.GroupName, VPC: c.VPCID, LaunchTime: c.CreatedAt, Volumes: []cloud.Volume{}, Nodes: []cloud.Instance{}}
	if rec, err := DecodeRecord(c.Recorded); err == nil {
		info.Template = rec.Template
		info.Description = rec.Description
		info.KeyPair = rec.KeyName
	} else if _, gerr := e.Provider.GetCluster(ctx, c.Tag); gerr != nil {
		e.warnOnce(gerr.Error()) // a listing drops the record's error
	}
	insts, err := e.instances(ctx, c.Tag, &c)
	var dup *DuplicateAliasError
	if errors.As(err, &dup) {
		e.warnOnce(err.Error()) // a listing shows them all
	} else if err != nil {
		return info, err
	}
	info.Nodes, info.Total = insts, len(insts)
	ids := map[string]bool{}
	for _, in := range insts {
		ids[in.ID] = true
		if in.Role == cloud.RoleMaster || info.Zone == "" {
			info.Zone, info.Subnet = in.Zone, in.SubnetID
			if in.VPCID != "" {
				info.VPC = in.VPCID
			}
			if info.KeyPair == "" {
				info.KeyPair = in.KeyName
			}
		}
		if in.SpotRequestID != "" && in.State != cloud.StateTerminated {
			info.SpotRequests.Active++
		}
		if info.LaunchTime.IsZero() || (!in.LaunchTime.IsZero() && in.LaunchTime.Before(info.LaunchTime)) {
			info.LaunchTime = in.LaunchTime
		}
	}
	if len(insts) > 0 {
		vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{State: "in-use"})
		if err != nil {
			return info, err
		}
		for _, v := range vols {
			if ids[v.AttachedTo] && v.Tags[cloud.TagCluster] != c.Tag {
				info.Volumes = append(info.Volumes, v)
			}
		}
		sort.Slice(info.Volumes, func(i, j int) bool { return info.Volumes[i].ID < info.Volumes[j].ID })
	}
	if !info.LaunchTime.IsZero() {
		info.Uptime = e.now().Sub(info.LaunchTime).Round(time.Second).String()
	}
	return info, nil
}
