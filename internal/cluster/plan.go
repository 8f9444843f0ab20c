package cluster

import (
	"fmt"
	"strconv"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Group is one (role, instance type, image) launch group: one API call however many instances
// it holds.
type Group struct {
	Role    cloud.Role
	Type    string
	Image   string
	Aliases []string
	Spot    bool
}

// Plan is what start will create: the launch groups in order (master first) and the ingress
// rules. It is a pure function of the record, so a dry run, a real start and a resume agree.
type Plan struct {
	Tag    string
	Record Record
	Groups []Group
}

// NewPlan lays out a cluster: the master alone in the first group, then the workers grouped by
// (type, image) in NODE_INSTANCE_TYPE order, the remaining workers on the default type.
func NewPlan(tag string, r Record) Plan {
	p := Plan{Tag: tag, Record: r}
	bid := r.SpotBid != nil
	p.Groups = append(p.Groups, Group{Role: cloud.RoleMaster, Type: r.MasterType, Image: r.MasterImage,
		Aliases: []string{r.MasterAliasFor(tag)}, Spot: bid && r.ForceSpotMaster})
	next := 1
	add := func(typ, image string, n int) {
		if n <= 0 {
			return
		}
		if image == "" {
			image = r.NodeImage
		}
		aliases := make([]string, n)
		for i := range aliases {
			aliases[i] = Prefixed(tag, NodeAlias(next), r.DNSPrefix)
			next++
		}
		for i := range p.Groups {
			g := &p.Groups[i]
			if g.Role == cloud.RoleNode && g.Type == typ && g.Image == image {
				g.Aliases = append(g.Aliases, aliases...)
				return
			}
		}
		p.Groups = append(p.Groups, Group{Role: cloud.RoleNode, Type: typ, Image: image, Aliases: aliases, Spot: bid})
	}
	counted, def := 0, ""
	for _, s := range r.NodeTypes {
		if s.Count == 0 {
			def = s.Type
			continue
		}
		add(s.Type, s.Image, s.Count)
		counted += s.Count
	}
	add(def, r.NodeImage, r.ClusterSize-1-counted)
	return p
}

// Aliases lists every planned alias, master first.
func (p Plan) Aliases() []string {
	var out []string
	for _, g := range p.Groups {
		out = append(out, g.Aliases...)
	}
	return out
}

// Missing returns the plan's groups restricted to aliases not in existing, for resuming a start
// that stopped half way.
func (p Plan) Missing(existing map[string]bool) []Group {
	var out []Group
	for _, g := range p.Groups {
		var aliases []string
		for _, a := range g.Aliases {
			if !existing[a] {
				aliases = append(aliases, a)
			}
		}
		if len(aliases) > 0 {
			g.Aliases = aliases
			out = append(out, g)
		}
	}
	return out
}

// SpotPrice is the bid as the provider wants it, or "" for on-demand.
func (p Plan) SpotPrice(g Group) string {
	if !g.Spot || p.Record.SpotBid == nil {
		return ""
	}
	return strconv.FormatFloat(*p.Record.SpotBid, 'f', -1, 64)
}

// Describe is a one-line summary of a group for status lines and dry runs.
func (g Group) Describe() string {
	kind := "on-demand"
	if g.Spot {
		kind = "spot"
	}
	what := "master"
	if g.Role == cloud.RoleNode {
		what = fmt.Sprintf("%d node", len(g.Aliases))
		if len(g.Aliases) != 1 {
			what += "s"
		}
	}
	return fmt.Sprintf("%s (%s, %s, %s)", what, g.Type, g.Image, kind)
}
