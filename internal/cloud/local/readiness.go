package local

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// bootState is how far a container's boot got, as its own systemd reports it. sshd answering
// is not enough: a unit failing at boot can leave /run/nologin behind, and then pam_nologin
// refuses every login but root's, which a client sees only as a closed handshake.
type bootState struct {
	// System is `systemctl is-system-running`: initializing, starting, running, degraded, ...
	System string
	// Failed lists the units that failed.
	Failed []string
	// NoLogin is true while /run/nologin exists.
	NoLogin bool
}

// bootStateScript prints the three parts of a bootState, separated by lines of "--".
const bootStateScript = `systemctl is-system-running 2>&1
echo --
systemctl list-units --failed --plain --no-legend --no-pager 2>&1 | cut -d' ' -f1
echo --
test -e /run/nologin && echo nologin
exit 0`

// unitName is what a systemd unit name may look like; anything else read from a container is
// not passed on.
var unitName = regexp.MustCompile(`^[A-Za-z0-9:_.\\@-]+\.(service|mount|socket|target|timer|path|swap|scope|slice|device|automount)$`)

// parseBootState reads bootStateScript's output.
func parseBootState(out string) bootState {
	parts := strings.SplitN(out, "--\n", 3)
	var s bootState
	if len(parts) > 0 {
		s.System = strings.TrimSpace(parts[0])
	}
	if len(parts) > 1 {
		for _, u := range strings.Fields(parts[1]) {
			if unitName.MatchString(u) {
				s.Failed = append(s.Failed, u)
			}
		}
	}
	if len(parts) > 2 {
		s.NoLogin = strings.TrimSpace(parts[2]) == "nologin"
	}
	return s
}

// booting reports whether systemd is still starting units, or not answering yet at all (early
// in a boot systemctl cannot reach it and prints an error instead of a state).
func (s bootState) booting() bool {
	switch s.System {
	case "running", "degraded", "maintenance", "stopping":
		return false
	}
	return true
}

// usable reports whether the instance can be handed to the engine: boot finished and logins are
// allowed. A degraded system is usable once logins work; its failed units are logged.
func (s bootState) usable() bool {
	return (s.System == "running" || s.System == "degraded") && !s.NoLogin
}

// String describes the state for a pending instance's reason and for errors.
func (s bootState) String() string {
	msg := "systemd " + s.System
	if len(s.Failed) > 0 {
		msg += "; failed units: " + strings.Join(s.Failed, ", ")
	}
	if s.NoLogin {
		msg += "; /run/nologin refuses logins"
	}
	return msg
}

// containerInit returns the pid of the container's init, nspawn's child.
func containerInit(nspawnPID int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", nspawnPID, nspawnPID))
	if err != nil {
		return 0, fmt.Errorf("find the container's init: %w", err)
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0, fmt.Errorf("find the container's init: systemd-nspawn %d has no child yet", nspawnPID)
	}
	return strconv.Atoi(fields[0])
}

// inContainer runs a command inside the container of nspawn process nspawnPID, in all of its
// namespaces, as its root.
func (p *Provider) inContainer(ctx context.Context, nspawnPID int, args ...string) ([]byte, error) {
	init, err := containerInit(nspawnPID)
	if err != nil {
		return nil, err
	}
	return p.run(ctx, cmd("nsenter", append([]string{"--target", strconv.Itoa(init), "--all", "--"}, args...)...))
}

// readBootState asks the container's systemd how far its boot got.
func (p *Provider) readBootState(ctx context.Context, nspawnPID int) (bootState, error) {
	out, err := p.inContainer(ctx, nspawnPID, "/bin/sh", "-c", bootStateScript)
	if err != nil {
		return bootState{}, err
	}
	return parseBootState(string(out)), nil
}

// repairBoot resets and restarts the units that failed at boot, without waiting for them. On a
// host with a cgroup v1 tree, units of containers booting together occasionally fail to set up
// their cgroup (status=219/CGROUP); started again they succeed, and systemd-user-sessions
// removes /run/nologin.
func (p *Provider) repairBoot(ctx context.Context, nspawnPID int, s bootState) error {
	if len(s.Failed) == 0 {
		return nil
	}
	if _, err := p.inContainer(ctx, nspawnPID, "systemctl", "reset-failed"); err != nil {
		return err
	}
	_, err := p.inContainer(ctx, nspawnPID, append([]string{"systemctl", "restart", "--no-block", "--"}, s.Failed...)...)
	return err
}
