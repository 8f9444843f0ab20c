package balancer

import (
	"fmt"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// Input is everything one decision depends on. Decide reads nothing else (no clock, no
// network), so every rule is tested by building an Input.
type Input struct {
	// Stats is the scheduler snapshot; its Time is the scheduler's clock, used for job waits
	// so a skewed workstation clock does not distort them.
	Stats scheduler.Stats
	// Nodes are the cluster's machines as the provider lists them (master included).
	Nodes []Node
	// History is what earlier iterations saw and did (History.Observe already applied).
	History History
	// Settings are the knobs.
	Settings Settings
	// Now is the balancer's clock, the one History's times are on.
	Now time.Time
	// Metric is the load-table metric (PolicyTable only), fetched by the caller.
	Metric float64
}

// Decide is the balancer's policy: what to do with the cluster now. It dispatches on
// Settings.Policy, reports vanished hosts whatever the action, and says in the reason which
// queued jobs it ignored because no host could ever run them.
func Decide(in Input) Decision {
	v := newView(in)
	var d Decision
	switch {
	case !v.masterAlive:
		d = Decision{Action: Nothing, Reason: "the master is not running: nothing to balance"}
	case in.Settings.Policy == PolicyTable:
		d = decideTable(in, v)
	default:
		d = decideQueue(in, v)
	}
	d.Vanished, d.Nodes = v.vanished, len(v.live)
	if len(v.vanished) > 0 {
		d.Reason += fmt.Sprintf("; %s vanished (machine gone or unreachable)", plural(len(v.vanished), "host"))
	}
	if note := v.never(); note != "" {
		d.Reason += "; " + note + " (ignored)"
	}
	return d
}

// decideQueue is StarCluster's queue-driven policy, improved: grow by the slots waiting jobs
// need, shrink by idle time rather than billing hour, and end the cluster with -K.
func decideQueue(in Input, v view) Decision {
	s, h, now := in.Settings, in.History, in.Now
	cur, minN := len(v.live), s.minNodes()
	room := s.MaxNodes - cur
	grow, why := growth(s, v, room)
	if cur < minN && room > 0 {
		k := min(max(minN-cur, grow), room)
		return Decision{Action: Add, Add: k,
			Reason: fmt.Sprintf("%s < min nodes %d: adding %d", plural(cur, "node"), minN, k)}
	}
	if !h.LastChange.IsZero() && now.Sub(h.LastChange) < s.StabilizationTime {
		return Decision{Action: Nothing, Reason: fmt.Sprintf("stabilizing: last change %s ago < %s (%s)",
			now.Sub(h.LastChange), s.StabilizationTime, why)}
	}
	if grow > 0 {
		return Decision{Action: Add, Add: grow, Reason: why}
	}
	if len(v.runnable) > 0 {
		return Decision{Action: Nothing, Reason: why}
	}
	workers := v.workers()
	if s.KillCluster && len(workers) == 0 {
		return killCluster(in, v)
	}
	if cur <= minN {
		return Decision{Action: Nothing, Reason: fmt.Sprintf("queue empty; %s = min nodes", plural(cur, "node"))}
	}
	var idle []string
	for _, n := range workers {
		if d, ok := h.idleFor(n.Alias, now); ok && d >= s.KillAfter && !in.Stats.Busy(n.Alias) {
			idle = append(idle, n.Alias)
		}
	}
	if len(idle) == 0 {
		return Decision{Action: Nothing, Reason: fmt.Sprintf("queue empty; no node idle for %s yet", s.KillAfter)}
	}
	newestFirst(idle)
	idle = idle[:min(len(idle), cur-minN)]
	return Decision{Action: Remove, Remove: idle, Reason: fmt.Sprintf(
		"queue empty; %s idle for %s or more (%s, min nodes %d)",
		plural(len(idle), "node"), s.KillAfter, plural(cur, "node"), minN)}
}

// growth is how many nodes the waiting jobs need now (0 when they do not justify any), with the
// reason either way. Nodes cover the slots the free ones cannot, at the estimated slots per
// node, capped by AddNodesPerIter and the room left under MaxNodes.
func growth(s Settings, v view, room int) (int, string) {
	if len(v.runnable) == 0 {
		return 0, "no runnable job queued"
	}
	waiting := fmt.Sprintf("%d queued slots (%s)", v.queuedSlots, plural(len(v.runnable), "job"))
	if v.queuedSlots <= v.freeSlots {
		return 0, fmt.Sprintf("%s fit in %d free slots", waiting, v.freeSlots)
	}
	if v.oldestWait < s.JobWaitTime {
		return 0, fmt.Sprintf("%s > %d free slots, oldest waited %s < job wait time %s",
			waiting, v.freeSlots, v.oldestWait, s.JobWaitTime)
	}
	if room <= 0 {
		return 0, fmt.Sprintf("%s waiting %s, but the cluster is at max nodes %d", waiting, v.oldestWait, s.MaxNodes)
	}
	missing := v.queuedSlots - v.freeSlots
	need := (missing + v.perNode - 1) / v.perNode
	k, capped := need, ""
	if s.AddNodesPerIter > 0 && k > s.AddNodesPerIter {
		k, capped = s.AddNodesPerIter, fmt.Sprintf(", capped at %d per iteration", s.AddNodesPerIter)
	}
	if k > room {
		k, capped = room, fmt.Sprintf(", capped at %d by max nodes %d", room, s.MaxNodes)
	}
	return k, fmt.Sprintf("%s > %d free slots, oldest waited %s >= %s: %d slots at %d per node need %s%s",
		waiting, v.freeSlots, v.oldestWait, s.JobWaitTime, missing, v.perNode, plural(need, "node"), capped)
}

// killCluster decides -K once only the master is left: terminate when nothing runs, nothing
// waits (not even jobs that can never run: ending the cluster would silently drop them) and
// the master has been idle for KillAfter.
func killCluster(in Input, v view) Decision {
	s := in.Settings
	if q := len(in.Stats.Queued()); q > 0 {
		return Decision{Action: Nothing, Reason: fmt.Sprintf(
			"kill-cluster: not terminating with %s queued (cancel them to let the cluster end)", plural(q, "job"))}
	}
	if r := len(in.Stats.Running()); r > 0 {
		return Decision{Action: Nothing, Reason: fmt.Sprintf("kill-cluster: %s still running", plural(r, "job"))}
	}
	var master string
	for _, n := range v.live {
		if n.Master {
			master = n.Alias
		}
	}
	idle, ok := in.History.idleFor(master, in.Now)
	if !ok || idle < s.KillAfter {
		return Decision{Action: Nothing, Reason: fmt.Sprintf("kill-cluster: master idle %s < kill after %s", idle, s.KillAfter)}
	}
	return Decision{Action: Terminate, Reason: fmt.Sprintf(
		"kill-cluster: only the master is left, idle for %s >= %s, queue empty", idle, s.KillAfter)}
}

// Action is what one iteration does to the cluster's size.
type Action string

// The actions. Removing vanished hosts from the scheduler is not an action of its own: it rides
// along with any of these (Decision.Vanished), because it changes no machine.
const (
	Nothing   Action = "nothing"
	Add       Action = "add"
	Remove    Action = "remove"
	Terminate Action = "terminate"
)

// Decision is the policy's answer for one iteration, with the reason a person reading the log
// needs to trust (or question) it.
type Decision struct {
	Action Action
	// Add is how many nodes to add (Action Add).
	Add int
	// Remove are the aliases to remove, newest first (Action Remove).
	Remove []string
	// Vanished are hosts whose machine is gone or unreachable: the caller removes them from the
	// scheduler whatever the action is. They no longer count as nodes, so growth replaces
	// them when jobs wait.
	Vanished []string
	// Nodes is how many machines the policy counted (master included, vanished ones not).
	Nodes int
	// Reason says why, in words: "30 queued slots (30 jobs) waited 6m0s > 5m0s; ...".
	Reason string
}

// String is the decision as it appears in the log and the stats file: "add 2",
// "remove node003 node002", "terminate", "nothing"; vanished hosts are appended.
func (d Decision) String() string {
	var b strings.Builder
	switch d.Action {
	case Add:
		fmt.Fprintf(&b, "add %d", d.Add)
	case Remove:
		b.WriteString("remove " + strings.Join(d.Remove, " "))
	case "":
		b.WriteString(string(Nothing))
	default:
		b.WriteString(string(d.Action))
	}
	if len(d.Vanished) > 0 {
		b.WriteString("; forget vanished " + strings.Join(d.Vanished, " "))
	}
	return b.String()
}

// plural is "1 job" / "2 jobs" for reasons people read.
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
