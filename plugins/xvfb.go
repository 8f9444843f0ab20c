package plugins

import (
	"context"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// xvfb gives every node a virtual X display, :1, for programs that insist on one (renderers,
// plotting, GUI tools in batch jobs): Debian's xvfb package where missing, Xvfb as a systemd
// unit, and DISPLAY=:1 for login shells. Added nodes get the same.
//
// The display asks for an MIT-MAGIC-COOKIE-1 made on the node, in a file readable by the
// group xvfbGroup only: the cluster user and every regular account (batch users, also those
// the users plugin creates later) are members, while system accounts and daemons are not, so
// they can neither draw on the display nor read what is shown or typed there.
type xvfb struct{ setup.Hooks }

// xvfbUnitName is the unit running the display server.
const xvfbUnitName = "clusterctl-xvfb.service"

// xvfbUser is the system account the display server runs as: not root, and not nobody, the
// identity of every unmapped file (NFS, user namespaces), which systemd warns against.
const xvfbUser = "clusterctl-xvfb"

// xvfbGroup may use the display: its members can read the cookie.
const xvfbGroup = "clusterctl-display"

// xvfbAuthority is the display's cookie file, mode 0640, group xvfbGroup.
const xvfbAuthority = "/etc/clusterctl/xvfb/Xauthority"

// xvfbTmpfiles makes the X socket directory safely: /tmp is writable by every user, so root
// creating and chmod'ing /tmp/.X11-unix in a shell would follow a link a user planted there
// (and make, say, /etc world-writable); systemd-tmpfiles refuses such links.
const xvfbTmpfiles = `# Written by clusterctl's xvfb plugin.
d /tmp/.X11-unix 1777 root root -
`

// xvfbUnit runs Xvfb :1 as xvfbUser with the cookie, TCP off.
const xvfbUnit = `# Written by clusterctl's xvfb plugin.
[Unit]
Description=Virtual X display :1 (clusterctl xvfb)
After=local-fs.target

[Service]
User=` + xvfbUser + `
ExecStartPre=+/usr/bin/systemd-tmpfiles --create /etc/tmpfiles.d/clusterctl-xvfb.conf
ExecStart=/usr/bin/Xvfb :1 -screen 0 1920x1080x24 -nolisten tcp -auth ` + xvfbAuthority + `
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`

// xvfbProfile points X clients at :1 with the cookie unless the login already has a display
// (an SSH session with X forwarding keeps its own).
const xvfbProfile = `# Written by clusterctl's xvfb plugin: programs find the virtual display.
if [ -z "$DISPLAY" ]; then
  DISPLAY=:1; export DISPLAY
  if [ -r ` + xvfbAuthority + ` ]; then XAUTHORITY=` + xvfbAuthority + `; export XAUTHORITY; fi
fi
`

// xvfbCookieScript makes the cookie file once: an Xauthority entry for display 1 on any host
// (FamilyWild), holding 16 random bytes, written beside the file and renamed into place.
const xvfbCookieScript = `install -d -m 755 /etc/clusterctl /etc/clusterctl/xvfb
if [ ! -s ` + xvfbAuthority + ` ]; then
  t=$(mktemp /etc/clusterctl/xvfb/.Xauthority.XXXXXX)
  { printf '\377\377\000\000\000\0011\000\022MIT-MAGIC-COOKIE-1\000\020'; head -c 16 /dev/urandom; } > "$t"
  chgrp ` + xvfbGroup + ` "$t"; chmod 640 "$t"; mv -f "$t" ` + xvfbAuthority + `
  changed=1
fi
`

// xvfbMembersScript puts the display's users in xvfbGroup: the server's account, the cluster
// user and every regular account (UID 1000 to 59999).
func xvfbMembersScript(clusterUser string) string {
	return fmt.Sprintf(`getent group %[1]s >/dev/null || groupadd --system %[1]s
for u in %[2]s %[3]s $(getent passwd | awk -F: '$3 >= 1000 && $3 < 60000 { print $1 }'); do
  id -nG "$u" 2>/dev/null | tr ' ' '\n' | grep -qx %[1]s || usermod -a -G %[1]s "$u"
done
`, xvfbGroup, xvfbUser, remote.Quote(clusterUser))
}

// Name is the plugin's catalog name.
func (xvfb) Name() string { return "xvfb" }

// Run sets up the display on every node.
func (x xvfb) Run(ctx context.Context, c *setup.Cluster) error { return x.OnAddNode(ctx, c, c.Nodes) }

// OnAddNode sets up the display on new nodes.
func (xvfb) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	script := xvfbScript(c.User)
	return c.ForEach(ctx, "virtual X display :1", nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// xvfbScript installs the package when missing, the account, group and cookie, the unit and
// the profile, and starts the display, restarting it only when its unit or cookie changed.
func xvfbScript(clusterUser string) string {
	return scriptHeader + requireSystemd + aptEnsureScript("xvfb") +
		"id -u " + xvfbUser + " >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin " + xvfbUser + "\n" +
		xvfbMembersScript(clusterUser) +
		"changed=\n" +
		xvfbCookieScript +
		fileScript("/etc/tmpfiles.d/clusterctl-xvfb.conf", "0644", xvfbTmpfiles, "changed") +
		unitScript(xvfbUnitName, xvfbUnit, "changed") +
		ensureServiceScript(xvfbUnitName, `[ -n "$changed" ]`) +
		profileScript("clusterctl-xvfb.sh", xvfbProfile)
}
