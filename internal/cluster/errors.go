package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// ExistsError is returned by start for a tag that is taken.
type ExistsError struct {
	Tag     string
	Summary string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("cluster %s already exists (%s); resume it with `clusterctl start -x %s`, or remove it with `clusterctl terminate %s`",
		e.Tag, e.Summary, e.Tag, e.Tag)
}

func (e *Engine) existsError(ctx context.Context, tag string) error {
	insts, err := e.instances(ctx, tag, nil)
	if err != nil {
		return &ExistsError{Tag: tag, Summary: "its instances could not be listed"}
	}
	return &ExistsError{Tag: tag, Summary: stateSummary(insts)}
}

// stateSummary counts instances by state: "3 running, 1 stopped".
func stateSummary(insts []cloud.Instance) string {
	if len(insts) == 0 {
		return "no instances"
	}
	counts := map[string]int{}
	var order []string
	for _, in := range insts {
		if counts[in.State] == 0 {
			order = append(order, in.State)
		}
		counts[in.State]++
	}
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[s], s)
	}
	return strings.Join(parts, ", ")
}

// PartialError is a start that failed after creating resources. It lists what exists, which is
// left in place and tagged, and the two ways forward.
type PartialError struct {
	Tag string
	// Op is what failed: "start" (the default) or "restart".
	Op        string
	Err       error
	Group     string
	Instances []cloud.Instance
}

func (e *PartialError) Error() string {
	var b strings.Builder
	op := e.Op
	if op == "" {
		op = "start"
	}
	fmt.Fprintf(&b, "%s of cluster %s failed: %v\n", op, e.Tag, e.Err)
	b.WriteString("What exists now (left in place, tagged clusterctl:cluster=" + e.Tag + "):\n")
	if e.Group != "" {
		fmt.Fprintf(&b, "  security group %s\n", e.Group)
	}
	for _, in := range e.Instances {
		fmt.Fprintf(&b, "  %-10s %-20s %-10s %s\n", in.Alias, in.ID, in.State, in.Lifecycle)
	}
	if e.Group == "" && len(e.Instances) == 0 {
		b.WriteString("  nothing\n")
	}
	fmt.Fprintf(&b, "Resume with:   clusterctl start -x %s\nClean up with: clusterctl terminate %s", e.Tag, e.Tag)
	return b.String()
}

func (e *PartialError) Unwrap() error { return e.Err }

// partial wraps a failure after creation with an inventory of what exists. The inventory is
// taken without the caller's context, which may be the cancelled one of an interrupted start.
func (e *Engine) partial(ctx context.Context, tag string, err error) error {
	ctx = context.WithoutCancel(ctx)
	pe := &PartialError{Tag: tag, Err: err}
	if insts, ierr := e.instances(ctx, tag, nil); ierr == nil {
		pe.Instances = insts
	}
	if cl, gerr := e.Provider.GetCluster(ctx, tag); gerr == nil || cl.GroupID != "" {
		pe.Group = cl.GroupName
	}
	return pe
}

// IsPartial reports whether err is a start that left resources behind.
func IsPartial(err error) bool {
	var pe *PartialError
	return errors.As(err, &pe)
}

// AddError is an addnode that failed after its nodes were launched. They are left in place,
// tagged; it says how to finish setting them up once they are reachable, or remove them.
type AddError struct {
	Tag     string
	Aliases []string
	Err     error
}

func (e *AddError) Error() string {
	list := strings.Join(e.Aliases, ",")
	return fmt.Sprintf("adding %s to cluster %s failed: %v\nThe new nodes are left in place (tagged clusterctl:cluster=%s).\n"+
		"Finish with:   clusterctl addnode -x -a %s %s\nRemove with:   clusterctl removenode -f %s %s",
		list, e.Tag, e.Err, e.Tag, list, e.Tag, e.Tag, strings.Join(e.Aliases, " "))
}

func (e *AddError) Unwrap() error { return e.Err }
