package plugins

import (
	"fmt"
	"path"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// The shell fragments below are the building blocks of every plugin script that runs as root on
// a node. Each is idempotent on its own: a file is replaced only when its content differs, a
// unit is reloaded only when its file changed, so a second run of a plugin changes nothing and
// restarts nothing.

// fileScript writes content to a root-owned file (mode an octal string such as "0644") only
// when it differs from what is there, and then sets the shell variable flag to 1, so the
// caller can reload or restart what reads the file. The mode is applied every time, which
// changes nothing when it is already right. The content travels in a quoted here-document:
// never put secrets through it, they would sit in the script's text (upload those over SFTP).
func fileScript(filePath, mode, content, flag string) string {
	if !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	delim := remote.HeredocDelimiter(content)
	q := remote.Quote(filePath)
	dir, base := path.Split(filePath)
	var b strings.Builder
	fmt.Fprintf(&b, "mkdir -p %s\n", remote.Quote(path.Clean(dir)))
	fmt.Fprintf(&b, "t=$(mktemp %s)\n", remote.Quote(path.Join(dir, "."+base+".XXXXXX")))
	fmt.Fprintf(&b, "cat > \"$t\" <<'%s'\n%s%s\n", delim, content, delim)
	fmt.Fprintf(&b, "if cmp -s \"$t\" %s; then rm -f \"$t\"; else chmod %s \"$t\"; mv -f \"$t\" %s; %s=1; fi\n", q, mode, q, flag)
	fmt.Fprintf(&b, "chmod %s %s\n", mode, q)
	return b.String()
}

// requireSystemd stops a script on a node where systemd is not the init system: the plugins
// run their services as systemd units (EC2 images and the local containers both boot
// systemd), which is what makes stopping them reliable.
const requireSystemd = `[ -d /run/systemd/system ] || { echo "systemd is not running on $(hostname): clusterctl runs plugin services as systemd units" >&2; exit 1; }
`

// unitScript installs a systemd unit file under /etc/systemd/system, reloading systemd only
// when the file changed; the shell variable flag is 1 afterwards if it did.
func unitScript(name, content, flag string) string {
	return fileScript("/etc/systemd/system/"+name, "0644", content, flag) +
		fmt.Sprintf("[ -z \"$%s\" ] || systemctl daemon-reload\n", flag)
}

// ensureServiceScript enables a unit and starts it; with restart (a shell condition, e.g.
// `[ -n "$changed" ]`) true it restarts a running unit, so new settings take effect, and
// otherwise leaves a running unit alone.
func ensureServiceScript(unit, restartCond string) string {
	q := remote.Quote(unit)
	return fmt.Sprintf(`systemctl enable --quiet %[1]s
if %[2]s; then systemctl restart %[1]s
elif ! systemctl is-active --quiet %[1]s; then systemctl start %[1]s
fi
`, q, restartCond)
}

// stopServicesScript stops and disables units (patterns such as clusterctl-ipengine@*.service
// included) that exist, and does nothing for those that do not, so it can always run.
// Patterns are matched against loaded units for stopping and against the enablement links
// in /etc/systemd/system for disabling.
func stopServicesScript(units ...string) string {
	var b strings.Builder
	for _, u := range units {
		fmt.Fprintf(&b, "systemctl stop %s 2>/dev/null || true\n", remote.Quote(u))
		fmt.Fprintf(&b, `for l in /etc/systemd/system/*.wants/%s; do if [ -L "$l" ]; then systemctl disable --quiet "${l##*/}"; fi; done
`, u)
	}
	return b.String()
}

// profileScript writes a file under /etc/profile.d, which every login shell sources.
func profileScript(name, content string) string {
	return fileScript("/etc/profile.d/"+name, "0644", content, "profile_changed")
}

// aptEnsureScript installs Debian packages that are missing (see aptInstallScript) as one
// step of a longer script: in a subshell, whose early exit does not end the script.
func aptEnsureScript(packages ...string) string {
	return "(\n" + aptInstallScript(packages) + "\n)\n"
}

// scriptHeader starts every root script: stop at the first error, and a umask that keeps
// temporary files private until their mode is set.
const scriptHeader = "set -e\numask 022\n"
