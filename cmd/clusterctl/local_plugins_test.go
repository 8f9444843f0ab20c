package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalPlugins runs the built-in plugins on a real local cluster (testdata/local-plugins.ini)
// and checks each did its job, then that addnode and removenode carry them along: IPython
// engines, tmux windows and MPI host files follow the nodes.
func TestLocalPlugins(t *testing.T) {
	text, err := os.ReadFile("testdata/local-plugins.ini")
	if err != nil {
		t.Fatal(err)
	}
	e := newLocalEnv(t, string(text))
	const tag = "plug"
	e.terminateAtEnd(tag)
	r := e.must("start", "-c", "plug", tag)
	if !strings.Contains(r.errOut, "client connection file saved to") {
		t.Errorf("ipcluster did not say where the connection file is:\n%s", r.errOut)
	}
	conn := filepath.Join(e.home, ".clusterctl", "ipcluster", "plug-local.json")
	if st, err := os.Stat(conn); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("connection file %s: %v %v", conn, st, err)
	}
	if st, err := os.Stat(filepath.Join(e.home, ".clusterctl", "user_keys", "plug-local.tar.gz")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("user keys tarball: %v %v", st, err)
	}
	engines := func(want int) {
		t.Helper()
		py := `import ipyparallel as ipp; c = ipp.Client(); c.wait_for_engines(` + itoa(want) + `, timeout=60); print(len(c.ids), sum(c[:].apply_sync(lambda: 1)))`
		out := e.on(tag, "master", "sudo -iu clusteruser python3 -c '"+py+"'")
		if out != itoa(want)+" "+itoa(want) {
			t.Errorf("IPython engines: %q, want %d answering", out, want)
		}
	}
	engines(3) // one per CPU, minus one on the master (2 CPUs each)
	if got := e.on(tag, "node001", "id -u user001"); got != e.on(tag, "master", "id -u user001") {
		t.Errorf("user001 has different UIDs")
	}
	if got := e.on(tag, "master", "systemctl is-active clusterctl-xvfb"); got != "active" {
		t.Errorf("xvfb: %s", got)
	}
	windows := func() string {
		return e.on(tag, "master", "sudo -iu clusteruser tmux list-windows -t clusterctl -F '#W' | sort | tr '\\n' ' '")
	}
	if got := windows(); got != "master node001" {
		t.Errorf("tmux windows: %q", got)
	}
	if got := e.on(tag, "node001", "cat /home/openmpi.hosts | grep -v '^#' | tr '\\n' ' '"); got != "master slots=2 node001 slots=2" {
		t.Errorf("MPI host file: %q", got)
	}

	e.must("addnode", tag)
	engines(5)
	if got := windows(); got != "master node001 node002" {
		t.Errorf("tmux windows after addnode: %q", got)
	}
	if got := e.on(tag, "master", "grep -c node002 /home/mpich.hosts"); got != "1" {
		t.Errorf("node002 not in the MPICH host file")
	}
	e.must("removenode", "-y", tag)
	engines(3)
	if got := windows(); got != "master node001" {
		t.Errorf("tmux windows after removenode: %q", got)
	}
	if out := e.on(tag, "master", "cat /home/mpich.hosts"); strings.Contains(out, "node002") {
		t.Errorf("node002 still in the MPICH host file:\n%s", out)
	}
	e.must("terminate", "-y", tag)
}
