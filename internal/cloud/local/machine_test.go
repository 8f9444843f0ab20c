package local

import (
	"slices"
	"strings"
	"testing"
)

func TestIsNspawnCmdline(t *testing.T) {
	cases := []struct {
		name    string
		cmdline string
		want    bool
	}{
		{"ours", "systemd-nspawn\x00--boot\x00-D\x00/x/merged\x00-M\x00i-0123456789ab\x00", true},
		{"full path, long option", "/usr/bin/systemd-nspawn\x00--machine=i-0123456789ab\x00", true},
		{"long option, separate value", "/usr/bin/systemd-nspawn\x00--machine\x00i-0123456789ab\x00", true},
		{"another machine", "systemd-nspawn\x00-M\x00i-ffffffffffff\x00", false},
		{"pid reused by another program", "sleep\x00-M\x00i-0123456789ab\x00", false},
		{"zombie", "", false},
		{"machine name as a prefix only", "systemd-nspawn\x00-M\x00i-0123456789abc\x00", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := isNspawnCmdline([]byte(c.cmdline), "i-0123456789ab"); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestNspawnArgs(t *testing.T) {
	args := nspawnArgs("/s/merged", "cc123456", "i-0123456789ab", "node001", []string{"--bind=/s/home:/home"})
	line := strings.Join(args, " ")
	for _, want := range []string{"--boot", "-D /s/merged", "--register=no", "--keep-unit", "--network-bridge=cc123456",
		"-M i-0123456789ab", "--hostname=node001", "--bind=/s/home:/home"} {
		if !strings.Contains(line, want) {
			t.Errorf("nspawn args lack %q: %s", want, line)
		}
	}
	if !isNspawnCmdline([]byte(strings.Join(append([]string{"systemd-nspawn"}, args...), "\x00")), "i-0123456789ab") {
		t.Error("the liveness check does not recognise the command line spawn uses")
	}
	if slices.Contains(args, "node001") && !slices.Contains(args, "--hostname=node001") {
		t.Error("alias used as machine name: veth names would collide")
	}
}

func TestParseMountInfo(t *testing.T) {
	info := `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
130 22 0:45 / /var/lib/clusterctl/clusters/demo/instances/i-0123456789ab/merged rw,relatime - overlay overlay rw,lowerdir=/x
131 22 0:46 / /tmp/with\040space rw - tmpfs tmpfs rw
`
	got := parseMountInfo(info)
	want := []string{"/", "/var/lib/clusterctl/clusters/demo/instances/i-0123456789ab/merged", "/tmp/with space"}
	if !slices.Equal(got, want) {
		t.Errorf("mount points = %q, want %q", got, want)
	}
	if u := unescapeMount(`a\134b\011`); u != "a\\b\t" {
		t.Errorf("unescape = %q", u)
	}
}
