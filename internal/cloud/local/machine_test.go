package local

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
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

func TestParseProcessHierarchies(t *testing.T) {
	tests := []struct {
		name, mountinfo string
		want            []string
	}{
		{name: "hybrid", mountinfo: `25 30 0:23 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
26 25 0:24 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
27 25 0:25 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
28 25 0:26 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`,
			want: []string{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"}},
		{name: "unified only", mountinfo: `35 30 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate`,
			want: []string{"/sys/fs/cgroup"}},
		{name: "legacy without a systemd hierarchy", mountinfo: `26 25 0:24 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseProcessHierarchies(tt.mountinfo); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCgroupWrapper runs the wrapper for real with files standing in for cgroup.procs: the
// wrapped command runs with the same pid the shell wrote.
func TestCgroupWrapper(t *testing.T) {
	dir := t.TempDir()
	procs := []string{filepath.Join(dir, "a procs"), filepath.Join(dir, "b")}
	name, args := cgroupWrapper(procs, "sh", []string{"-c", "echo $$"})
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil || string(data) != string(out) {
			t.Errorf("%s holds %q (%v), the command printed pid %q", p, data, err, out)
		}
	}
	if n, a := cgroupWrapper(nil, "x", []string{"y"}); n != "x" || len(a) != 1 {
		t.Errorf("without cgroups the command is run as it is: %s %v", n, a)
	}
}

func TestParseBootState(t *testing.T) {
	tests := []struct {
		name, out            string
		want                 bootState
		usable, stillBooting bool
	}{
		{name: "running", out: "running\n--\n--\n", want: bootState{System: "running"}, usable: true},
		{name: "starting", out: "starting\n--\n--\nnologin\n", want: bootState{System: "starting", NoLogin: true}, stillBooting: true},
		{name: "degraded, logins refused", out: "degraded\n--\nsystemd-user-sessions.service\n--\nnologin\n",
			want: bootState{System: "degraded", Failed: []string{"systemd-user-sessions.service"}, NoLogin: true}},
		{name: "degraded, logins allowed", out: "degraded\n--\nexim4.service\n--\n",
			want: bootState{System: "degraded", Failed: []string{"exim4.service"}}, usable: true},
		{name: "a unit name that is not one is dropped", out: "degraded\n--\n$(reboot)\nx.service\n--\n",
			want: bootState{System: "degraded", Failed: []string{"x.service"}}, usable: true},
		{name: "systemd not answering yet", out: "Failed to connect to bus: No such file or directory\n--\n--\nnologin\n",
			want: bootState{System: "Failed to connect to bus: No such file or directory", NoLogin: true}, stillBooting: true},
		{name: "offline", out: "offline\n--\n--\n", want: bootState{System: "offline"}, stillBooting: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseBootState(tt.out)
			if !reflect.DeepEqual(got, tt.want) || got.usable() != tt.usable || got.booting() != tt.stillBooting {
				t.Errorf("got %+v usable %v booting %v; want %+v usable %v booting %v",
					got, got.usable(), got.booting(), tt.want, tt.usable, tt.stillBooting)
			}
		})
	}
}
