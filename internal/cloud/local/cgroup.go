package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
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
func processHierarchies() ([]string, error) {
	m, err := readCgroupMounts()
	return m.process, err
}

// parseProcessHierarchies reads mountinfo; see processHierarchies.
func parseProcessHierarchies(mountinfo string) []string {
	return parseCgroupMounts(mountinfo).process
}

// cgroupLimits are what a container may use: CPUs (a CFS quota of that many CPUs per period)
// and memory (bytes); zero sets no limit.
type cgroupLimits struct {
	cpus   int
	memory int64
}

// limitControllers are the controllers cgroupLimits set.
var limitControllers = []string{"memory", "cpu"}

// cfsPeriod is the CFS period (µs) the CPU quota is a multiple of.
const cfsPeriod = 100000

// cgroupMounts is where the host mounts its cgroup hierarchies.
type cgroupMounts struct {
	// process are the hierarchies that track processes for systemd (see processHierarchies).
	process []string
	// v1 maps a v1 controller (memory, cpu) to its hierarchy's mount point.
	v1 map[string]string
	// unified is the cgroup2 mount point, "" without one.
	unified string
}

// readCgroupMounts reads the host's cgroup hierarchies.
func readCgroupMounts() (cgroupMounts, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return cgroupMounts{}, fmt.Errorf("cgroup hierarchies: %w", err)
	}
	return parseCgroupMounts(string(data)), nil
}

// parseCgroupMounts reads mountinfo; see readCgroupMounts.
func parseCgroupMounts(mountinfo string) cgroupMounts {
	m := cgroupMounts{v1: map[string]string{}}
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
			m.unified = mountPoint
			m.process = append(m.process, mountPoint)
		case "cgroup":
			for _, opt := range strings.Split(after[2], ",") {
				switch {
				case opt == "name=systemd":
					m.process = append(m.process, mountPoint)
				case slices.Contains(limitControllers, opt):
					m.v1[opt] = mountPoint
				}
			}
		}
	}
	sort.Strings(m.process)
	return m
}

// roots are every hierarchy an instance has a cgroup in: the process ones, and the v1 ones of
// the limit controllers.
func (m cgroupMounts) roots() []string {
	out := append([]string{}, m.process...)
	for _, c := range limitControllers {
		if root, ok := m.v1[c]; ok && !slices.Contains(out, root) {
			out = append(out, root)
		}
	}
	return out
}

// containerCgroups creates the instance's cgroup in every process hierarchy and, with limits,
// in the hierarchies of the memory and cpu controllers with the limits written, and returns
// their cgroup.procs files, which the nspawn wrapper joins before it execs. A v1 controller
// (this machine: memory and cpu mounted apart) gets a cgroup of its own; on a unified (v2)
// host the limits go in the instance's unified cgroup.
func containerCgroups(machine string, lim cgroupLimits) ([]string, error) {
	m, err := readCgroupMounts()
	if err != nil {
		return nil, err
	}
	var procs []string
	for _, root := range m.process {
		dir, err := makeCgroup(root, machine)
		if err != nil {
			return nil, err
		}
		procs = append(procs, filepath.Join(dir, "cgroup.procs"))
	}
	if lim == (cgroupLimits{}) {
		return procs, nil
	}
	type limit struct{ controller, v1File, v2File, value string }
	var limits []limit
	if lim.memory > 0 {
		limits = append(limits, limit{"memory", "memory.limit_in_bytes", "memory.max", strconv.FormatInt(lim.memory, 10)})
	}
	if lim.cpus > 0 {
		limits = append(limits, limit{"cpu", "cpu.cfs_quota_us", "cpu.max", strconv.Itoa(lim.cpus * cfsPeriod)})
	}
	for _, l := range limits {
		root, ok := m.v1[l.controller]
		if !ok {
			if err := limitUnified(m.unified, machine, l.controller, l.v2File, l.value); err != nil {
				return nil, err
			}
			continue
		}
		dir, err := makeCgroup(root, machine)
		if err != nil {
			return nil, err
		}
		if err := writeCgroupFile(dir, l.v1File, l.value); err != nil {
			return nil, err
		}
		if p := filepath.Join(dir, "cgroup.procs"); !slices.Contains(procs, p) {
			procs = append(procs, p)
		}
	}
	return procs, nil
}

// limitUnified writes a limit in the instance's cgroup of the unified hierarchy, enabling the
// controller for the cgroups below the root and below clusterctl's parent first.
func limitUnified(root, machine, controller, file, value string) error {
	if root == "" {
		return fmt.Errorf("cannot limit %s of %s: no cgroup hierarchy has the %s controller", controller, machine, controller)
	}
	avail, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil || !slices.Contains(strings.Fields(string(avail)), controller) {
		return fmt.Errorf("cannot limit %s of %s: no cgroup hierarchy has the %s controller", controller, machine, controller)
	}
	for _, dir := range []string{root, filepath.Join(root, cgroupParent)} {
		if err := writeCgroupFile(dir, "cgroup.subtree_control", "+"+controller); err != nil {
			return err
		}
	}
	if controller == "cpu" {
		value += " " + strconv.Itoa(cfsPeriod)
	}
	return writeCgroupFile(filepath.Join(root, cgroupParent, machine), file, value)
}

// makeCgroup creates the instance's cgroup under root.
func makeCgroup(root, machine string) (string, error) {
	dir := filepath.Join(root, cgroupParent, machine)
	err := os.MkdirAll(dir, 0o755)
	if errors.Is(err, fs.ErrNotExist) { // the parent was removed in between by another teardown
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return "", fmt.Errorf("create cgroup for %s: %w", machine, err)
	}
	return dir, nil
}

func writeCgroupFile(dir, name, value string) error {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o644); err != nil {
		return fmt.Errorf("set cgroup %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// removeContainerCgroups removes the instance's cgroups (limits included) once its processes
// are gone. cgroups are removed with rmdir, deepest first (the container's systemd leaves its
// own tree behind); a cgroup that still holds a process is an error naming it.
func removeContainerCgroups(machine string) error {
	m, err := readCgroupMounts()
	if err != nil {
		return err
	}
	roots := m.roots()
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

// cgroupProcesses lists the processes left in the instance's cgroups, in every hierarchy: what
// is left of a container whose nspawn died, even one whose init no longer carries the
// container_uuid nspawn was given (a container booted again on its own disk keeps the machine
// id of its first boot).
func cgroupProcesses(machine string) []int {
	m, err := readCgroupMounts()
	if err != nil {
		return nil
	}
	seen := map[int]bool{}
	var out []int
	for _, root := range m.roots() {
		_ = filepath.WalkDir(filepath.Join(root, cgroupParent, machine), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && !seen[pid] {
					seen[pid] = true
					out = append(out, pid)
				}
			}
			return nil
		})
	}
	return out
}
