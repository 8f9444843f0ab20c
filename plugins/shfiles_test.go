package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileScript runs the file writer for real: it writes, reports a change only when the
// content differs, applies the mode every time, and carries any content intact.
func TestFileScript(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "sub", "conf")
	cases := []struct {
		name, content, want string
		changed             bool
	}{
		{"new file in a new directory", "a=1\n", "a=1\n", true},
		{"same content again", "a=1\n", "a=1\n", false},
		{"missing final newline is added", "a=1", "a=1\n", false},
		{"new content", "a=2\n$HOME `x` 'q' \\n\n", "a=2\n$HOME `x` 'q' \\n\n", true},
		{"content holding the delimiter", "x\nCLUSTERCTL_EOF\ny\n", "x\nCLUSTERCTL_EOF\ny\n", true},
	}
	for _, tc := range cases {
		script := "set -e\nchanged=\n" + fileScript(f, "0640", tc.content, "changed") + `echo "changed=$changed"`
		checkSyntax(t, tc.name, script)
		out := runSh(t, dir, script)
		if got := strings.Contains(out, "changed=1"); got != tc.changed {
			t.Errorf("%s: changed = %v, want %v (%s)", tc.name, got, tc.changed, out)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != tc.want {
			t.Errorf("%s: file holds %q, want %q", tc.name, data, tc.want)
		}
		st, _ := os.Stat(f)
		if st.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v", tc.name, st.Mode().Perm())
		}
	}
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	runSh(t, dir, "set -e\n"+fileScript(f, "0640", "x\nCLUSTERCTL_EOF\ny\n", "c"))
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o640 {
		t.Errorf("mode not restored on unchanged content: %v", st.Mode().Perm())
	}
	left, _ := filepath.Glob(filepath.Join(dir, "sub", ".conf.*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestServiceScripts checks the systemd fragments' text: reload only on change, restart only
// when asked, stop and disable tolerating missing units.
func TestServiceScripts(t *testing.T) {
	unit := unitScript("x.service", "[Service]\nExecStart=/bin/true\n", "chg")
	wantLines(t, "unitScript", unit,
		`mkdir -p /etc/systemd/system`,
		`if cmp -s "$t" /etc/systemd/system/x.service; then rm -f "$t"; else chmod 0644 "$t"; mv -f "$t" /etc/systemd/system/x.service; chg=1; fi`,
		`[ -z "$chg" ] || systemctl daemon-reload`)
	ensure := ensureServiceScript("x.service", `[ -n "$chg" ]`)
	want := `systemctl enable --quiet x.service
if [ -n "$chg" ]; then systemctl restart x.service
elif ! systemctl is-active --quiet x.service; then systemctl start x.service
fi
`
	if ensure != want {
		t.Errorf("ensureServiceScript:\n%s\nwant\n%s", ensure, want)
	}
	stop := stopServicesScript("a.service", enginePattern)
	wantLines(t, "stopServicesScript", stop,
		`systemctl stop a.service 2>/dev/null || true`,
		`systemctl stop 'clusterctl-ipengine@*.service' 2>/dev/null || true`,
		`for l in /etc/systemd/system/*.wants/clusterctl-ipengine@*.service; do if [ -L "$l" ]; then systemctl disable --quiet "${l##*/}"; fi; done`)
	for name, s := range map[string]string{"unit": unit, "ensure": ensure, "stop": stop,
		"apt": scriptHeader + aptEnsureScript("xvfb", "tmux"), "systemd": requireSystemd} {
		checkSyntax(t, name, s)
	}
	// The disable loop must succeed when nothing matches (a node without engines), or every
	// stop would fail there.
	loop := strings.ReplaceAll(stop, "systemctl", ": systemctl")
	loop = strings.ReplaceAll(loop, "/etc/systemd/system", t.TempDir())
	runSh(t, t.TempDir(), "set -e\n"+loop)
}

// TestAptEnsureScript checks that installing nothing does not end the enclosing script, the
// mistake of inlining aptInstallScript, whose exit 0 would skip everything after it.
func TestAptEnsureScript(t *testing.T) {
	s := aptEnsureScript("dpkg")
	if !strings.HasPrefix(s, "(\n") || !strings.HasSuffix(s, "\n)\n") {
		t.Fatalf("not a subshell:\n%s", s)
	}
	if _, err := os.Stat("/usr/bin/dpkg-query"); err != nil {
		t.Skip("needs dpkg-query")
	}
	out := runSh(t, t.TempDir(), "set -e\n"+s+"echo after")
	if !strings.Contains(out, "after") {
		t.Errorf("the script stopped after the package check:\n%s", out)
	}
}
