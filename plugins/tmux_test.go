package plugins

import (
	"os"
	"os/exec"
	"os/user"
	"sort"
	"strings"
	"testing"
)

func TestTmuxScripts(t *testing.T) {
	add := tmuxAddScript("sgeadmin", "clusterctl", []string{"master", "node001"})
	rm := tmuxRemoveScript("sgeadmin", "clusterctl", []string{"node001"})
	checkSyntax(t, "add", add)
	checkSyntax(t, "remove", rm)
	wantLines(t, "add", add, "u=sgeadmin", "s=clusterctl", "win master", "win node001",
		// an existing window is left alone: only missing nodes get one
		`  elif [ -n "$(idx "$1")" ]; then return 0`)
	wantLines(t, "remove", rm, "unwin node001")
	if strings.Contains(rm, "win master") {
		t.Errorf("remove touches other windows:\n%s", rm)
	}
}

func TestNewTmux(t *testing.T) {
	cases := map[string]bool{"clusterctl": true, "work-env_1": true, "a:b": false, "a.b": false, "a b": false, "": false}
	for name, ok := range cases {
		if err := newTmux(Params{"envname": name}).err; (err == nil) != ok {
			t.Errorf("envname %q: error %v, want ok=%v", name, err, ok)
		}
	}
	if tm := newTmux(Params{}); tm.session != "clusterctl" || tm.err != nil {
		t.Errorf("default session %q", tm.session)
	}
}

// TestTmuxRun runs the scripts with the real tmux as the current user (runuser needs root), on
// a private socket directory: windows are made once, a rerun adds none, only missing nodes
// get one, and removal closes exactly the named windows.
func TestTmuxRun(t *testing.T) {
	me, err := user.Current()
	if err != nil || me.Uid != "0" {
		t.Skip("needs root for runuser")
	}
	for _, tool := range []string{"tmux", "runuser"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("needs " + tool)
		}
	}
	sock := t.TempDir()
	env := []string{"TMUX_TMPDIR=" + sock, "SHELL=/bin/sh", "TMUX="}
	t.Cleanup(func() {
		cmd := exec.Command("tmux", "kill-server")
		cmd.Env = append(os.Environ(), env...)
		_ = cmd.Run()
	})
	windows := func() string {
		out, _ := runShErr(sock, "tmux list-windows -t =cc -F '#{window_name}'", env...)
		names := strings.Fields(out)
		sort.Strings(names)
		return strings.Join(names, " ")
	}
	steps := []struct {
		name, script, want string
	}{
		{"create", tmuxAddScript("root", "cc", []string{"master", "node001", "node.002"}), "master node.002 node001"},
		{"rerun", tmuxAddScript("root", "cc", []string{"master", "node001", "node.002"}), "master node.002 node001"},
		{"remove", tmuxRemoveScript("root", "cc", []string{"node001", "never-there"}), "master node.002"},
		{"add", tmuxAddScript("root", "cc", []string{"node003", "master"}), "master node.002 node003"},
	}
	for _, st := range steps {
		runSh(t, sock, st.script, env...)
		if got := windows(); got != st.want {
			t.Errorf("%s: windows %q, want %q", st.name, got, st.want)
		}
	}
}
