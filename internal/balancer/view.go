package balancer

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// view is one iteration's inputs digested into what both policies reason about: which nodes
// count, which hosts vanished, which queued jobs could run somewhere, and how big a node is.
type view struct {
	live        []Node // counted nodes, master included
	masterAlive bool
	vanished    []string
	runnable    []scheduler.Job // queued jobs some host could run, oldest first
	queuedSlots int             // slots the runnable jobs need
	tooBigMem   int             // queued jobs asking more memory than any host has
	tooBigSlots int             // queued jobs asking more slots than any host has
	freeSlots   int
	oldestWait  time.Duration // of the runnable jobs, on the scheduler's clock
	perNode     int           // slots one new node is expected to bring
}

// newView digests the snapshot. Scheduler hosts are matched to nodes by alias.
func newView(in Input) view {
	var v view
	st := in.Stats
	hosts := map[string]scheduler.Host{}
	for _, h := range st.Hosts {
		hosts[h.Name] = h
	}
	listed := map[string]bool{}
	masters := map[string]bool{}
	gone := map[string]bool{}
	for _, n := range in.Nodes {
		listed[n.Alias] = true
		if n.Master {
			masters[n.Alias] = true
		}
		h, isHost := hosts[n.Alias]
		switch {
		case n.Gone && !n.Master:
			gone[n.Alias] = true
		case n.Gone:
		case isHost && h.Unreachable && !n.Master:
			gone[n.Alias] = true
		default:
			v.live = append(v.live, n)
			v.masterAlive = v.masterAlive || n.Master
		}
	}
	for _, h := range st.Hosts {
		orphan := !listed[h.Name] && h.UsedSlots == 0 && !st.Busy(h.Name)
		if !masters[h.Name] && (h.Unreachable || orphan) {
			gone[h.Name] = true
		}
	}
	if v.masterAlive { // without a master there is no scheduler to clean up
		for a := range gone {
			v.vanished = append(v.vanished, a)
		}
		sort.Strings(v.vanished)
	}

	maxSlots, maxMem, memKnown := in.Settings.NodeSlots, in.Settings.NodeMemory, in.Settings.NodeMemory > 0
	var shapes, workerShapes []int
	allMemKnown := true
	for _, h := range st.Hosts {
		if h.Unreachable || gone[h.Name] {
			continue
		}
		maxSlots, maxMem = max(maxSlots, h.Slots), max(maxMem, h.Memory)
		allMemKnown = allMemKnown && h.Memory > 0
		if h.Disabled || h.Slots <= 0 {
			continue
		}
		v.freeSlots += max(h.Slots-h.UsedSlots, 0)
		shapes = append(shapes, h.Slots)
		if !masters[h.Name] {
			workerShapes = append(workerShapes, h.Slots)
		}
	}
	memKnown = memKnown || (allMemKnown && maxMem > 0)
	for _, j := range st.Queued() {
		slots := int64(max(j.Slots, 1))
		switch {
		case maxSlots > 0 && slots > int64(maxSlots):
			v.tooBigSlots++
		case memKnown && j.Memory > 0 && j.Memory*slots > maxMem:
			v.tooBigMem++
		default:
			v.runnable = append(v.runnable, j)
			v.queuedSlots += int(slots)
		}
	}
	if len(v.runnable) > 0 && !v.runnable[0].Submitted.IsZero() {
		ref := st.Time
		if ref.IsZero() {
			ref = in.Now
		}
		v.oldestWait = max(ref.Sub(v.runnable[0].Submitted), 0)
	}
	v.perNode = in.Settings.NodeSlots
	if v.perNode <= 0 {
		v.perNode = lowerMedian(workerShapes)
	}
	if v.perNode <= 0 {
		v.perNode = max(lowerMedian(shapes), 1)
	}
	return v
}

// lowerMedian is the middle value (the lower of the two middles), 0 for none. The median of
// the workers' slots sizes a new node: mixed instance types (2, 4 and 8 slots) give a
// sensible 4 instead of StarCluster's "Number of slots not consistent across cluster".
func lowerMedian(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	return s[(len(s)-1)/2]
}

// never describes the queued jobs no host can run, "" when there are none, for the reason.
func (v view) never() string {
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{v.tooBigMem, "memory"}, {v.tooBigSlots, "slots"}} {
		switch {
		case c.n == 1:
			parts = append(parts, "1 job can never run: it asks more "+c.what+" than any host has")
		case c.n > 1:
			parts = append(parts, fmt.Sprintf("%d jobs can never run: they ask more %s than any host has", c.n, c.what))
		}
	}
	return strings.Join(parts, "; ")
}

// workers are the counted nodes other than the master.
func (v view) workers() []Node {
	var out []Node
	for _, n := range v.live {
		if !n.Master {
			out = append(out, n)
		}
	}
	return out
}
