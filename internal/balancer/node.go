package balancer

import (
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// Node is one machine of the cluster as the provider lists it. The balancer counts nodes from
// these, not from scheduler hosts, so a node that is still booting (not yet a host) counts and
// is not bought twice.
type Node struct {
	// Alias is the node's name (master, node001, TAG-node002), the scheduler's host name.
	Alias string
	// Master nodes are never removed and count toward MinNodes.
	Master bool
	// LaunchTime is when the machine started.
	LaunchTime time.Time
	// Gone marks a machine the provider reports terminated, shutting down or dead (an outbid
	// spot node): it no longer counts, and its host is removed from the scheduler.
	Gone bool
}

// NodesFromInstances converts the provider's instances, so the engine hands the loop what it
// already has.
func NodesFromInstances(insts []cloud.Instance) []Node {
	out := make([]Node, 0, len(insts))
	for _, in := range insts {
		out = append(out, Node{Alias: in.Alias, Master: in.Role == cloud.RoleMaster,
			LaunchTime: in.LaunchTime, Gone: !in.Alive()})
	}
	return out
}

// aliasNumber is the number at the end of an alias (node007 -> 7, tag-node1000 -> 1000), 0 when
// there is none; removal takes the highest first, the most recently added node.
func aliasNumber(alias string) int {
	end := len(alias)
	start := strings.LastIndexFunc(alias, func(r rune) bool { return r < '0' || r > '9' }) + 1
	if start == end {
		return 0
	}
	n, err := strconv.Atoi(alias[start:end])
	if err != nil {
		return 0
	}
	return n
}

// newestFirst orders aliases highest number first, then by name descending, so removal takes
// the most recently added nodes and the order is stable.
func newestFirst(aliases []string) {
	sort.SliceStable(aliases, func(i, j int) bool {
		ni, nj := aliasNumber(aliases[i]), aliasNumber(aliases[j])
		if ni != nj {
			return ni > nj
		}
		return aliases[i] > aliases[j]
	})
}

// History is what the balancer remembers between iterations: the scheduler snapshot alone
// cannot tell how long a node has been idle or when the cluster last changed. It lives in
// memory only; a restarted balancer starts cautious (every node idle since its first look).
type History struct {
	// LastChange is when the balancer last added or removed nodes (zero: never), the start
	// of the stabilization window.
	LastChange time.Time
	// IdleSince maps each live node's alias to when it was first seen running no job;
	// a busy node has no entry.
	IdleSince map[string]time.Time
}

// Observe returns h updated with one more look at the cluster at now: busy nodes lose their
// idle mark, newly idle ones get now, and nodes that are gone are forgotten. It does not
// modify h, so the policy stays a function of its inputs.
func (h History) Observe(st scheduler.Stats, nodes []Node, now time.Time) History {
	out := History{LastChange: h.LastChange, IdleSince: make(map[string]time.Time, len(nodes))}
	used := map[string]bool{}
	for _, host := range st.Hosts {
		if host.UsedSlots > 0 {
			used[host.Name] = true
		}
	}
	for _, n := range nodes {
		if n.Gone || used[n.Alias] || st.Busy(n.Alias) {
			continue
		}
		if since, ok := h.IdleSince[n.Alias]; ok {
			out.IdleSince[n.Alias] = since
		} else {
			out.IdleSince[n.Alias] = now
		}
	}
	return out
}

// Changed returns h with a change (add or remove) recorded at now; removed nodes lose their
// idle mark so a node that comes back under the same alias starts afresh.
func (h History) Changed(now time.Time, removed []string) History {
	out := History{LastChange: now, IdleSince: maps.Clone(h.IdleSince)}
	for _, a := range removed {
		delete(out.IdleSince, a)
	}
	return out
}

// idleFor is how long alias has been idle at now, and false when it is not known to be idle.
func (h History) idleFor(alias string, now time.Time) (time.Duration, bool) {
	since, ok := h.IdleSince[alias]
	if !ok {
		return 0, false
	}
	return now.Sub(since), true
}
