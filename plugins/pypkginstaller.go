package plugins

import (
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// defaultPipCommand is StarCluster's install_command; %s becomes the quoted package names.
const defaultPipCommand = "pip install %s"

// pyPkgInstaller installs Python packages with pip, as root and system-wide, on every node at
// once and on nodes added later, so engines and jobs (which run the system python3) see them.
//
// Debian 12 marks its Python "externally managed" (PEP 668) and pip refuses to install into
// it. The plugin runs the configured command as given first; when it fails with pip's
// externally-managed-environment error, it runs it once more with
// PIP_BREAK_SYSTEM_PACKAGES=1, pip's documented override, which installs into
// /usr/local/lib/python3.*/dist-packages and leaves Debian's own packages in /usr/lib alone.
// A virtual environment was rejected: nothing (Grid Engine jobs, ipcluster engines, users'
// shells) would use it without being told, while /usr/local is on the system python3's path.
// An install_command of one's own (e.g. "pip install --user %s", or a venv's pip) gets the
// same treatment; a command that is not pip simply fails as it would.
//
// Packages already installed are not downloaded again (pip reports "Requirement already
// satisfied" without asking an index), so a second run changes nothing and works on nodes
// that cannot reach PyPI.
type pyPkgInstaller struct {
	setup.Hooks
	packages []string
	command  string
}

func newPyPkgInstaller(p Params) *pyPkgInstaller {
	return &pyPkgInstaller{packages: p.List("packages"), command: p.String("install_command", defaultPipCommand)}
}

// Name is the plugin's catalog name.
func (p *pyPkgInstaller) Name() string { return "pypkginstaller" }

// Run installs the packages on every node.
func (p *pyPkgInstaller) Run(ctx context.Context, c *setup.Cluster) error {
	return p.OnAddNode(ctx, c, c.Nodes)
}

// OnAddNode installs the packages on new nodes, in parallel.
func (p *pyPkgInstaller) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	if len(p.packages) == 0 {
		return nil
	}
	script := pipScript(p.command, p.packages)
	return c.ForEach(ctx, fmt.Sprintf("pip install %d packages", len(p.packages)), nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// pipCommandLine puts the quoted package names where the command has %s, or after it when it
// has none.
func pipCommandLine(command string, packages []string) string {
	if strings.TrimSpace(command) == "" {
		command = defaultPipCommand
	}
	args := remote.QuoteArgs(packages...)
	if strings.Contains(command, "%s") {
		return strings.ReplaceAll(command, "%s", args)
	}
	return command + " " + args
}

// pipScript runs the install command, retrying once with pip's PEP 668 override when, and only
// when, pip refused because the environment is externally managed. The command's output is
// passed on either way, so a failure shows pip's own message.
func pipScript(command string, packages []string) string {
	// From /: pip installs a directory of the working directory that bears a requirement's
	// name as a local project, and root must not take one from wherever sudo started it.
	return fmt.Sprintf(`set -e
cd /
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if (%[1]s) >"$log" 2>&1; then cat "$log"; exit 0; fi
if ! grep -q externally-managed-environment "$log"; then cat "$log" >&2; exit 1; fi
echo "pip refused the externally managed system Python (PEP 668); installing into /usr/local with PIP_BREAK_SYSTEM_PACKAGES=1" >&2
PIP_BREAK_SYSTEM_PACKAGES=1 %[1]s`, pipCommandLine(command, packages))
}
