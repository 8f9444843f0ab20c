package local

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestLookupType: the provider's own types, EC2 names mapped by their size, and an unknown name
// that lists what there is.
func TestLookupType(t *testing.T) {
	tests := []struct {
		name   string
		cpus   int
		memory int64
	}{
		{"small", 1, 1 << 30}, {"medium", 2, 2 << 30}, {"large", 2, 4 << 30},
		{"t3.micro", 1, 1 << 30}, {"m1.small", 1, 1 << 30}, {"t3.medium", 2, 2 << 30},
		{"m5.large", 2, 4 << 30}, {"c5.4xlarge", 2, 4 << 30}, {"m5.metal", 2, 4 << 30}, {"local.small", 1, 1 << 30},
	}
	for _, tt := range tests {
		got, err := lookupType(tt.name)
		if err != nil || got.cpus != tt.cpus || got.memory != tt.memory {
			t.Errorf("lookupType(%s) = %+v, %v; want %d CPUs, %d bytes", tt.name, got, err, tt.cpus, tt.memory)
		}
	}
	for _, bad := range []string{"", "huge", "m5.huge", "m5.large.x", ".large"} {
		if _, err := lookupType(bad); err == nil || !strings.Contains(err.Error(), "small, medium, large") {
			t.Errorf("lookupType(%q) = %v", bad, err)
		}
	}
	p := &Provider{}
	got, err := p.InstanceTypes(context.Background(), []string{"small", "m5.large"})
	if err != nil || got["small"].Memory != 1<<30 || got["m5.large"].CPUs != 2 {
		t.Errorf("InstanceTypes = %+v, %v", got, err)
	}
	if _, err := p.InstanceTypes(context.Background(), []string{"huge"}); err == nil {
		t.Error("an unknown type was sized")
	}
}

func TestParseCgroupMounts(t *testing.T) {
	hybrid := `25 30 0:23 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
26 25 0:24 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
27 25 0:25 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
28 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
29 25 0:27 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
30 25 0:28 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`
	m := parseCgroupMounts(hybrid)
	want := cgroupMounts{process: []string{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"},
		v1: map[string]string{"memory": "/sys/fs/cgroup/memory", "cpu": "/sys/fs/cgroup/cpu,cpuacct"}, unified: "/sys/fs/cgroup/unified"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("hybrid: %+v\nwant %+v", m, want)
	}
	if roots := m.roots(); !reflect.DeepEqual(roots, []string{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu,cpuacct"}) {
		t.Errorf("roots %v", roots)
	}
	v2 := parseCgroupMounts(`35 30 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate`)
	if len(v2.v1) != 0 || v2.unified != "/sys/fs/cgroup" || !reflect.DeepEqual(v2.roots(), []string{"/sys/fs/cgroup"}) {
		t.Errorf("unified only: %+v", v2)
	}
}
