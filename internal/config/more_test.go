package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/plugins"
)

const validFixture = "../../testdata/configs/valid/starcluster.ini"

func TestAWSFromEnvironment(t *testing.T) {
	cfg, err := load(t, validFixture, map[string]string{
		"AWS_ACCESS_KEY_ID":     "AKIAENVIRONMENTEXAMP",
		"aws_secret_access_key": "envSecretEnvSecretEnvSecretEnvSecret0000",
		"AWS_REGION_NAME":       "us-west-2",
		"AWS_PROXY":             "ignored-not-picked-up",
	})
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.AWS
	if a.AccessKeyID != "AKIAENVIRONMENTEXAMP" || a.SecretAccessKey != "envSecretEnvSecretEnvSecretEnvSecret0000" || a.RegionName != "us-west-2" {
		t.Fatalf("environment did not override [aws info]: %+v", a)
	}
	if got := a.Sources["aws_access_key_id"].String(); got != "environment ($AWS_ACCESS_KEY_ID)" {
		t.Errorf("source = %q", got)
	}
	if got := a.Sources["aws_secret_access_key"].String(); got != "environment ($aws_secret_access_key)" {
		t.Errorf("lower-case variable source = %q", got)
	}
	if a.RegionHost != "ec2.eu-west-1.amazonaws.com" {
		t.Errorf("file value lost: %q", a.RegionHost)
	}
}

func TestTemplateOverridesAndDefault(t *testing.T) {
	cfg, err := load(t, validFixture, nil)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := cfg.Template("", map[string]string{"cluster_size": "5", "spot_bid": "0.5", "cluster_user": "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Name != "smallcluster" || tpl.ClusterSize != 5 || *tpl.SpotBid != 0.5 || tpl.ClusterUser != "alice" {
		t.Fatalf("overrides not applied to the default template: %+v", tpl)
	}
	if got := tpl.Sources["cluster_size"].String(); got != "command line" {
		t.Errorf("source = %q", got)
	}
	if len(tpl.Volumes) != 3 || tpl.Volumes[2].Device != "/dev/sdz" || tpl.Key.Location != "/home/user/.ssh/mykey#not-a-comment.rsa" {
		t.Errorf("references not resolved: %+v %+v", tpl.Volumes, tpl.Key)
	}
	_, err = cfg.Template("smallcluster", map[string]string{"cluster_size": "0"})
	var probs config.Problems
	if !errors.As(err, &probs) || !strings.Contains(probs.Error(), "CLUSTER_SIZE must be at least 1 (the master), got 0 in [cluster smallcluster] at command line") {
		t.Fatalf("bad override not reported: %v", err)
	}
	_, err = cfg.Template("smalcluster", nil)
	var nf *config.TemplateNotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "did you mean smallcluster?") {
		t.Fatalf("missing template: %v", err)
	}
	med := cfg.Clusters["mediumcluster"]
	if med.MasterType() != "m5.xlarge" || med.DefaultNodeType() != "m5.large" || med.MasterImage() != "ami-0123456789abcdef0" {
		t.Errorf("master/default types: %s %s %s", med.MasterType(), med.DefaultNodeType(), med.MasterImage())
	}
	large := cfg.Clusters["largecluster"]
	if large.ClusterSize != 32 || !large.ForceSpotMaster || len(large.Plugins) != 1 || large.Plugins[0].Builtin != "pkginstaller" || !large.DNSPrefix {
		t.Errorf("three-deep EXTENDS not resolved: %+v", large)
	}
	if got := large.Plugins[0].Params["packages"]; !equalStrings(got, []string{"htop", "build-essential"}) {
		t.Errorf("multi-line list: %#v", got)
	}
}

func equalStrings(v any, want []string) bool {
	got, ok := v.([]string)
	return ok && strings.Join(got, "|") == strings.Join(want, "|")
}

// TestViewNeverShowsSecrets renders every template of configs holding secrets and checks that
// no secret value appears in the output.
func TestViewNeverShowsSecrets(t *testing.T) {
	secrets := []string{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "hunter2hunter2",
		"AKIARESEARCHEXAMPLE0", "researchSecretKeyExampleExampleExample00", "tokentokentoken"}
	for _, f := range []string{validFixture, "../../testdata/configs/valid/aws-credentials-include.ini"} {
		cfg, err := load(t, f, map[string]string{"AWS_SESSION_TOKEN": "tokentokentoken"})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range cfg.TemplateNames() {
			out, _ := json.Marshal(cfg.View(cfg.Clusters[name]))
			for _, s := range secrets {
				if strings.Contains(string(out), s) {
					t.Errorf("%s: view of %s shows secret %s", f, name, s)
				}
			}
			if !strings.Contains(string(out), config.Mask) {
				t.Errorf("%s: nothing masked in %s", f, name)
			}
		}
	}
}

// TestInitTemplateValidates: the file `config init` writes loads without problems, its
// warnings are exactly the placeholders left to fill in (the example image and key), and
// every declared key is explained in it.
func TestInitTemplateValidates(t *testing.T) {
	text := config.InitTemplate(plugins.NewCatalog().Specs())
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, path, nil)
	if err != nil {
		t.Fatalf("init template does not validate: %v", err)
	}
	if cfg.Global.DefaultTemplate != "smallcluster" || cfg.Clusters["smallcluster"] == nil {
		t.Fatalf("unexpected: %+v", cfg.Global)
	}
	rep := cfg.Check("")
	if len(rep.Errors) != 0 || len(rep.Warnings) != 2 ||
		!strings.HasPrefix(rep.Warnings[0].Error(), "KEY_LOCATION is still the example ~/.ssh/mykey.rsa, which does not exist in [key mykey]") ||
		!strings.HasPrefix(rep.Warnings[1].Error(), "NODE_IMAGE_ID is still the example ami-0123456789abcdef0 in [cluster smallcluster]") {
		t.Fatalf("placeholders: %v %v", rep.Errors, rep.Warnings)
	}
	for _, k := range config.Kinds() {
		for _, st := range config.SchemaFor(k).Settings {
			if st.Ignored == "" && !strings.Contains(text, st.Upper()+": ") {
				t.Errorf("%s is not explained in the init template", st.Upper())
			}
		}
	}
}

func TestNotFound(t *testing.T) {
	_, err := config.Load(config.LoadOptions{Path: filepath.Join(t.TempDir(), "nope")})
	var nf *config.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("want NotFoundError, got %v", err)
	}
}

// TestSchemaMatchesStructs keeps the schema and the typed structs in step: every declared,
// non-ignored key has a field and every tagged field a declaration.
func TestSchemaMatchesStructs(t *testing.T) {
	cfg, err := load(t, validFixture, nil)
	if err != nil {
		t.Fatal(err)
	}
	tpl := cfg.Clusters["largecluster"]
	targets := map[config.Kind]any{config.KindGlobal: &cfg.Global, config.KindAWS: &cfg.AWS, config.KindKey: tpl.Key,
		config.KindCluster: tpl, config.KindVolume: tpl.Volumes[0], config.KindPermission: tpl.Permissions[0], config.KindPlugin: &config.Plugin{}}
	for kind, target := range targets {
		declared := map[string]bool{}
		for _, st := range config.SchemaFor(kind).Settings {
			if st.Ignored == "" {
				declared[st.Name] = true
			}
		}
		for _, tag := range config.FieldTags(target) {
			if !declared[tag] {
				t.Errorf("[%s] field tagged %q has no declaration", kind, tag)
			}
			delete(declared, tag)
		}
		for name := range declared {
			t.Errorf("[%s] key %s has no field", kind, name)
		}
	}
}
