package plugins

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// checkSyntax parses a script with the system's POSIX sh (dash on Debian, which rejects
// bashisms such as [[ or arrays) without running it.
func checkSyntax(t *testing.T, name, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: sh -n: %v\n%s\n--- script:\n%s", name, err, out, script)
	}
}

// runSh runs a script with sh in dir and returns its output, failing the test when it fails.
func runSh(t *testing.T, dir, script string, env ...string) string {
	t.Helper()
	out, err := runShErr(dir, script, env...)
	if err != nil {
		t.Fatalf("script failed: %v\n%s\n--- script:\n%s", err, out, script)
	}
	return out
}

// runShErr runs a script with sh in dir and returns its combined output and error.
func runShErr(dir, script string, env ...string) (string, error) {
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// wantLines fails unless every line in want is a whole line of text.
func wantLines(t *testing.T, name, text string, want ...string) {
	t.Helper()
	lines := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		lines[l] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("%s lacks the line %q:\n%s", name, w, text)
		}
	}
}

// testCluster is a cluster of a master and workers with made-up addresses, for rendering.
func testCluster(workers ...string) *setup.Cluster {
	c := &setup.Cluster{Tag: "mycluster", User: "sgeadmin", Shell: "bash", Region: "us-east-1", LocalDir: "/home/me/.clusterctl"}
	c.Nodes = append(c.Nodes, &setup.Node{Instance: cloud.Instance{ID: "i-0", Alias: "master", Role: cloud.RoleMaster,
		PrivateIP: "10.0.0.10", PublicIP: "54.1.2.3"}})
	for i, w := range workers {
		c.Nodes = append(c.Nodes, &setup.Node{Instance: cloud.Instance{ID: "i-" + w, Alias: w, Role: cloud.RoleNode,
			PrivateIP: fmt.Sprintf("10.0.0.%d", 11+i)}})
	}
	return c
}
