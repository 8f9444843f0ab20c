package plugins

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/setup"
)

func TestSaveLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ipcluster")
	f := filepath.Join(dir, "c-r.json")
	for _, content := range []string{"first", "second, longer content"} {
		if err := saveLocal(f, []byte(content)); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(f)
		if err != nil || string(data) != content {
			t.Fatalf("read back %q, %v; want %q", data, err, content)
		}
		if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
			t.Errorf("file mode %v, want 0600", st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestLocalFile(t *testing.T) {
	cases := []struct {
		name, region, dir, sub, ext, want string
	}{
		{"default directory", "us-east-1", "", "ipcluster", ".json", "/home/me/.clusterctl/ipcluster/mycluster-us-east-1.json"},
		{"given directory", "eu-west-1", "/keys", "user_keys", ".tar.gz", "/keys/mycluster-eu-west-1.tar.gz"},
		{"no region recorded", "", "", "user_keys", ".tar.gz", "/home/me/.clusterctl/user_keys/mycluster-local.tar.gz"},
	}
	for _, tc := range cases {
		c := &setup.Cluster{Tag: "mycluster", Region: tc.region, LocalDir: "/home/me/.clusterctl"}
		if got := localFile(c, tc.dir, tc.sub, tc.ext); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestFetchScript runs the root side of fetchAsRoot here: the content lands in a private
// file of the login user, named on stdout, and nothing is left when producing it fails.
func TestFetchScript(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	checkSyntax(t, "fetchScript", fetchScript(`echo secret > "$t"`, me.Username))
	out := runSh(t, t.TempDir(), fetchScript(`echo secret > "$t"`, me.Username))
	name := strings.TrimSpace(out)
	t.Cleanup(func() { os.Remove(name) })
	if !strings.HasPrefix(name, "/tmp/clusterctl-fetch.") {
		t.Fatalf("printed %q", out)
	}
	data, err := os.ReadFile(name)
	if err != nil || string(data) != "secret\n" {
		t.Errorf("content %q, %v", data, err)
	}
	if st, _ := os.Stat(name); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	before, _ := filepath.Glob("/tmp/clusterctl-fetch.*")
	if _, err := runShErr(t.TempDir(), fetchScript("false", me.Username)); err == nil {
		t.Error("a failing fragment did not fail the script")
	}
	after, _ := filepath.Glob("/tmp/clusterctl-fetch.*")
	if len(after) > len(before) {
		t.Errorf("a failed fetch left %v", after)
	}
}
