package local

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// seedFile is one file written into an instance's root before its first boot.
type seedFile struct {
	path string // inside the instance
	data string
	mode os.FileMode
	// link, when set, makes path a symlink to it instead of a file.
	link string
}

// Paths of the first-boot script runner inside an instance (the local cloud-init).
const (
	bootDir     = "/var/lib/clusterctl/boot"
	bootUnit    = "clusterctl-boot.service"
	bootUnitDir = "/etc/systemd/system"
)

// maskedUnits are what the node image starts that a cluster node does not need, masked in every
// instance before it boots (so the cached image is the same for every version of this list).
// Each costs every container boot time, and the inotify instances and timers all containers
// share with the host: at 32 containers, a host's default of 128 inotify instances was gone
// and containers stopped booting. Several also fail in a container and leave it degraded.
//
//   - the console's getty: nobody logs in on a container's console;
//   - systemd-networkd-wait-online: readiness is clusterctl's own check (sshd answers, boot
//     finished, logins allowed), and it fails when networkd is slow under load;
//   - systemd-remount-fs and systemd-sysctl: the root is an overlay the host mounted, and the
//     container may not write /proc/sys; both fail there;
//   - the password agents' path units, watched with inotify by PID 1: no passwords are asked;
//   - rpcbind and rpc-statd-notify: the local provider shares /home by bind mounts, not NFS;
//   - the daily timers (apt, dpkg backups, e2scrub, exim4, tmpfiles cleaning): a cluster node
//     has no mirror, no filesystems of its own to scrub, no mail, and lives for hours.
var maskedUnits = []string{
	"console-getty.service", "systemd-networkd-wait-online.service", "systemd-remount-fs.service",
	"systemd-sysctl.service", "systemd-ask-password-console.path", "systemd-ask-password-wall.path",
	"rpcbind.service", "rpcbind.socket", "rpc-statd-notify.service",
	"apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer",
	"exim4-base.timer", "systemd-tmpfiles-clean.timer",
}

// seedFiles is what an instance gets before first boot, what cloud-init does on EC2: its host
// name, its static address, its own SSH host key with an sshd drop-in using only that key, and
// the user data scripts with a oneshot unit that runs them once. The login user's
// authorized_keys are handled apart (authorizeKeys): they usually live on the shared /home.
func seedFiles(alias string, rec instanceRecord, subnet netip.Prefix, key hostKey, scripts []cloud.BootScript) []seedFile {
	files := []seedFile{
		{path: "/etc/hostname", data: alias + "\n", mode: 0o644},
		{path: "/etc/hosts", data: hostsFile(alias, rec.Address), mode: 0o644},
		{path: "/etc/systemd/network/10-host0.network", data: networkFile(rec.Address, subnet), mode: 0o644},
		{path: "/etc/ssh/ssh_host_" + key.kind + "_key", data: string(key.private), mode: 0o600},
		{path: "/etc/ssh/ssh_host_" + key.kind + "_key.pub", data: key.public + " root@" + alias + "\n", mode: 0o644},
		{path: "/etc/ssh/sshd_config.d/10-clusterctl.conf", data: sshdDropIn(key.kind), mode: 0o644},
	}
	for _, u := range maskedUnits {
		files = append(files, seedFile{path: "/etc/systemd/system/" + u, link: "/dev/null"})
	}
	if len(scripts) == 0 {
		return files
	}
	for i, s := range scripts {
		files = append(files, seedFile{path: fmt.Sprintf("%s/scripts/%02d-%s", bootDir, i+1, scriptName(s.Name)),
			data: string(s.Content), mode: 0o755})
	}
	return append(files,
		seedFile{path: bootDir + "/run", data: bootRunner, mode: 0o755},
		seedFile{path: bootUnitDir + "/" + bootUnit, data: bootUnitFile, mode: 0o644},
		seedFile{path: bootUnitDir + "/multi-user.target.wants/" + bootUnit, link: "../" + bootUnit},
	)
}

// scriptName keeps a user data script's name readable and safe as a file name.
func scriptName(name string) string {
	out := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, name)
	if out == "" || strings.Trim(out, ".") == "" {
		return "script"
	}
	return out
}

// bootRunner runs the user data scripts in order, each as an executable when it starts with #!
// and with /bin/sh otherwise (as cloud-init does), records that it ran, and fails when any
// script failed so `systemctl status clusterctl-boot` shows it.
const bootRunner = `#!/bin/sh
# clusterctl (local provider): user data scripts, run once at first boot.
status=0
for f in ` + bootDir + `/scripts/*; do
	[ -f "$f" ] || continue
	echo "clusterctl-boot: running $f"
	if [ "$(head -c 2 "$f")" = "#!" ]; then "$f"; else /bin/sh "$f"; fi || {
		rc=$?
		echo "clusterctl-boot: $f failed with exit status $rc"
		status=1
	}
done
touch ` + bootDir + `/done
exit $status
`

// bootUnitFile runs bootRunner once: the done file it leaves stops later boots from rerunning
// the scripts, as cloud-init's per-instance scripts behave.
const bootUnitFile = `[Unit]
Description=clusterctl user data scripts (first boot only)
After=network-online.target
Wants=network-online.target
ConditionPathExists=!` + bootDir + `/done

[Service]
Type=oneshot
ExecStart=` + bootDir + `/run
StandardOutput=journal+console
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
`

// writeSeed writes files below root (an instance's mounted overlay, so they land in its upper
// layer).
func writeSeed(root string, files []seedFile) error {
	for _, f := range files {
		dst := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("seed %s: %w", f.path, err)
		}
		if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("seed %s: %w", f.path, err)
		}
		if f.link != "" {
			if err := os.Symlink(f.link, dst); err != nil {
				return fmt.Errorf("seed %s: %w", f.path, err)
			}
			continue
		}
		if err := os.WriteFile(dst, []byte(f.data), f.mode); err != nil {
			return fmt.Errorf("seed %s: %w", f.path, err)
		}
		if err := os.Chmod(dst, f.mode); err != nil { // WriteFile's mode is filtered by umask
			return fmt.Errorf("seed %s: %w", f.path, err)
		}
	}
	return nil
}
