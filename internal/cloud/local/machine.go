package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// How long a stop waits: a clean shutdown of a container takes a few seconds (more with busy
// daemons); one that has not finished by then is killed. Terminate discards the disk anyway, so
// it waits less.
const (
	stopGrace      = 40 * time.Second
	terminateGrace = 10 * time.Second
	killWait       = 10 * time.Second
	// earlyExitWait is how long a boot watches for nspawn failing straight away (bridge
	// missing, directory locked: measured at under 20 ms), to report it with its output
	// instead of as a dead instance.
	earlyExitWait = 200 * time.Millisecond
)

// nspawnArgs is the command line that boots an instance. --register=no and --keep-unit because
// the host's PID 1 is not systemd (no machined, no scope units); the machine name is the
// instance id (see machineName); the console goes read-only to console.log.
func nspawnArgs(merged, bridge, machine, hostname string, binds []string) []string {
	args := []string{
		"--boot", "-D", merged,
		"--register=no", "--keep-unit",
		"--network-bridge=" + bridge,
		"-M", machine,
		"--uuid=" + containerUUID(machine),
		"--hostname=" + hostname,
		"--link-journal=no", "--settings=no", "--console=read-only",
	}
	return append(args, binds...)
}

// spawn starts systemd-nspawn detached: in its own session, stdin from /dev/null, output
// appended to console.log, so it outlives this process and a terminal's signals. A goroutine
// reaps it if it exits while this process still runs; nothing ever kills it on our behalf.
func (p *Provider) spawn(rec instanceRecord, args []string) (int, error) {
	dir := p.instanceDir(rec.Cluster, rec.ID)
	console, err := os.OpenFile(filepath.Join(dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("boot %s: %w", rec.ID, err)
	}
	defer console.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, fmt.Errorf("boot %s: %w", rec.ID, err)
	}
	defer devnull.Close()
	fmt.Fprintf(console, "\n=== clusterctl: booting %s (%s) at %s\n", rec.ID, rec.Alias, time.Now().UTC().Format(time.RFC3339))
	machine := machineName(rec.ID)
	if err := removeContainerCgroups(machine); err != nil { // a previous boot's, if it died
		return 0, fmt.Errorf("boot %s: %w", rec.ID, err)
	}
	var lim cgroupLimits
	if t, err := lookupType(rec.InstanceType); err == nil {
		lim = cgroupLimits{cpus: t.cpus, memory: t.memory}
	} else {
		p.log.Warn("instance runs without CPU and memory limits", "instance", rec.ID, "error", err)
	}
	procs, err := containerCgroups(machine, lim)
	if err != nil {
		return 0, fmt.Errorf("boot %s: %w", rec.ID, err)
	}
	name, wrapped := cgroupWrapper(procs, "systemd-nspawn", args)
	x := exec.Command(name, wrapped...)
	x.Stdin, x.Stdout, x.Stderr = devnull, console, console
	x.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	line := command{name: "systemd-nspawn", args: args}.String()
	if err := x.Start(); err != nil {
		return 0, &CommandError{Command: line, Status: -1, Err: err}
	}
	pid := x.Process.Pid
	p.log.Debug("command (detached)", "cmd", line, "pid", pid)
	exited := make(chan error, 1)
	go func() {
		err := x.Wait()
		p.log.Debug("systemd-nspawn exited", "instance", rec.ID, "pid", pid, "error", err)
		exited <- err
	}()
	select {
	case err := <-exited:
		status := -1
		if x.ProcessState != nil {
			status = x.ProcessState.ExitCode()
		}
		return 0, &CommandError{Command: line, Status: status, Err: err, Tail: consoleTail(dir, tailLines)}
	case <-time.After(earlyExitWait):
	}
	return pid, nil
}

// nspawnAlive reports whether pid is still the systemd-nspawn running machine. Comparing the
// command line guards against the pid being reused after the container died.
func nspawnAlive(pid int, machine string) bool {
	if pid <= 0 {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return isNspawnCmdline(data, machine)
}

// isNspawnCmdline reports whether a /proc/PID/cmdline (NUL-separated) is systemd-nspawn
// running machine. A zombie's cmdline is empty, so a dead, unreaped nspawn counts as gone.
func isNspawnCmdline(data []byte, machine string) bool {
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != "systemd-nspawn" {
		return false
	}
	for i, a := range args {
		if ((a == "-M" || a == "--machine") && i+1 < len(args) && args[i+1] == machine) || a == "--machine="+machine {
			return true
		}
	}
	return false
}

// stopProcess shuts a container down: SIGTERM (nspawn asks the container's systemd to power
// off), up to grace for it to finish, then SIGKILL. ctx ending cuts the grace short. A killed
// nspawn leaves its container running (its init is re-parented, not killed), so whatever still
// runs as the container is killed too: killing a PID namespace's init ends every process in it.
func stopProcess(ctx context.Context, pid int, machine string, grace time.Duration) error {
	if nspawnAlive(pid, machine) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		if !waitGone(ctx, func() bool { return nspawnAlive(pid, machine) }, grace) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			if !waitGone(context.WithoutCancel(ctx), func() bool { return nspawnAlive(pid, machine) }, killWait) {
				return fmt.Errorf("systemd-nspawn %d (%s) still runs after SIGKILL", pid, machine)
			}
		}
	}
	uuid := containerUUID(machine)
	left := func() []int { return append(containerProcesses(uuid), cgroupProcesses(machine)...) }
	orphans := left()
	if len(orphans) == 0 {
		return removeContainerCgroups(machine)
	}
	for _, o := range orphans {
		_ = syscall.Kill(o, syscall.SIGKILL)
	}
	if !waitGone(context.WithoutCancel(ctx), func() bool { return len(left()) > 0 }, killWait) {
		return fmt.Errorf("container %s (init %v) still runs after SIGKILL", machine, orphans)
	}
	return removeContainerCgroups(machine)
}

// containerUUID is the UUID nspawn gives the instance's container, derived from its machine
// name: stable across boots (the container's machine id derives from it, as an EC2 instance's
// stays the same across stop and start) and findable in its init's environment.
func containerUUID(machine string) string {
	sum := sha256.Sum256([]byte("clusterctl-local:" + machine))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// containerProcesses finds the processes running as the container with this UUID: nspawn sets
// container_uuid in the environment of the container's init, and only there.
func containerProcesses(uuid string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte("container_uuid=" + uuid + "\x00")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && bytes.Contains(env, want) {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone polls until running reports false, up to d or ctx's end.
func waitGone(ctx context.Context, running func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for running() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return !running()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return true
}

// ansiEscape matches the terminal colour codes systemd writes to the console.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// consoleTail is the end of an instance's console log, for errors about an instance that died.
func consoleTail(dir string, n int) string {
	data, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		return ""
	}
	if len(data) > 64<<10 {
		data = data[len(data)-64<<10:]
	}
	return lastLines(ansiEscape.ReplaceAllString(string(data), ""), n)
}
