package plugins

import (
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/scheduler"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// segway prepares nodes for Segway genome segmentation (workflows: Segway): a profile script
// pointing every tool at the software volume, root's shell profile, a motd banner naming the
// node's role and software versions, and optionally stops services that eat memory.
type segway struct {
	setup.Hooks
	path     string
	services []string
}

func newSegway(p Params) *segway {
	return &segway{path: p.String("segway_path", "/opt/segway"), services: p.List("stop_services")}
}

func (s *segway) Name() string { return "segway" }

func (s *segway) Run(ctx context.Context, c *setup.Cluster) error {
	return s.OnAddNode(ctx, c, c.Nodes)
}

// OnAddNode configures new nodes exactly as Run configured the first ones.
func (s *segway) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	var cmds scheduler.Commands
	if c.Scheduler != nil {
		cmds = c.Scheduler.Commands()
	}
	return c.ForEach(ctx, "segway environment", nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, s.script(n.IsMaster(), cmds))
		return err
	})
}

// profile is /etc/profile.d/segway.sh: the variables Segway and its libraries need, all under
// the software path (quoted, though SEGWAY_PATH is checked to plain path characters).
func (s *segway) profile() string {
	return fmt.Sprintf(`# Written by clusterctl's segway plugin.
export SEGWAY_PATH=%s
export ARCH=$(uname -m)
export ARCHHOME="$SEGWAY_PATH/arch/$ARCH"
export PATH="$ARCHHOME/bin:$SEGWAY_PATH/bin:$PATH"
export PYTHONPATH="$ARCHHOME/lib/python3/site-packages${PYTHONPATH:+:$PYTHONPATH}"
export HDF5_DIR="$ARCHHOME"
export C_INCLUDE_PATH="$ARCHHOME/include${C_INCLUDE_PATH:+:$C_INCLUDE_PATH}"
export LIBRARY_PATH="$ARCHHOME/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$ARCHHOME/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Segway submits its jobs through DRMAA: the software volume's libdrmaa (slurm-drmaa on a Slurm
# cluster, which Debian does not package) wins over the system's (Grid Engine's).
if [ -e "$ARCHHOME/lib/libdrmaa.so" ]; then
  export DRMAA_LIBRARY_PATH="$ARCHHOME/lib/libdrmaa.so"
fi
`, remote.Quote(s.path))
}

// rootProfile is the block added to root's .bashrc: the profile, handy aliases (qs lists every
// user's jobs with the cluster's scheduler) and a prompt that names the cluster node.
func rootProfile(cmds scheduler.Commands) string {
	queue := ""
	if cmds.Queue != "" {
		queue = "alias qs=" + remote.Quote(cmds.Queue) + "\n"
	}
	return `# clusterctl segway begin
. /etc/profile.d/segway.sh
alias ll='ls -alF'
` + queue + `PS1='\u@\h:\w\$ '
# clusterctl segway end`
}

func (s *segway) script(master bool, cmds scheduler.Commands) string {
	role := "COMPUTE"
	if master {
		role = "MASTER"
	}
	var stop strings.Builder
	for _, svc := range s.services {
		fmt.Fprintf(&stop, "systemctl stop -- %[1]s 2>/dev/null || service %[1]s stop 2>/dev/null || true\n", remote.Quote(svc))
	}
	return fmt.Sprintf(`set -e
sp=%s
# The software volume may be writable by users: its VERSION is read as nobody, so a link
# there to /etc/shadow cannot put root-only text into the world-readable motd.
v=$(runuser -u nobody -- head -c 80 -- "$sp/VERSION" 2>/dev/null | head -n 1 | tr -cd '[:alnum:] ._+:~-')
[ -n "$v" ] || v='version unknown'
cat > /etc/profile.d/segway.sh <<'CLUSTERCTL_EOF'
%sCLUSTERCTL_EOF
chmod 644 /etc/profile.d/segway.sh
touch /root/.bashrc
sed -i '/^# clusterctl segway begin$/,/^# clusterctl segway end$/d' /root/.bashrc
cat >> /root/.bashrc <<'CLUSTERCTL_EOF'
%s
CLUSTERCTL_EOF
touch /etc/motd
sed -i '/^# clusterctl segway motd begin$/,/^# clusterctl segway motd end$/d' /etc/motd
{
  echo '# clusterctl segway motd begin'
  echo "Segway cluster node: %s ($(hostname))"
  echo "Software: $sp ($v), $(python3 --version 2>&1), kernel $(uname -r)"
  echo '# clusterctl segway motd end'
} >> /etc/motd
%s`, remote.Quote(s.path), s.profile(), rootProfile(cmds), role, stop.String())
}
