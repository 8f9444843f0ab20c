package plugins

import (
	"reflect"
	"testing"

	"github.com/clusterctl/clusterctl/internal/setup"
)

func TestMPIHostFiles(t *testing.T) {
	hosts := []mpiHost{{"master", 3}, {"node001", 4}}
	mpich := mpichHostsText(hosts)
	want := mpiHostsHeader + "master:3\nnode001:4\n"
	if mpich != want {
		t.Errorf("MPICH:\n%s\nwant\n%s", mpich, want)
	}
	ompi := openMPIHostsText(hosts)
	if want := mpiHostsHeader + "master slots=3\nnode001 slots=4\n"; ompi != want {
		t.Errorf("Open MPI:\n%s\nwant\n%s", ompi, want)
	}
	if got := parseMPICHHosts(mpich); !reflect.DeepEqual(got, map[string]int{"master": 3, "node001": 4}) {
		t.Errorf("round trip: %v", got)
	}
	odd := "# comment\n\nnode002:x\nnode003:0\n:4\nnode004\n  node005:2  \n"
	if got := parseMPICHHosts(odd); !reflect.DeepEqual(got, map[string]int{"node005": 2}) {
		t.Errorf("malformed lines: %v", got)
	}
	s := mpiFilesScript(hosts)
	checkSyntax(t, "files", s)
	wantLines(t, "files", s, "master:3", "node001 slots=4",
		`if cmp -s "$t" /home/mpich.hosts; then rm -f "$t"; else chmod 0644 "$t"; mv -f "$t" /home/mpich.hosts; changed=1; fi`,
		`if cmp -s "$t" /home/openmpi.hosts; then rm -f "$t"; else chmod 0644 "$t"; mv -f "$t" /home/openmpi.hosts; changed=1; fi`)
}

func TestMPIProfile(t *testing.T) {
	wantLines(t, "profile", mpiProfile,
		"export HYDRA_HOST_FILE=/home/mpich.hosts",
		"export OMPI_MCA_orte_default_hostfile=/home/openmpi.hosts",
		"export PRTE_MCA_prte_default_hostfile=/home/openmpi.hosts")
	out := runSh(t, t.TempDir(), mpiProfile+`echo "$HYDRA_HOST_FILE $OMPI_MCA_orte_default_hostfile"`)
	if out != "/home/mpich.hosts /home/openmpi.hosts\n" {
		t.Errorf("sourced profile gives %q", out)
	}
	checkSyntax(t, "profile script", profileScript(mpiProfileName, mpiProfile))
}

func TestOrderMasterFirst(t *testing.T) {
	c := testCluster("node001", "node002")
	nodes := []*setup.Node{c.Nodes[2], c.Nodes[0], c.Nodes[1]}
	var got []string
	for _, n := range orderMasterFirst(nodes) {
		got = append(got, n.Alias)
	}
	if want := []string{"master", "node002", "node001"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
