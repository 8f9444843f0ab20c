package ec2

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// Wait polls until every instance in ids is in state (running or stopped) and returns them
// sorted by alias. Each round is ONE DescribeInstances by the cluster tag (paginated at 1000),
// so the cost grows with the number of rounds, never with the number of nodes. Ids EC2 does not
// list yet (eventual consistency right after a launch) are simply "not yet". An instance that
// ends up terminated (or shutting down) instead is an error naming it and EC2's state reason,
// e.g. a spot instance reclaimed or a volume limit hit. Without a ctx deadline it gives up after
// cloud.DefaultWaitTimeout.
func (p *Provider) Wait(ctx context.Context, tag string, ids []string, state string) ([]cloud.Instance, error) {
	if state != cloud.StateRunning && state != cloud.StateStopped {
		return nil, fmt.Errorf("wait: unsupported state %q (want running or stopped)", state)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var (
		ready   []cloud.Instance
		pending map[string]string // id -> last seen state ("" = not visible yet)
	)
	err := poll(ctx, p.poll, func(ctx context.Context) (bool, error) {
		raw, err := p.describeInstances(ctx, clusterFilter(tag))
		if isCode(err, codeInstanceNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		seen := make(map[string]types.Instance, len(raw))
		for _, in := range raw {
			seen[aws.ToString(in.InstanceId)] = in
		}
		ready, pending = ready[:0], map[string]string{}
		var dead []error
		for _, id := range ids {
			in, ok := seen[id]
			if !ok {
				pending[id] = ""
				continue
			}
			inst := toInstance(in)
			switch {
			case inst.State == state:
				ready = append(ready, inst)
			case inst.State == cloud.StateTerminated || inst.State == cloud.StateShuttingDown:
				dead = append(dead, fmt.Errorf("instance %s (%s) is %s while waiting for %s: %s",
					id, inst.Alias, inst.State, state, stateReason(in)))
			default:
				pending[id] = inst.State
			}
		}
		if len(dead) > 0 {
			return false, errors.Join(dead...)
		}
		status := cloud.WaitStatus{Ready: len(ready), Total: len(ids), Pending: map[string]string{}}
		for id, st := range pending {
			name := id
			if in, ok := seen[id]; ok && toInstance(in).Alias != "" {
				name = toInstance(in).Alias
			}
			if st == "" {
				st = "not listed by EC2 yet"
			}
			status.Pending[name] = st
		}
		cloud.ReportWait(ctx, status)
		return len(pending) == 0, nil
	})
	if err != nil {
		if ctx.Err() != nil && len(pending) > 0 {
			return nil, fmt.Errorf("wait for %d instances of %s to be %s: still waiting for %s: %w",
				len(ids), tag, state, describePending(pending), err)
		}
		return nil, fmt.Errorf("wait for instances of %s to be %s: %w", tag, state, err)
	}
	cloud.SortInstances(ready)
	return ready, nil
}

// stateReason is EC2's explanation of a state change, for error messages.
func stateReason(in types.Instance) string {
	if in.StateReason != nil && aws.ToString(in.StateReason.Message) != "" {
		return aws.ToString(in.StateReason.Message)
	}
	if r := aws.ToString(in.StateTransitionReason); r != "" {
		return r
	}
	return "no reason given"
}

// describePending lists the instances still awaited with their last seen state.
func describePending(pending map[string]string) string {
	parts := make([]string, 0, len(pending))
	for id, st := range pending {
		if st == "" {
			st = "not visible yet"
		}
		parts = append(parts, id+" ("+st+")")
	}
	sort.Strings(parts)
	if len(parts) > 10 {
		parts = append(parts[:10], fmt.Sprintf("and %d more", len(parts)-10))
	}
	return strings.Join(parts, ", ")
}
