package local

import (
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// hostLimit is a kernel setting every container on the machine draws from, because their
// processes all run as the host's root: their systemd, journald, logind and dbus each open
// inotify instances, counted against root's one limit. At 32 containers the default of 128 was
// used up, and containers hung in their boot with "Failed to create inotify object: Too many
// open files". kind documents the same host limits for many nodes.
type hostLimit struct {
	// name is the sysctl, path its file.
	name, path string
	// base is what the host keeps for itself, perContainer what each container may use.
	base, perContainer int64
}

// hostLimits are the limits raised for many containers. A node container (with the units it
// does not need masked, see maskedUnits) uses 6 inotify instances and a few hundred watches;
// both are counted with room to spare, beside what the host's own root daemons use.
func hostLimits() []hostLimit {
	return []hostLimit{
		{name: "fs.inotify.max_user_instances", path: "/proc/sys/fs/inotify/max_user_instances", base: 64, perContainer: 8},
		{name: "fs.inotify.max_user_watches", path: "/proc/sys/fs/inotify/max_user_watches", base: 8192, perContainer: 1024},
	}
}

// Raise is a host limit that was raised: its old and new value.
type Raise struct {
	Name     string
	Old, New int64
	// Containers is the number of containers the new value is for.
	Containers int
	path       string
}

// String says what was raised and how to undo it.
func (r Raise) String() string {
	return fmt.Sprintf("raised %s from %d to %d for %d containers (each container's systemd and daemons use inotify "+
		"instances the host's root owns, as kind documents); it stays raised, `sysctl -w %s=%d` restores it",
		r.Name, r.Old, r.New, r.Containers, r.Name, r.Old)
}

// raiseHostLimits makes room for adding containers to the ones running on this machine: every
// limit below what they need is raised to it, and said once (Options.Progress and the log).
// Nothing is lowered, and nothing is restored later without saying so: see Raise.String.
func (p *Provider) raiseHostLimits(adding int) ([]Raise, error) {
	plan, err := planRaises(hostLimits(), runningContainers()+adding, readLimit)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	var raised []Raise
	for _, r := range plan {
		if err := os.WriteFile(r.path, []byte(strconv.FormatInt(r.New, 10)+"\n"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("raise %s to %d for %d containers: %w", r.Name, r.New, r.Containers, err))
			continue
		}
		raised = append(raised, r)
		p.log.Warn(r.String())
		if p.progress != nil {
			p.progress(r.String())
		}
	}
	return raised, errors.Join(errs...)
}

// planRaises lists the limits below what containers containers need, with the value each needs.
func planRaises(limits []hostLimit, containers int, read func(path string) (int64, error)) ([]Raise, error) {
	var out []Raise
	var errs []error
	for _, l := range limits {
		cur, err := read(l.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if need := l.base + l.perContainer*int64(containers); cur < need {
			// To the next power of two: the next few containers fit without another raise.
			out = append(out, Raise{Name: l.name, Old: cur, New: int64(1) << bits.Len64(uint64(need-1)), Containers: containers, path: l.path})
		}
	}
	return out, errors.Join(errs...)
}

// readLimit reads a number from a /proc/sys file.
func readLimit(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// runningContainers counts the systemd-nspawn processes on this machine, every local cluster's
// and anything else's, since they all share the host's limits.
func runningContainers() int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if errors.Is(err, fs.ErrNotExist) || err != nil {
			continue
		}
		if strings.TrimSpace(string(comm)) == "systemd-nspawn" {
			n++
		}
	}
	return n
}
