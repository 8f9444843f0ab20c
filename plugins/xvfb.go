package plugins

import (
	"context"

	"github.com/clusterctl/clusterctl/internal/setup"
)

// xvfb gives every node a virtual X display, :1, for programs that insist on one (renderers,
// plotting, GUI tools in batch jobs): Debian's xvfb package where missing, Xvfb as a systemd
// unit, and DISPLAY=:1 for login shells. Added nodes get the same.
type xvfb struct{ setup.Hooks }

// xvfbUnitName is the unit running the display server.
const xvfbUnitName = "clusterctl-xvfb.service"

// xvfbUser is the system account the display server runs as: not root, and not nobody, the
// identity of every unmapped file (NFS, user namespaces), which systemd warns against.
const xvfbUser = "clusterctl-xvfb"

// xvfbUnit runs Xvfb :1 as xvfbUser: the X socket directory is made by root first (X refuses
// one owned by another user), and TCP is off, so only processes on the node can draw on it;
// without an authorization file Xvfb accepts every local client, which is what batch jobs of
// any user need.
const xvfbUnit = `# Written by clusterctl's xvfb plugin.
[Unit]
Description=Virtual X display :1 (clusterctl xvfb)
After=local-fs.target

[Service]
User=` + xvfbUser + `
ExecStartPre=+/bin/sh -c 'mkdir -p /tmp/.X11-unix && chmod 1777 /tmp/.X11-unix'
ExecStart=/usr/bin/Xvfb :1 -screen 0 1920x1080x24 -nolisten tcp
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`

// xvfbProfile points X clients at :1 unless the login already has a display (an SSH session
// with X forwarding keeps its own).
const xvfbProfile = `# Written by clusterctl's xvfb plugin: programs find the virtual display.
if [ -z "$DISPLAY" ]; then DISPLAY=:1; export DISPLAY; fi
`

// Name is the plugin's catalog name.
func (xvfb) Name() string { return "xvfb" }

// Run sets up the display on every node.
func (x xvfb) Run(ctx context.Context, c *setup.Cluster) error { return x.OnAddNode(ctx, c, c.Nodes) }

// OnAddNode sets up the display on new nodes.
func (xvfb) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	script := xvfbScript()
	return c.ForEach(ctx, "virtual X display :1", nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// xvfbScript installs the package when missing, the unit and the profile, and starts the
// display, restarting it only when its unit changed.
func xvfbScript() string {
	return scriptHeader + requireSystemd + aptEnsureScript("xvfb") +
		"id -u " + xvfbUser + " >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin " + xvfbUser + "\n" +
		"changed=\n" +
		unitScript(xvfbUnitName, xvfbUnit, "changed") +
		ensureServiceScript(xvfbUnitName, `[ -n "$changed" ]`) +
		profileScript("clusterctl-xvfb.sh", xvfbProfile)
}
