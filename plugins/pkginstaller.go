package plugins

import (
	"context"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// pkgInstaller installs distribution packages on every node, and on nodes added later.
type pkgInstaller struct {
	setup.Hooks
	packages []string
}

func newPkgInstaller(p Params) *pkgInstaller { return &pkgInstaller{packages: p.List("packages")} }

func (p *pkgInstaller) Name() string { return "pkginstaller" }

func (p *pkgInstaller) Run(ctx context.Context, c *setup.Cluster) error {
	return p.OnAddNode(ctx, c, c.Nodes)
}

// OnAddNode installs the packages on new nodes.
func (p *pkgInstaller) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	if len(p.packages) == 0 {
		return nil
	}
	script := aptInstallScript(p.packages)
	return c.ForEach(ctx, fmt.Sprintf("install %d packages", len(p.packages)), nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// aptInstallScript installs packages with apt, refreshing the package lists only when a
// package is missing, so a second run does no network work. Package names are checked at load
// (CheckDebianPackage) and follow "--", so none can become an apt option.
func aptInstallScript(packages []string) string {
	q := remote.QuoteArgs(packages...)
	return fmt.Sprintf(`set -e
export DEBIAN_FRONTEND=noninteractive
missing=
for p in %s; do dpkg-query -W -f='${Status}' -- "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
apt-get update -qq
apt-get install -y -qq --no-install-recommends -- $missing`, q)
}
