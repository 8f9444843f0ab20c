package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// NoCapacityError is a launch group EC2 had no capacity (or too high a spot price) for, in
// every zone and instance type the template allows. It names each one tried and what to
// change.
type NoCapacityError struct {
	Group string
	Tried []string
	Last  *cloud.CapacityError
}

func (e *NoCapacityError) Error() string {
	if len(e.Tried) == 1 {
		return fmt.Sprintf("launch %s: %v; %s", e.Group, e.Last, e.Last.Hint())
	}
	return fmt.Sprintf("launch %s: no capacity in any alternative the template lists (tried %s); last: %v; %s",
		e.Group, strings.Join(e.Tried, ", "), e.Last, e.Last.Hint())
}

func (e *NoCapacityError) Unwrap() error { return e.Last }

// launchGroup launches one group, trying the template's alternatives when EC2 has no capacity:
// first the zone given (the master's, the volumes'), then the other zones of
// AVAILABILITY_ZONE (without SUBNET_ID, which fixes the zone), and the same with each of
// NODE_INSTANCE_TYPE_ALTERNATIVES for a group of the workers' default type.
func (e *Engine) launchGroup(ctx context.Context, req cloud.LaunchRequest, plan Plan, g Group) ([]cloud.Instance, error) {
	r := plan.Record
	types := []string{g.Type}
	if g.Type == defaultNodeType(r) {
		for _, t := range r.NodeTypeAlternatives {
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	zones := []string{req.Zone}
	if r.SubnetID == "" {
		for _, z := range append([]string{r.Zone}, r.Zones...) {
			if z != "" && !slices.Contains(zones, z) {
				zones = append(zones, z)
			}
		}
	}
	var tried []string
	var last *cloud.CapacityError
	for _, typ := range types {
		for _, zone := range zones {
			try, name := req, g
			try.InstanceType, try.Zone, name.Type = typ, zone, typ
			label := "launch " + name.Describe()
			if len(tried) > 0 && zone != "" {
				label += " in " + zone
			}
			var got []cloud.Instance
			err := e.step(ctx, label, func(ctx context.Context, _ *ui.Step) error {
				var err error
				got, err = e.Provider.Launch(ctx, try)
				return err
			})
			var ce *cloud.CapacityError
			if err == nil || len(got) > 0 || !errors.As(err, &ce) {
				return got, err
			}
			last = ce
			tried = append(tried, fmt.Sprintf("%s in %s (%s)", typ, zoneName(zone), ce.Code))
			if e.Status != nil && len(tried) < len(types)*len(zones) {
				e.Status.Warnf("EC2 has no capacity for %s in %s (%s): trying the next alternative", typ, zoneName(zone), ce.Code)
			}
		}
	}
	return nil, &NoCapacityError{Group: g.Describe(), Tried: tried, Last: last}
}

func zoneName(z string) string {
	if z == "" {
		return "EC2's choice of zone"
	}
	return z
}
