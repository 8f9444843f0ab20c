package setup

import (
	"os/exec"
	"strings"
	"testing"
)

// TestGrowFSScript: the script parses with POSIX sh in both modes, and a mount path that could
// carry shell syntax (it comes back from the cloud) is refused.
func TestGrowFSScript(t *testing.T) {
	for _, strict := range []bool{true, false} {
		script, err := GrowFSScript("/data/results", strict)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("strict=%v: sh -n: %v\n%s", strict, err, out)
		}
		if want := map[bool]string{true: "exit 1", false: "exit 0"}[strict]; !strings.Contains(script, "install cloud-guest-utils (growpart)\" >&2; "+want) {
			t.Errorf("strict=%v: a missing growpart does not end with %s", strict, want)
		}
	}
	for _, bad := range []string{"data", "/data; reboot", "/data $(id)", "/"} {
		if _, err := GrowFSScript(bad, true); err == nil {
			t.Errorf("mount path %q accepted", bad)
		}
	}
}
