package ec2

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Batch sizes: EC2 accepts up to 1000 ids per state-change call and 200 values per filter.
const (
	idsPerCall   = 1000
	idsPerFilter = 200
)

// Start starts stopped instances; Wait(..., running) follows it.
func (p *Provider) Start(ctx context.Context, ids []string) error {
	for _, batch := range chunks(ids, idsPerCall) {
		if _, err := p.api.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: batch}); err != nil {
			return fmt.Errorf("start %d instances: %w", len(batch), err)
		}
	}
	return nil
}

// Stop stops instances (EBS-backed on-demand ones; the engine terminates spot instances, which
// cannot be stopped); Wait(..., stopped) follows it.
func (p *Provider) Stop(ctx context.Context, ids []string) error {
	for _, batch := range chunks(ids, idsPerCall) {
		if _, err := p.api.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: batch}); err != nil {
			return fmt.Errorf("stop %d instances: %w", len(batch), err)
		}
	}
	return nil
}

// Reboot reboots instances in place.
func (p *Provider) Reboot(ctx context.Context, ids []string) error {
	for _, batch := range chunks(ids, idsPerCall) {
		if _, err := p.api.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: batch}); err != nil {
			return fmt.Errorf("reboot %d instances: %w", len(batch), err)
		}
	}
	return nil
}

// Terminate cancels the spot requests behind the instances first (so EC2 does not launch a
// replacement for a persistent request), terminates them, and waits until every one is
// terminated or gone, so the cluster's security group can be deleted right after.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	insts, err := p.instancesByID(ctx, ids)
	if err != nil {
		return fmt.Errorf("terminate: %w", err)
	}
	var spot, live []string
	for _, in := range insts {
		if in.SpotRequestID != "" {
			spot = append(spot, in.SpotRequestID)
		}
		if in.State != cloud.StateTerminated {
			live = append(live, in.ID)
		}
	}
	for _, batch := range chunks(spot, idsPerCall) {
		_, err := p.api.CancelSpotInstanceRequests(ctx, &ec2.CancelSpotInstanceRequestsInput{SpotInstanceRequestIds: batch})
		if err != nil && !isCode(err, codeSpotNotFound) {
			return fmt.Errorf("cancel %d spot requests: %w", len(batch), err)
		}
	}
	p.markRemoved(ctx, live)
	for _, batch := range chunks(live, idsPerCall) {
		_, err := p.api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: batch})
		if err != nil && !isCode(err, codeInstanceNotFound) {
			return fmt.Errorf("terminate %d instances: %w", len(batch), err)
		}
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var left []string
	err = poll(ctx, p.poll, func(ctx context.Context) (bool, error) {
		now, err := p.instancesByID(ctx, live)
		if err != nil {
			return false, err
		}
		left = left[:0]
		for _, in := range now {
			if in.State != cloud.StateTerminated {
				left = append(left, in.ID+" ("+in.State+")")
			}
		}
		return len(left) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("wait for termination of %v: %w", left, err)
	}
	return nil
}

// instancesByID describes instances by id through the instance-id filter (one call per 200
// ids), which, unlike InstanceIds, does not fail when EC2 no longer (or not yet) knows an id.
func (p *Provider) instancesByID(ctx context.Context, ids []string) ([]cloud.Instance, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var out []cloud.Instance
	for _, batch := range chunks(ids, idsPerFilter) {
		raw, err := p.describeInstances(ctx, filter("instance-id", batch...))
		if err != nil {
			return nil, err
		}
		for _, in := range raw {
			out = append(out, toInstance(in))
		}
	}
	return out, nil
}
