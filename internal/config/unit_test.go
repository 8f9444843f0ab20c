package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestScanInlineComments(t *testing.T) {
	text := "[cluster a]\nFOO = bar # comment\nBAZ = qux# kept\nX = 1 ; semicolon\n# whole line\n; whole line\nLIST = a,\n  b\n"
	clean, found, probs := scan("f.ini", text)
	if len(probs) != 0 {
		t.Fatalf("unexpected problems: %v", probs)
	}
	secs, probs, _ := parseFile("f.ini", text)
	if len(probs) != 0 || len(secs) != 1 {
		t.Fatalf("parse: %v %d", probs, len(secs))
	}
	want := map[string]string{"foo": "bar", "baz": "qux# kept", "x": "1", "list": "a,\nb"}
	for k, v := range want {
		if got := secs[0].Keys[k].Value; got != v {
			t.Errorf("%s = %q, want %q (clean text %q)", k, got, v, clean)
		}
	}
	lines := map[string]int{}
	for _, f := range found {
		lines[f.Key] = f.Line
	}
	if lines["foo"] != 2 || lines["list"] != 7 {
		t.Errorf("line numbers wrong: %v", lines)
	}
}

func TestParseNodeTypes(t *testing.T) {
	cases := []struct {
		in   string
		want []InstanceSpec
		err  string
	}{
		{"m5.large", []InstanceSpec{{Type: "m5.large"}}, ""},
		{"c5.xlarge:ami-1:3, m5.large:2, t3.small", []InstanceSpec{{"c5.xlarge", "ami-1", 3}, {"m5.large", "", 2}, {"t3.small", "", 0}}, ""},
		{"c5.xlarge:ami-1, m5.large", []InstanceSpec{{"c5.xlarge", "ami-1", 1}, {"m5.large", "", 0}}, ""},
		{"small", []InstanceSpec{{Type: "small"}}, ""},
		{"a:b:c:d, m5.large", nil, "too many parts"},
		{"c5.large:ami-1:x, m5.large", nil, "must be a whole number"},
		{"m5.large:2", nil, "must be a plain instance type"},
		{"m5 large", nil, "not an instance type name"},
		{" , ", nil, "empty"},
	}
	for _, c := range cases {
		got, msg := parseNodeTypes(c.in)
		if c.err != "" {
			if !strings.Contains(msg, c.err) {
				t.Errorf("%q: error %q, want it to contain %q", c.in, msg, c.err)
			}
			continue
		}
		if msg != "" || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v %q, want %+v", c.in, got, msg, c.want)
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"True": true, "yes": true, "ON": true, "1": true, "false": false, "No": false, "off": false, "0": false} {
		got, ok := parseBool(in)
		if !ok || got != want {
			t.Errorf("parseBool(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := parseBool("maybe"); ok {
		t.Error("maybe parsed as a boolean")
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"node_instance_type", "node_image_id", "cluster_size", "keyname"}
	cases := map[string]string{
		"NODE_INSTANCETYPE": "node_instance_type",
		"node_imageid":      "node_image_id",
		"kyename":           "keyname",
		"colour":            "",
		"size":              "",
	}
	for in, want := range cases {
		if got := suggest(in, cands); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExpandPath(t *testing.T) {
	env := Env{Home: "/home/u", Lookup: func(k string) (string, bool) {
		if k == "DATA" {
			return "/srv/data", true
		}
		return "", false
	}}
	cases := map[string]string{
		"~":                "/home/u",
		"~/.ssh/id":        "/home/u/.ssh/id",
		"$DATA/x":          "/srv/data/x",
		"${DATA}/y":        "/srv/data/y",
		"$UNSET/z":         "${UNSET}/z",
		"/abs/~notexpand":  "/abs/~notexpand",
		"relative/path.rs": "relative/path.rs",
	}
	for in, want := range cases {
		if got := env.ExpandPath(in); got != want {
			t.Errorf("ExpandPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocate(t *testing.T) {
	home := t.TempDir()
	env := func(vars map[string]string) Env {
		return Env{Home: home, Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	}
	loc := Locate("", env(nil))
	if loc.Exists || loc.Path != filepath.Join(home, ".clusterctl", "config") || len(loc.Searched) != 2 {
		t.Fatalf("no config anywhere: %+v", loc)
	}
	sc := filepath.Join(home, ".starcluster", "config")
	writeFile(t, sc, "[global]\n")
	if loc := Locate("", env(nil)); !loc.Exists || loc.Path != sc {
		t.Fatalf("StarCluster config not found: %+v", loc)
	}
	ours := filepath.Join(home, ".clusterctl", "config")
	writeFile(t, ours, "[global]\n")
	if loc := Locate("", env(nil)); loc.Path != ours {
		t.Fatalf("own config should win: %+v", loc)
	}
	if loc := Locate("", env(map[string]string{"STARCLUSTER_CONFIG": "/x/sc", "CLUSTERCTL_CONFIG": "/x/cc"})); loc.Path != "/x/cc" || loc.Exists {
		t.Fatalf("CLUSTERCTL_CONFIG should win: %+v", loc)
	}
	if loc := Locate("", env(map[string]string{"STARCLUSTER_CONFIG": "/x/sc"})); loc.Path != "/x/sc" {
		t.Fatalf("STARCLUSTER_CONFIG: %+v", loc)
	}
	if loc := Locate("~/flag.ini", env(map[string]string{"CLUSTERCTL_CONFIG": "/x/cc"})); loc.Path != filepath.Join(home, "flag.ini") {
		t.Fatalf("flag should win: %+v", loc)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
