package plugins

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestXvfbScript(t *testing.T) {
	s := xvfbScript("clusteruser")
	checkSyntax(t, "xvfb", s)
	wantLines(t, "xvfb unit", xvfbUnit,
		"User=clusterctl-xvfb",
		"ExecStart=/usr/bin/Xvfb :1 -screen 0 1920x1080x24 -nolisten tcp -auth /etc/clusterctl/xvfb/Xauthority",
		"ExecStartPre=+/usr/bin/systemd-tmpfiles --create /etc/tmpfiles.d/clusterctl-xvfb.conf")
	wantLines(t, "xvfb script", s,
		"id -u clusterctl-xvfb >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin clusterctl-xvfb",
		"getent group clusterctl-display >/dev/null || groupadd --system clusterctl-display",
		"for u in clusterctl-xvfb clusteruser $(getent passwd | awk -F: '$3 >= 1000 && $3 < 60000 { print $1 }'); do",
		`if [ -n "$changed" ]; then systemctl restart clusterctl-xvfb.service`,
		"mkdir -p /etc/profile.d")
	// No shell of root's ever touches /tmp/.X11-unix, where a user could have planted a link.
	if strings.Contains(s+xvfbUnit, "chmod 1777") {
		t.Errorf("root chmods the X socket directory in a shell")
	}
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

// TestXvfbCookie: the cookie file is one Xauthority entry for display 1 on any host, with a
// 16-byte MIT-MAGIC-COOKIE-1, readable by the display group only, and is made once.
func TestXvfbCookie(t *testing.T) {
	dir := t.TempDir()
	script := strings.ReplaceAll(xvfbCookieScript, "/etc/clusterctl", dir)
	script = strings.ReplaceAll(script, "chgrp "+xvfbGroup, "chgrp "+strconv.Itoa(os.Getgid()))
	runSh(t, dir, "set -e\nchanged=\n"+script)
	file := filepath.Join(dir, "xvfb", "Xauthority")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	field := func(i int) ([]byte, int) {
		n := int(data[i])<<8 | int(data[i+1])
		return data[i+2 : i+2+n], i + 2 + n
	}
	if len(data) != 45 || data[0] != 0xff || data[1] != 0xff {
		t.Fatalf("not one FamilyWild entry: % x", data)
	}
	addr, i := field(2)
	num, i := field(i)
	name, i := field(i)
	cookie, i := field(i)
	if len(addr) != 0 || string(num) != "1" || string(name) != "MIT-MAGIC-COOKIE-1" || len(cookie) != 16 || i != len(data) {
		t.Errorf("entry: addr %q display %q name %q cookie %d bytes", addr, num, name, len(cookie))
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	runSh(t, dir, "set -e\nchanged=\n"+script)
	if again, _ := os.ReadFile(file); string(again) != string(data) {
		t.Error("a second run made a new cookie (every display client would lose access)")
	}
}
