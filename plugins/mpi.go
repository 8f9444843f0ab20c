package plugins

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/setup"
)

// mpi writes MPI host files listing every node with its CPU count as slots, for MPICH (Hydra)
// and Open MPI, and points both at them from /etc/profile.d, so mpiexec -n N spreads over the
// cluster without a -f/--hostfile argument. The files live on the shared /home (StarCluster's
// /home/mpich2.hosts, in both formats): written once on the master, which serves /home, they
// are the same on every node at once, so adding or removing nodes rewrites two files instead
// of one per node. The master is listed first, then the other nodes in cluster order.
type mpi struct{ setup.Hooks }

// The host files and the profile that names them.
const (
	mpichHostsFile   = "/home/mpich.hosts"
	openMPIHostsFile = "/home/openmpi.hosts"
	mpiProfileName   = "clusterctl-mpi.sh"
)

// mpiProfile sets MPICH's (Hydra's) default host file, and Open MPI's: OMPI_MCA_ for the
// orte-based 4.x that Debian 12 ships, PRTE_MCA_ for 5.x.
const mpiProfile = `# Written by clusterctl's mpi plugin: MPI programs run on every node of the cluster.
export HYDRA_HOST_FILE=` + mpichHostsFile + `
export OMPI_MCA_orte_default_hostfile=` + openMPIHostsFile + `
export PRTE_MCA_prte_default_hostfile=` + openMPIHostsFile + `
`

// mpiHost is one line of the host files.
type mpiHost struct {
	Name  string
	Slots int
}

const mpiHostsHeader = "# Written by clusterctl's mpi plugin; rewritten when nodes are added or removed.\n"

// mpichHostsText is Hydra's format: host:slots.
func mpichHostsText(hosts []mpiHost) string {
	var b strings.Builder
	b.WriteString(mpiHostsHeader)
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s:%d\n", h.Name, h.Slots)
	}
	return b.String()
}

// openMPIHostsText is Open MPI's format: host slots=N.
func openMPIHostsText(hosts []mpiHost) string {
	var b strings.Builder
	b.WriteString(mpiHostsHeader)
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s slots=%d\n", h.Name, h.Slots)
	}
	return b.String()
}

// parseMPICHHosts reads the slots back from an MPICH host file, ignoring comments and
// anything malformed (which is then asked for again).
func parseMPICHHosts(text string) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, slots, ok := strings.Cut(line, ":")
		n, err := strconv.Atoi(slots)
		if ok && err == nil && n > 0 && name != "" {
			out[name] = n
		}
	}
	return out
}

// mpiFilesScript writes both host files on the master.
func mpiFilesScript(hosts []mpiHost) string {
	return scriptHeader + "changed=\n" + fileScript(mpichHostsFile, "0644", mpichHostsText(hosts), "changed") +
		fileScript(openMPIHostsFile, "0644", openMPIHostsText(hosts), "changed")
}

// Name is the plugin's catalog name.
func (mpi) Name() string { return "mpi" }

// Run counts every node's CPUs, writes the host files and the profile everywhere.
func (m mpi) Run(ctx context.Context, c *setup.Cluster) error {
	if err := m.writeHosts(ctx, c, c.Nodes, map[string]int{}); err != nil {
		return err
	}
	return m.profile(ctx, c, c.Nodes)
}

// OnAddNode adds new nodes to the host files (the others keep their counts) and gives them
// the profile.
func (m mpi) OnAddNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	known, err := m.known(ctx, c)
	if err != nil {
		return err
	}
	if err := m.writeHosts(ctx, c, c.Nodes, known); err != nil {
		return err
	}
	return m.profile(ctx, c, nodes)
}

// OnRemoveNode drops nodes about to go from the host files, so no MPI job is started on them.
func (m mpi) OnRemoveNode(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	gone := map[string]bool{}
	for _, n := range nodes {
		gone[n.ID] = true
	}
	var keep []*setup.Node
	for _, n := range c.Nodes {
		if !gone[n.ID] {
			keep = append(keep, n)
		}
	}
	known, err := m.known(ctx, c)
	if err != nil {
		return err
	}
	return m.writeHosts(ctx, c, keep, known)
}

// known reads the slots the master's host file already lists.
func (mpi) known(ctx context.Context, c *setup.Cluster) (map[string]int, error) {
	m, err := masterOf(c)
	if err != nil {
		return nil, err
	}
	res, err := c.Sudo(ctx, m, "cat "+mpichHostsFile+" 2>/dev/null || true")
	if err != nil {
		return nil, err
	}
	return parseMPICHHosts(res.Stdout), nil
}

// writeHosts writes the host files for nodes, counting the CPUs of those not in known.
func (mpi) writeHosts(ctx context.Context, c *setup.Cluster, nodes []*setup.Node, known map[string]int) error {
	var ask []*setup.Node
	for _, n := range nodes {
		if known[n.Alias] == 0 {
			ask = append(ask, n)
		}
	}
	counted, err := cpuCounts(ctx, c, ask)
	if err != nil {
		return err
	}
	hosts := make([]mpiHost, 0, len(nodes))
	for _, n := range orderMasterFirst(nodes) {
		slots := known[n.Alias]
		if slots == 0 {
			slots = counted[n.Alias]
		}
		hosts = append(hosts, mpiHost{Name: n.Alias, Slots: slots})
	}
	m, err := masterOf(c)
	if err != nil {
		return err
	}
	return c.ForEach(ctx, "MPI host files", []*setup.Node{m}, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, mpiFilesScript(hosts))
		return err
	})
}

// profile installs the profile on nodes.
func (mpi) profile(ctx context.Context, c *setup.Cluster, nodes []*setup.Node) error {
	script := scriptHeader + profileScript(mpiProfileName, mpiProfile)
	return c.ForEach(ctx, "MPI profile", nodes, func(ctx context.Context, n *setup.Node) error {
		_, err := c.Sudo(ctx, n, script)
		return err
	})
}

// orderMasterFirst returns nodes with the master first, the others in their order.
func orderMasterFirst(nodes []*setup.Node) []*setup.Node {
	out := make([]*setup.Node, 0, len(nodes))
	for _, n := range nodes {
		if n.IsMaster() {
			out = append(out, n)
		}
	}
	for _, n := range nodes {
		if !n.IsMaster() {
			out = append(out, n)
		}
	}
	return out
}
