package cloud

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// What providers may add so the engine keeps clusters healthy through faults. Each is an
// optional interface: a provider without it still works, with less said or guarded.

// GoneLister is implemented by providers that remember instances for a while after they were
// terminated (EC2: about an hour), so the engine can say that a node vanished (a spot
// interruption, a terminate from the console) rather than just no longer list it.
type GoneLister interface {
	// Gone lists the cluster's terminated instances that clusterctl did not terminate itself
	// (they lack TagRemoved), sorted by alias.
	Gone(ctx context.Context, tag string) ([]Instance, error)
}

// Locker is implemented by providers that can keep a cluster's lock where every machine that
// manages the cluster sees it: the local provider in its state directory (a lock its holder's
// death releases), EC2 in a lease tag on the cluster's security group (with an expiry, renewed
// while held, taken with a conditional check).
type Locker interface {
	// LockCluster takes the lock name ("cluster", "balancer") of cluster tag for h, or fails at
	// once with a *LockedError naming the holder; it never waits. The lock is held until
	// release is called (or the holder dies; a lease then expires).
	LockCluster(ctx context.Context, tag, name string, h Holder) (release func(), err error)
}

// Holder says who holds a cluster lock, for the message another command shows.
type Holder struct {
	// Command is the clusterctl command ("addnode", "loadbalance").
	Command string
	PID     int
	Host    string
	Since   time.Time
	// Expires is when a lease ends unless renewed; zero for a lock that ends with its
	// process.
	Expires time.Time
}

// String is "clusterctl addnode (pid 4242 on ws1) since 20:31:02".
func (h Holder) String() string {
	if h.Command == "" {
		return "another clusterctl command"
	}
	s := fmt.Sprintf("clusterctl %s (pid %d on %s)", h.Command, h.PID, h.Host)
	if !h.Since.IsZero() {
		s += " since " + h.Since.Local().Format("15:04:05")
	}
	return s
}

// LockedError is a cluster lock another command holds.
type LockedError struct {
	Tag    string
	Name   string
	Holder Holder
	// Waited is how long the refused command waited (0: it did not wait).
	Waited time.Duration
}

// ErrLocked matches (errors.Is) every LockedError.
var ErrLocked = errors.New("cluster is locked")

func (e *LockedError) Error() string {
	var b strings.Builder
	what := "is being changed by"
	if e.Name == LockBalancer {
		what = "is balanced by"
	}
	fmt.Fprintf(&b, "cluster %s %s %s", e.Tag, what, e.Holder)
	if !e.Holder.Expires.IsZero() {
		fmt.Fprintf(&b, " (its lease ends %s unless renewed)", e.Holder.Expires.Local().Format("15:04:05"))
	}
	if e.Waited > 0 {
		fmt.Fprintf(&b, "; gave up after waiting %s", e.Waited.Round(time.Second))
	}
	if e.Name == LockBalancer {
		b.WriteString("; one balancer per cluster: stop the other one first")
	} else {
		b.WriteString("; try again once it is done, or wait longer with --lock-wait")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// The locks a cluster has: LockCluster serializes every change; LockBalancer is held by a
// running balancer for its whole life, so a second one is refused.
const (
	LockCluster  = "cluster"
	LockBalancer = "balancer"
)

// CapacityError is a launch EC2 refused for want of capacity or price: it says which, so the
// engine can try the template's alternatives (another zone, another instance type) and the
// user learns what to change.
type CapacityError struct {
	// Code is the provider's code: InsufficientInstanceCapacity, SpotMaxPriceTooLow, ...
	Code         string
	InstanceType string
	Zone         string
	Spot         bool
	Err          error
}

// Capacity codes the engine tells apart.
const (
	CodeNoCapacity     = "InsufficientInstanceCapacity"
	CodeSpotNoCapacity = "capacity-not-available"
	CodePriceTooLow    = "SpotMaxPriceTooLow"
)

func (e *CapacityError) Error() string {
	where := e.InstanceType
	if e.Zone != "" {
		where += " in " + e.Zone
	}
	kind := "on-demand"
	if e.Spot {
		kind = "spot"
	}
	switch e.Code {
	case CodePriceTooLow:
		return fmt.Sprintf("the spot bid is below the current spot price of %s (%s): %v", where, e.Code, e.Err)
	default:
		return fmt.Sprintf("EC2 has no %s capacity for %s right now (%s): %v", kind, where, e.Code, e.Err)
	}
}

func (e *CapacityError) Unwrap() error { return e.Err }

// Hint says what the user can change, for the message once every alternative failed.
func (e *CapacityError) Hint() string {
	if e.Code == CodePriceTooLow {
		return "raise SPOT_BID (see `clusterctl spothistory " + e.InstanceType + "`), or launch on demand"
	}
	tips := "list more zones in AVAILABILITY_ZONE or more types in NODE_INSTANCE_TYPE_ALTERNATIVES, or try again later"
	if e.Spot {
		tips = "launch on demand (no SPOT_BID), " + tips
	}
	return tips
}
