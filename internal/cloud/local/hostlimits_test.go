package local

import (
	"net/netip"
	"strings"
	"testing"
)

// TestPlanRaises: a limit is raised only when it is below what the containers need, never
// lowered, and the message says how to put it back.
func TestPlanRaises(t *testing.T) {
	limits := hostLimits()
	tests := []struct {
		name       string
		containers int
		current    map[string]int64
		want       map[string]int64
	}{
		{"a few containers fit the defaults", 4, map[string]int64{limits[0].path: 128, limits[1].path: 192536}, map[string]int64{}},
		{"32 containers need more inotify instances", 32, map[string]int64{limits[0].path: 128, limits[1].path: 192536},
			map[string]int64{"fs.inotify.max_user_instances": 512}}, // 64 + 8*32, to a power of two
		{"never lowered", 32, map[string]int64{limits[0].path: 100000, limits[1].path: 1 << 30}, map[string]int64{}},
		{"many containers need more watches too", 100, map[string]int64{limits[0].path: 128, limits[1].path: 8192},
			map[string]int64{"fs.inotify.max_user_instances": 1024, "fs.inotify.max_user_watches": 131072}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := planRaises(limits, tt.containers, func(p string) (int64, error) { return tt.current[p], nil })
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, r := range plan {
				got[r.Name] = r.New
				if !strings.Contains(r.String(), "sysctl -w "+r.Name+"=") {
					t.Errorf("message %q does not say how to restore", r.String())
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("raises %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("raises %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestMaskedUnitsAreSeeded: every unit a node does not need is masked before first boot.
func TestMaskedUnitsAreSeeded(t *testing.T) {
	masked := map[string]bool{}
	for _, f := range seedFiles("node001", instanceRecord{}, netip.MustParsePrefix("10.213.1.0/24"), hostKey{kind: "ed25519"}, nil) {
		if f.link == "/dev/null" {
			masked[strings.TrimPrefix(f.path, "/etc/systemd/system/")] = true
		}
	}
	for _, u := range []string{"console-getty.service", "systemd-networkd-wait-online.service", "apt-daily.timer", "rpcbind.socket"} {
		if !masked[u] {
			t.Errorf("%s is not masked (masked: %v)", u, masked)
		}
	}
	if masked["ssh.service"] || masked["systemd-networkd.service"] {
		t.Error("a unit a node needs is masked")
	}
}
