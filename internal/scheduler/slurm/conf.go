package slurm

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/scheduler"
)

// Where Debian's packages keep Slurm's files.
const (
	confPath    = "/etc/slurm/slurm.conf"
	jobcompPath = "/var/log/slurm/jobcomp.log"
	partition   = "all"
)

// nodeLine is one compute node of slurm.conf.
type nodeLine struct {
	Name     string
	CPUs     int
	MemoryMB int64
}

func (n nodeLine) String() string {
	return fmt.Sprintf("NodeName=%s CPUs=%d RealMemory=%d State=UNKNOWN", n.Name, n.CPUs, n.MemoryMB)
}

// config is the controller's slurm.conf.
type config struct {
	// Cluster is the cluster's tag (Slurm's ClusterName, lower case).
	Cluster    string
	Controller string
	Nodes      []nodeLine
}

// render writes slurm.conf. The daemons run without cgroup plugins (proctrack/linuxproc,
// task/none), which work in containers and on every image; memory is a consumable
// (CR_Core_Memory), jobs without a memory request get their CPUs' share of the smallest node
// (DefMemPerCPU), batch jobs are requeued when their node fails (JobRequeue=1, as if every job
// were submitted with --requeue), and finished jobs are recorded in a text file (jobcomp/filetxt) with no
// accounting database. Compute nodes other than the master fetch this file from slurmctld
// (configless), so a node change is made here only.
func (c config) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by clusterctl; nodes are added and removed with clusterctl addnode and removenode.
ClusterName=%s
SlurmctldHost=%s
SlurmctldParameters=enable_configless
AuthType=auth/munge
SlurmUser=slurm
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
JobRequeue=1
MpiDefault=none
JobCompType=jobcomp/filetxt
JobCompLoc=%s
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
`, clusterName(c.Cluster), c.Controller, jobcompPath)
	defMem := int64(0)
	for _, n := range c.Nodes {
		b.WriteString(n.String() + "\n")
		if per := n.MemoryMB / int64(max(n.CPUs, 1)); defMem == 0 || per < defMem {
			defMem = per
		}
	}
	if len(c.Nodes) > 0 {
		fmt.Fprintf(&b, "PartitionName=%s Nodes=ALL Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=%d\n", partition, max(defMem, 1))
	}
	return b.String()
}

// clusterName is the tag as Slurm's ClusterName: lower case, letters, digits and _.
func clusterName(tag string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, tag)
	if name == "" {
		return "cluster"
	}
	return name
}

// nodeLineRE matches a node line as render writes it; anything else in the file is not ours.
var nodeLineRE = regexp.MustCompile(`^NodeName=([a-zA-Z0-9][a-zA-Z0-9.-]{0,62}) CPUs=([0-9]{1,6}) RealMemory=([0-9]{1,12}) State=UNKNOWN$`)

// parseNodeLines reads the node lines of a slurm.conf (read back from the master: only lines in
// exactly the form render writes are taken).
func parseNodeLines(text string) []nodeLine {
	var out []nodeLine
	for _, line := range strings.Split(text, "\n") {
		m := nodeLineRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		cpus, _ := strconv.Atoi(m[2])
		mem, _ := strconv.ParseInt(m[3], 10, 64)
		out = append(out, nodeLine{Name: m[1], CPUs: cpus, MemoryMB: mem})
	}
	return out
}

// readNodeLines reads the controller's current node lines; none when slurm.conf does not exist
// yet.
func readNodeLines(ctx context.Context, master scheduler.Shell) ([]nodeLine, error) {
	out, err := master.Run(ctx, fmt.Sprintf("if [ -f %[1]s ]; then awk '/^NodeName=/' %[1]s; fi", confPath))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", confPath, err)
	}
	return parseNodeLines(out), nil
}

// mergeNodes is current with add put in (replacing lines of the same name) and remove taken
// out, sorted by name so the file does not change when the set does not.
func mergeNodes(current, add []nodeLine, remove []string) []nodeLine {
	byName := map[string]nodeLine{}
	for _, n := range current {
		byName[n.Name] = n
	}
	for _, n := range add {
		byName[n.Name] = n
	}
	for _, name := range remove {
		delete(byName, name)
	}
	out := make([]nodeLine, 0, len(byName))
	for _, n := range byName {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
