package config_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/plugins"
)

// TestWildConfigs loads the StarCluster configs under testdata/configs/wild (its templates,
// its documentation's examples and patterns from users' published configs) and compares what
// `config validate` reports, for the whole file and for each template, with the .expect file
// beside each: every template validates, or fails only for what it uses (a Python plugin gets
// the porting message), and everything else is a warning.
func TestWildConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/configs/wild/*.ini")
	if len(files) < 7 {
		t.Fatalf("expected the wild fixtures, found %d", len(files))
	}
	var known []string
	for _, v := range types.InstanceType("").Values() {
		known = append(known, string(v))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			abs, _ := filepath.Abs(f)
			cfg, err := config.Load(config.LoadOptions{Path: abs, Env: testEnv(filepath.Dir(abs), nil),
				Catalog: plugins.NewCatalog(), InstanceTypes: known})
			if err != nil {
				t.Fatalf("only the file and [global] can stop every command, got: %v", err)
			}
			var b strings.Builder
			b.WriteString("$ clusterctl config validate\n")
			writeReport(&b, cfg.Check(""))
			for _, name := range cfg.TemplateNames() {
				fmt.Fprintf(&b, "$ clusterctl config validate -c %s\n", name)
				rep := cfg.Check(name)
				writeReport(&b, rep)
				_, err := cfg.Template(name, nil)
				if (err == nil) != (len(rep.Errors) == 0) {
					t.Errorf("template %s: Template() says %v, Check() found %d errors", name, err, len(rep.Errors))
				}
			}
			checkGolden(t, strings.TrimSuffix(f, ".ini")+".expect", b.String())
		})
	}
}

func writeReport(b *strings.Builder, r config.Report) {
	if len(r.Errors) == 0 {
		b.WriteString("valid\n")
	}
	for _, p := range r.Errors {
		b.WriteString("error: " + p.Error() + "\n")
	}
	for _, p := range r.Warnings {
		b.WriteString("warning: " + p.Error() + "\n")
	}
	if r.Elsewhere > 0 {
		fmt.Fprintf(b, "(%d more in sections this template does not use)\n", r.Elsewhere)
	}
}

// TestStarClusterPrefixesAndAliases: sections are matched by prefix as StarCluster did
// ([keypair NAME], [vol NAME]), PROTOCOL means IP_PROTOCOL, and an empty optional value is
// unset (the template's `AWS_ACCESS_KEY_ID = #...` leaves the SDK's chain in charge).
func TestStarClusterPrefixesAndAliases(t *testing.T) {
	cfg, err := load(t, "../../testdata/configs/wild/starcluster-docs.ini", nil)
	if err != nil {
		t.Fatal(err)
	}
	small, err := cfg.Template("smallcluster", nil)
	if err != nil {
		t.Fatal(err)
	}
	if small.Key == nil || small.Key.Location != "/path/to/your/mykeypair1.rsa" || cfg.Keys["mykeypair3"] == nil {
		t.Errorf("[keypair NAME] not read as a key section: %+v %v", small.Key, cfg.Keys)
	}
	if cfg.Volumes["myvol"] == nil || cfg.Volumes["myvol"].MountPath != "/data" {
		t.Errorf("[vol NAME] not read: %v", cfg.Volumes)
	}
	if cfg.AWS.AccessKeyID != "" || cfg.AWS.SecretAccessKey != "" || cfg.AWS.RegionName != "ec2.us-west-1.amazonaws.com" {
		t.Errorf("[aws info]: %+v", cfg.AWS)
	}
	cfg, err = load(t, "../../testdata/configs/wild/starcluster-093-template.ini", nil)
	if err != nil {
		t.Fatal(err)
	}
	small, err = cfg.Template("smallcluster", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range small.Permissions {
		got[p.Name] = p.Protocol
	}
	if got["ssh"] != "tcp" || got["http"] != "udp" {
		t.Errorf("PROTOCOL is not IP_PROTOCOL: %v", got)
	}
}
