package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXvfbScript(t *testing.T) {
	s := xvfbScript()
	checkSyntax(t, "xvfb", s)
	wantLines(t, "xvfb unit", xvfbUnit,
		"User=clusterctl-xvfb",
		"ExecStart=/usr/bin/Xvfb :1 -screen 0 1920x1080x24 -nolisten tcp",
		"ExecStartPre=+/bin/sh -c 'mkdir -p /tmp/.X11-unix && chmod 1777 /tmp/.X11-unix'")
	wantLines(t, "xvfb script", s,
		"id -u clusterctl-xvfb >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin clusterctl-xvfb",
		`if [ -n "$changed" ]; then systemctl restart clusterctl-xvfb.service`,
		"mkdir -p /etc/profile.d")
	// The package check comes after set -e and inside a subshell, so the unit and the profile
	// are written whether or not xvfb had to be installed.
	if i, j := strings.Index(s, "set -e"), strings.Index(s, "(\nset -e"); i < 0 || j < i {
		t.Errorf("package check not a subshell after set -e:\n%s", s)
	}
}

func TestXvfbProfile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.sh"), []byte(xvfbProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, preset, want string }{
		{"no display: the virtual one", "", ":1"},
		{"X forwarding keeps its display", "localhost:10.0", "localhost:10.0"},
	}
	for _, tc := range cases {
		script := "unset DISPLAY\n"
		if tc.preset != "" {
			script += "DISPLAY=" + tc.preset + "; export DISPLAY\n"
		}
		out := runSh(t, dir, script+". ./p.sh\nsh -c 'echo \"$DISPLAY\"'")
		if strings.TrimSpace(out) != tc.want {
			t.Errorf("%s: DISPLAY=%q, want %q", tc.name, out, tc.want)
		}
	}
}
