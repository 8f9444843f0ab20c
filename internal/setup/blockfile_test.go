package setup

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runEdit applies an edit to a real file with the system's sh and awk.
func runEdit(t *testing.T, b blockEdit) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", b.Script()).CombinedOutput()
	if err != nil {
		t.Fatalf("script failed: %v\n%s\n%s", err, out, b.Script())
	}
	data, err := os.ReadFile(b.File)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestBlockEdit(t *testing.T) {
	f := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(f, []byte("127.0.0.1 localhost\n127.0.1.1 master\n::1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hosts := func(add, drop []string) string {
		return runEdit(t, blockEdit{File: f, KeyField: 2, Add: add, Drop: drop, DropOutside: "127.0.1.1"})
	}
	got := hosts([]string{"10.0.0.1 master", "10.0.0.2 node001"}, nil)
	want := "127.0.0.1 localhost\n::1 localhost\n# clusterctl begin\n10.0.0.1 master\n10.0.0.2 node001\n# clusterctl end\n"
	if got != want {
		t.Fatalf("first edit:\n%s\nwant\n%s", got, want)
	}
	if again := hosts([]string{"10.0.0.1 master", "10.0.0.2 node001"}, nil); again != want {
		t.Fatalf("second identical edit changed the file:\n%s", again)
	}
	got = hosts([]string{"10.0.0.3 node002", "10.0.0.9 node001"}, nil)
	want = "127.0.0.1 localhost\n::1 localhost\n# clusterctl begin\n10.0.0.1 master\n10.0.0.3 node002\n10.0.0.9 node001\n# clusterctl end\n"
	if got != want {
		t.Fatalf("append and replace:\n%s\nwant\n%s", got, want)
	}
	got = hosts(nil, []string{"node002", "node001"})
	want = "127.0.0.1 localhost\n::1 localhost\n# clusterctl begin\n10.0.0.1 master\n# clusterctl end\n"
	if got != want {
		t.Fatalf("drop:\n%s\nwant\n%s", got, want)
	}

	kh := filepath.Join(t.TempDir(), "ssh_known_hosts")
	got = runEdit(t, blockEdit{File: kh, KeyField: 1, Add: []string{"master,10.0.0.1 ssh-ed25519 AAAA1", "node001,10.0.0.2 ssh-ed25519 AAAA2"}})
	if got != "# clusterctl begin\nmaster,10.0.0.1 ssh-ed25519 AAAA1\nnode001,10.0.0.2 ssh-ed25519 AAAA2\n# clusterctl end\n" {
		t.Fatalf("new file keyed by the first field:\n%s", got)
	}
	if st, _ := os.Stat(kh); st.Mode().Perm() != 0o644 {
		t.Errorf("created with mode %v", st.Mode().Perm())
	}
	got = runEdit(t, blockEdit{File: kh, KeyField: 1, Drop: []string{"node001"}})
	if got != "# clusterctl begin\nmaster,10.0.0.1 ssh-ed25519 AAAA1\n# clusterctl end\n" {
		t.Fatalf("drop by alias:\n%s", got)
	}
}

func runShell(t *testing.T, line string) error {
	t.Helper()
	out, err := exec.Command("sh", "-c", line).CombinedOutput()
	if err != nil {
		t.Logf("%s", out)
	}
	return err
}

func quoteForShell(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestBlockEditHeredocCannotBeEnded: a line that holds the here-document's delimiter (what a
// host key tag with a newline once smuggled in) stays data: no command after it runs.
func TestBlockEditHeredocCannotBeEnded(t *testing.T) {
	dir := t.TempDir()
	f, marker := filepath.Join(dir, "known_hosts"), filepath.Join(dir, "pwned")
	line := "master,10.0.0.1 ssh-ed25519 AAAA\nCLUSTERCTL_EOF\ntouch " + marker + "\ncat <<'CLUSTERCTL_EOF'"
	runEdit(t, blockEdit{File: f, KeyField: 1, Add: []string{line}})
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a command smuggled into the here-document ran")
	}
}
