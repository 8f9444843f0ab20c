package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// A node vanishes when its machine goes away without clusterctl removing it: EC2 takes a spot
// instance back (with two minutes' notice or none), someone terminates it from the console, a
// local container is killed. The scheduler, the other nodes' /etc/hosts and the master's
// exports still name it until `repair` (or the balancer) cleans up after it.

// VanishedNode is a node that is gone though clusterctl did not remove it.
type VanishedNode struct {
	Alias string
	// Instance is the instance as last listed; its ID is empty for a node that only the
	// scheduler still names (its instance is listed no more).
	Instance cloud.Instance
	// Why says what happened, in words.
	Why string
}

// vanishedWhy says why in counts as vanished, or "" when it does not: a dead container, an
// instance shutting down or terminated that clusterctl did not terminate (Gone lists those).
func vanishedWhy(in cloud.Instance) string {
	reason := printable(in.StateReason)
	switch in.State {
	case cloud.StateDead:
		if reason == "" {
			reason = "its machine died"
		}
		return reason
	case cloud.StateShuttingDown, cloud.StateTerminated:
		if reason == "" {
			return "it was terminated outside clusterctl"
		}
		return "it was terminated outside clusterctl (" + reason + ")"
	}
	return ""
}

// vanishedNodes finds the vanished nodes among the cluster's members and the terminated
// instances the provider still remembers (gone). A gone instance whose alias a member has
// taken since (a replacement) is not vanished.
func vanishedNodes(members, gone []cloud.Instance) []VanishedNode {
	var out []VanishedNode
	taken := map[string]bool{}
	for _, in := range members {
		if why := vanishedWhy(in); why != "" {
			out = append(out, VanishedNode{Alias: in.Alias, Instance: in, Why: why})
			continue
		}
		taken[in.Alias] = true
	}
	seen := map[string]bool{}
	for _, v := range out {
		seen[v.Alias] = true
	}
	for _, in := range gone {
		if in.Alias == "" || taken[in.Alias] || seen[in.Alias] || tagProblem("", nil, in) != "" {
			continue
		}
		seen[in.Alias] = true
		out = append(out, VanishedNode{Alias: in.Alias, Instance: in, Why: vanishedWhy(in)})
	}
	return out
}

// gone asks the provider for the cluster's instances terminated outside clusterctl, at most
// once a minute per command.
func (e *Engine) gone(ctx context.Context, tag string) []cloud.Instance {
	g, ok := e.Provider.(cloud.GoneLister)
	if !ok {
		return nil
	}
	if v, ok := e.goneCache.Load(tag); ok && e.now().Sub(v.(goneList).at) < goneFresh {
		return v.(goneList).insts
	}
	insts, err := g.Gone(ctx, tag)
	if err != nil {
		e.log().Debug("terminated instances not listed", "cluster", tag, "error", err.Error())
		return nil
	}
	e.goneCache.Store(tag, goneList{at: e.now(), insts: insts})
	return insts
}

// goneFresh is how long a command (a balancer runs for days) reuses its list of instances
// terminated outside clusterctl before asking again.
const goneFresh = time.Minute

// goneList is a cluster's instances terminated outside clusterctl, as asked at a time.
type goneList struct {
	at    time.Time
	insts []cloud.Instance
}

// noteVanished warns, once per command, about each vanished node and each worker stopped while
// the master runs, saying what clusterctl does about it.
func (e *Engine) noteVanished(ctx context.Context, tag string, members []cloud.Instance) {
	masterRuns := false
	for _, in := range members {
		masterRuns = masterRuns || (in.Role == cloud.RoleMaster && in.State == cloud.StateRunning)
	}
	for _, v := range vanishedNodes(members, e.gone(ctx, tag)) {
		e.warnOnce(vanishedMessage(tag, v))
	}
	for _, in := range members {
		if masterRuns && in.Role != cloud.RoleMaster && in.State == cloud.StateStopped {
			e.warnOnce(fmt.Sprintf("%s (%s) was stopped outside clusterctl while the cluster runs; `clusterctl start -x %s` starts it again, "+
				"`clusterctl removenode %s %s` removes it", in.Alias, in.ID, tag, tag, in.Alias))
		}
	}
}

// vanishedMessage is the warning about one vanished node: what happened and the way out.
func vanishedMessage(tag string, v VanishedNode) string {
	id := v.Instance.ID
	if id == "" {
		id = "no instance"
	}
	msg := fmt.Sprintf("%s (%s) vanished: %s; ", v.Alias, id, v.Why)
	if v.Instance.Role == cloud.RoleMaster {
		if v.Instance.State == cloud.StateDead {
			return msg + fmt.Sprintf("`clusterctl start -x %s` starts it again", tag)
		}
		return msg + fmt.Sprintf("the cluster cannot work without its master: `clusterctl terminate %s` removes the rest", tag)
	}
	return msg + fmt.Sprintf("`clusterctl repair %s` takes it out of the cluster and requeues its jobs (with --replace it also launches a node in its place)", tag)
}

// printable keeps a provider's text to one line of printable characters, at most 200: it is
// read back from the cloud and only ever shown.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.TrimSpace(s)
}
