package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestNormalizeMakesSizesAlike: the same command sent to clusters of different sizes, tags
// and addresses normalizes to one text; different commands stay apart.
func TestNormalizeMakesSizesAlike(t *testing.T) {
	hosts := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "10.0.%d.%d node%03d\n", i/250, i%250+1, i)
		}
		return b.String()
	}
	list := func(n int, sep string) string {
		var out []string
		for i := 1; i <= n; i++ {
			out = append(out, fmt.Sprintf("node%03d", i))
		}
		return strings.Join(out, sep)
	}
	block := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "cat > $t/host <<'EOF'\nhostname node%03d\ncomplex_values mem_requested=%dK\nEOF\nobj e node%03d $t/host\n", i, 900000+i, i)
		}
		return b.String()
	}
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"hosts files of 3 and 1000 lines", "cat <<X\n" + hosts(3) + "X", "cat <<X\n" + hosts(1000) + "X", true},
		{"lists of names", "qconf -ah " + list(2, ","), "qconf -ah " + list(900, ","), true},
		{"a single name is not quoted, a list is", "awk -v drop=node001 x", "awk -v drop='" + list(5, " ") + "' x", true},
		{"names before a semicolon", "for n in " + list(1, " ") + "; do", "for n in " + list(40, " ") + "; do", true},
		{"blocks per host", "set -e\n" + block(2) + "done", "set -e\n" + block(300) + "done", true},
		{"the tag", "echo simrec-master", "echo bench-master", false},
		{"keys and addresses", "echo ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBv0 10.1.2.3", "echo ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIXyz 192.168.0.9", true},
		{"random upload names", "cat -- /home/admin/.clusterctl-upload-0123456789ab", "cat -- /home/admin/.clusterctl-upload-ba9876543210", true},
		{"amounts whose unit changes with them", "<hostvalue name='mem_used'>1010.6M</hostvalue> 8.57", "<hostvalue name='mem_used'>1.1G</hostvalue> 1.03", true},
		{"different commands", "systemctl restart ssh", "systemctl restart sshd", false},
		{"different structure", "qconf -ah " + list(2, ","), "qconf -as " + list(2, ","), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag := map[bool]string{true: "", false: "simrec"}[tt.name == "the tag"]
			a, b := Normalize(tt.a, tag), Normalize(tt.b, tag)
			if (a == b) != tt.same {
				t.Fatalf("same = %v, want %v:\n%s\n---\n%s", a == b, tt.same, a, b)
			}
		})
	}
	if got := Normalize("echo simrec-master", "simrec"); got != "echo {{tag}}-{{node}}" {
		t.Errorf("tag and alias: %q", got)
	}
}

func TestHostsCountsNamesOnce(t *testing.T) {
	if n := Hosts("qconf -ah master,node001,node002\nqmod -e all.q@node001"); n != 3 {
		t.Fatalf("Hosts = %d, want 3", n)
	}
}

// TestWorkFitsPerHostCost: a per-host cost is believed only where three sizes or more show
// it clearly; elsewhere the mean time is used.
func TestWorkFitsPerHostCost(t *testing.T) {
	tests := []struct {
		name    string
		samples []Sample
		hosts   int
		want    time.Duration
	}{
		{"linear in hosts", []Sample{{1, 1400}, {2, 1900}, {3, 2400}}, 1000, 900*time.Millisecond + 500*time.Second},
		{"one size", []Sample{{3, 3000}, {3, 3200}}, 1000, 3100 * time.Millisecond},
		{"two sizes always fit a line", []Sample{{2, 10}, {3, 12}}, 1000, 11 * time.Millisecond},
		{"noise", []Sample{{3, 40}, {3, 90}, {6, 60}, {6, 50}, {9, 45}, {9, 80}}, 1000, 60833 * time.Microsecond},
		{"never negative", []Sample{{1, 100}, {2, 50}, {3, 10}}, 1000, 53333 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Answers{Entries: []*Entry{{Role: "master", Command: "x", Samples: tt.samples}}}
			a.reindex()
			got := a.Work(a.Entries[0], tt.hosts)
			if d := got - tt.want; d > time.Millisecond || d < -time.Millisecond {
				t.Fatalf("Work(%d) = %s, want %s", tt.hosts, got, tt.want)
			}
		})
	}
}

func TestLookupFallsBackToEarlierRuns(t *testing.T) {
	a := &Answers{Entries: []*Entry{{Role: "node", Command: "c", Occurrence: 0, Stdout: "first"},
		{Role: "node", Command: "c", Occurrence: 1, Stdout: "second"}}}
	a.reindex()
	for occ, want := range map[int]string{0: "first", 1: "second", 5: "second"} {
		if e, ok := a.Lookup("node", false, "c", occ); !ok || e.Stdout != want {
			t.Errorf("run %d: %v %v", occ, e, ok)
		}
	}
	if _, ok := a.Lookup("master", false, "c", 0); ok {
		t.Error("a node's answer served a master")
	}
}
