package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// buildStep is one stage of an image build, reported as one progress line.
type buildStep struct {
	name string
	run  func(context.Context) error
}

// buildSteps turns a definition into the build: debootstrap, then apt inside the root, then the
// configuration script. Output of every command goes to log.
func (p *Provider) buildSteps(def ImageDef, root string, log io.Writer) []buildStep {
	return []buildStep{
		{
			name: fmt.Sprintf("debootstrap Debian %s (%s) from %s", def.Suite, def.Variant, def.Mirror),
			run: func(ctx context.Context) error {
				_, err := p.run(ctx, command{name: "debootstrap", log: log, args: []string{
					"--variant=" + def.Variant, "--include=" + strings.Join(def.Include, ","),
					def.Suite, root, def.Mirror}})
				return err
			},
		},
		{
			name: fmt.Sprintf("install %d packages (%s)", len(def.Packages), strings.Join(def.Packages, " ")),
			run: func(ctx context.Context) error {
				// No service may start inside a root that is not booted.
				policy := filepath.Join(root, "usr", "sbin", "policy-rc.d")
				if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
					return err
				}
				return p.inRoot(ctx, root, installScript(def), log)
			},
		},
		{
			name: "configure (login user " + def.LoginUser + ", services, host keys removed)",
			run: func(ctx context.Context) error {
				return p.inRoot(ctx, root, configureScript(def), log)
			},
		},
	}
}

// inRoot runs a shell script inside root with systemd-nspawn, not chroot: nspawn provides /proc,
// /dev and /sys and tears them down again, and shares the host's network so apt reaches the
// mirror. The machine name is random so parallel builds (other images) do not collide, and it
// runs in a cgroup of its own, as instances do (see cgroup.go): in the shared /payload, a
// container booting at the same time removed it under the build.
func (p *Provider) inRoot(ctx context.Context, root, script string, log io.Writer) error {
	fmt.Fprintf(log, "--- script run inside the image root:\n%s---\n", script)
	machine := newID("ccbuild-")
	procs, err := containerCgroups(machine, cgroupLimits{})
	if err != nil {
		return err
	}
	defer func() {
		if err := removeContainerCgroups(machine); err != nil {
			p.log.Warn("image build: remove cgroup", "error", err)
		}
	}()
	args := []string{
		"--quiet", "-D", root, "-M", machine, "--pipe",
		"--register=no", "--keep-unit", "--link-journal=no", "--settings=no",
		"-E", "DEBIAN_FRONTEND=noninteractive", "-E", "LC_ALL=C",
		"--", "/bin/sh", "-s"}
	name, wrapped := cgroupWrapper(procs, "systemd-nspawn", args)
	_, err = p.run(ctx, command{name: name, log: log, stdin: strings.NewReader(script), args: wrapped})
	return err
}

// installScript preseeds debconf and installs the definition's packages.
func installScript(def ImageDef) string {
	var b strings.Builder
	b.WriteString("set -eu\n")
	for _, d := range def.Debconf {
		fmt.Fprintf(&b, "echo %s | debconf-set-selections\n", shellQuote(d))
	}
	b.WriteString("apt-get update\n")
	fmt.Fprintf(&b, "apt-get install -y --no-install-recommends %s\n", shellWords(def.Packages))
	return b.String()
}

// configureScript creates the login user with passwordless sudo, sets which services start at
// boot, and strips what each instance must have its own of: SSH host keys (written per instance
// before first boot), machine id and host name.
func configureScript(def ImageDef) string {
	u, sudoers := shellQuote(def.LoginUser), shellQuote("/etc/sudoers.d/"+def.LoginUser)
	var b strings.Builder
	b.WriteString("set -eu\n")
	fmt.Fprintf(&b, "id -u %s >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups sudo %s\n", u, u)
	fmt.Fprintf(&b, "echo %s > %s\n", shellQuote(def.LoginUser+" ALL=(ALL) NOPASSWD:ALL"), sudoers)
	fmt.Fprintf(&b, "chmod 0440 %s\n", sudoers)
	fmt.Fprintf(&b, "visudo -cf %s\n", sudoers)
	if len(def.Enable) > 0 {
		fmt.Fprintf(&b, "systemctl enable %s\n", shellWords(def.Enable))
	}
	if len(def.Disable) > 0 {
		fmt.Fprintf(&b, "systemctl disable %s\n", shellWords(def.Disable))
	}
	if len(def.Mask) > 0 {
		fmt.Fprintf(&b, "systemctl mask %s\n", shellWords(def.Mask))
	}
	b.WriteString("rm -f /etc/ssh/ssh_host_*\n")
	if len(def.Remove) > 0 {
		fmt.Fprintf(&b, "rm -f %s\n", shellWords(def.Remove))
	}
	b.WriteString("rm -f /usr/sbin/policy-rc.d\n")
	b.WriteString("apt-get clean\nrm -rf /var/lib/apt/lists/*\n")
	b.WriteString(": > /etc/machine-id\n")
	b.WriteString("echo localhost > /etc/hostname\n")
	return b.String()
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,/=@+:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellWords quotes each word and joins them with spaces.
func shellWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}
