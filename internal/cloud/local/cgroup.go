package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// cgroupParent is the directory, in each hierarchy, under which every container gets a cgroup
// of its own.
const cgroupParent = "clusterctl"

// cgroupBusyWait bounds how long removing a container's cgroup waits for the kernel to let go.
const cgroupBusyWait = 5 * time.Second

// Why each container needs its own cgroup: with --register=no --keep-unit (no systemd on the
// host), nspawn moves itself to ./supervisor and the container to ./payload of the cgroup it was
// started in. Started from one shell, every container would share /payload, so each container's
// systemd would create its units' cgroups (system.slice/ssh.service, ...) in the same
// directories as the others': a unit stopped in one container kills its namesakes in the
// others, and units starting together in several containers fail with status=219/CGROUP (seen
// as systemd-user-sessions failing, which leaves /run/nologin and refuses every login).

// processHierarchies lists the mount points of the cgroup hierarchies that track processes for
// systemd: the v1 name=systemd hierarchy and the unified (v2) one, whichever the host has.
// Controller-only v1 hierarchies (memory, cpu, ...) are left as they are.
func processHierarchies() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("cgroup hierarchies: %w", err)
	}
	return parseProcessHierarchies(string(data)), nil
}

// parseProcessHierarchies reads mountinfo; see processHierarchies.
func parseProcessHierarchies(mountinfo string) []string {
	var out []string
	for _, line := range strings.Split(mountinfo, "\n") {
		// 35 25 0:30 / /sys/fs/cgroup/systemd rw,relatime shared:9 - cgroup cgroup rw,name=systemd
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		fields, after := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(after) < 3 {
			continue
		}
		mountPoint := unescapeMount(fields[4])
		switch after[0] {
		case "cgroup2":
			out = append(out, mountPoint)
		case "cgroup":
			for _, opt := range strings.Split(after[2], ",") {
				if opt == "name=systemd" {
					out = append(out, mountPoint)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// containerCgroups creates the instance's cgroup in every process hierarchy and returns their
// cgroup.procs files, which the nspawn wrapper joins before it execs.
func containerCgroups(machine string) ([]string, error) {
	roots, err := processHierarchies()
	if err != nil {
		return nil, err
	}
	var procs []string
	for _, root := range roots {
		dir := filepath.Join(root, cgroupParent, machine)
		err := os.MkdirAll(dir, 0o755)
		if errors.Is(err, fs.ErrNotExist) { // the parent was removed in between by another teardown
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			return nil, fmt.Errorf("create cgroup for %s: %w", machine, err)
		}
		procs = append(procs, filepath.Join(dir, "cgroup.procs"))
	}
	return procs, nil
}

// removeContainerCgroups removes the instance's cgroups once its processes are gone. cgroups
// are removed with rmdir, deepest first (the container's systemd leaves its own tree behind);
// a cgroup that still holds a process is an error naming it.
func removeContainerCgroups(machine string) error {
	roots, err := processHierarchies()
	if err != nil {
		return err
	}
	var errs []error
	for _, root := range roots {
		top := filepath.Join(root, cgroupParent, machine)
		var dirs []string
		err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := removeCgroup(dirs[i]); err != nil {
				errs = append(errs, err)
				break
			}
		}
		// The shared parent goes with the last container; while others run it is busy.
		_ = os.Remove(filepath.Dir(top))
	}
	return errors.Join(errs...)
}

// cgroupWrapper returns the command that runs args (systemd-nspawn ...) inside the given
// cgroups: a shell writes its own pid into each cgroup.procs, then execs, so the process that
// ends up running is nspawn itself, with the same pid.
func cgroupWrapper(procs []string, name string, args []string) (string, []string) {
	if len(procs) == 0 {
		return name, args
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, p := range procs {
		fmt.Fprintf(&script, "echo $$ > %s\n", shellQuote(p))
	}
	script.WriteString(`exec "$@"` + "\n")
	return "/bin/sh", append([]string{"-c", script.String(), "sh", name}, args...)
}

// removeCgroup removes one empty cgroup. The kernel may report it busy for a moment after its
// last process was reaped, so EBUSY is retried for up to cgroupBusyWait.
func removeCgroup(dir string) error {
	deadline := time.Now().Add(cgroupBusyWait)
	for {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
