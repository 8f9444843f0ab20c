package plugins

import "testing"

func TestLookup(t *testing.T) {
	c := NewCatalog()
	cases := map[string]string{
		"sge":                               "sge",
		"starcluster.plugins.sge.SGEPlugin": "sge",
		"sge.sgeplugin":                     "sge",
		"segway_plugin.Setup":               "segway",
		"starcluster.plugins.pkginstaller.PackageInstaller": "pkginstaller",
		"ipcluster.IPClusterRestartEngines":                 "ipclusterrestart",
		"mpich2.MPICH2Setup":                                "mpi",
		"  tmux ":                                           "tmux",
	}
	for in, want := range cases {
		spec, ok := c.Lookup(in)
		if !ok || spec.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, spec.Name, ok, want)
		}
	}
	for _, bad := range []string{"starcluster.plugins.hadoop.Hadoop", "mysql.MysqlCluster", ""} {
		if _, ok := c.Lookup(bad); ok {
			t.Errorf("Lookup(%q) resolved", bad)
		}
	}
	names := c.Names()
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("names not sorted and unique: %v", names)
		}
	}
	seen := map[string]string{}
	for _, s := range c.Specs() {
		for _, a := range append([]string{s.Name}, s.Aliases...) {
			if other, dup := seen[a]; dup {
				t.Errorf("%s names both %s and %s", a, other, s.Name)
			}
			seen[a] = s.Name
		}
	}
}

// TestSecret: a secret parameter is known by the plugin's name or class path; others are not.
func TestSecret(t *testing.T) {
	c := NewCatalog()
	for _, tt := range []struct {
		builtin, param string
		want           bool
	}{
		{"ipcluster", "notebook_passwd", true},
		{"ipcluster.IPCluster", "notebook_passwd", true},
		{"ipcluster", "packer", false},
		{"ipcluster", "no_such_param", false},
		{"no_such_plugin", "notebook_passwd", false},
	} {
		if got := c.Secret(tt.builtin, tt.param); got != tt.want {
			t.Errorf("Secret(%q, %q) = %v, want %v", tt.builtin, tt.param, got, tt.want)
		}
	}
}
