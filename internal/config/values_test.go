package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/plugins"
)

// reachShell are the keys whose values reach a root shell, a system file or a file name on a
// node or this machine, each with the check that guards it. Every other key is listed in
// noShell with the reason it never gets there, so a new key must be placed in one list.
var reachShell = map[string]string{
	"cluster.cluster_user":           "checkTemplate: user name",
	"cluster.login_user":             "checkTemplate: user name",
	"cluster.cluster_shell":          "choices",
	"cluster.node_image_id":          "CheckImageID",
	"cluster.node_instance_type":     "NodeTypes + CheckImageID",
	"cluster.master_image_id":        "CheckImageID",
	"cluster.master_instance_type":   "CheckInstanceType",
	"cluster.availability_zone":      "CheckAWSName",
	"cluster.subnet_id":              "CheckAWSName",
	"cluster.iam_profile":            "CheckAWSName",
	"cluster.ssh_cidr":               "checkTemplate: CIDR",
	"cluster.provider":               "choices",
	"aws info.aws_region_name":       "CheckRegion (names local files)",
	"aws info.aws_region_host":       "CheckHostName",
	"volume.volume_id":               "CheckVolumeID",
	"volume.mount_path":              "CheckMountPath",
	"volume.device":                  "checkVolume: device name",
	"permission.cidr_ip":             "checkPermission: CIDR",
	"permission.ip_protocol":         "choices",
	"segway.segway_path":             "CheckAbsPath",
	"segway.stop_services":           "CheckUnitName",
	"pkginstaller.packages":          "CheckDebianPackage",
	"pypkginstaller.packages":        "CheckPipRequirement",
	"pypkginstaller.install_command": "CheckPipCommand",
	"users.usernames":                "CheckUserName",
	"ipcluster.packer":               "choices",
	"ipcluster.notebook_directory":   "CheckRelativeOrAbsPath",
	"ipcluster.log_level":            "CheckWord",
	"tmux.envname":                   "CheckWord",
	"condor.condor_host":             "CheckHostName",
	"cluster.data_snapshots":         "dataSnapshots: snapshot id and mount path patterns",
	"volume.snapshot_id":             "checkShare: snapshot id pattern",
	"script.where":                   "checkScriptParams: choices",
	"script.run_as":                  "checkScriptParams: choices",

	// Instance types tried when EC2 has no capacity (they reach the launch, like the types above).
	"cluster.node_instance_type_alternatives": "CheckInstanceType",
}

var noShell = map[string]string{
	"cluster.scheduler":              "a choice among sge, slurm and none",
	"volume.share":                   "a choice between master and copy",
	"script.run":                     "a local file, uploaded over SFTP; its name reaches a node only quoted",
	"script.on_add_node":             "a local file, uploaded over SFTP; its name reaches a node only quoted",
	"script.on_remove_node":          "a local file, uploaded over SFTP; its name reaches a node only quoted",
	"script.on_restart":              "a local file, uploaded over SFTP; its name reaches a node only quoted",
	"script.on_shutdown":             "a local file, uploaded over SFTP; its name reaches a node only quoted",
	"script.files":                   "local files, uploaded over SFTP; their names reach a node only quoted",
	"global.default_template":        "names a [cluster] section",
	"global.include":                 "local files clusterctl reads",
	"aws info.aws_access_key_id":     "sent to AWS only, never to a node",
	"aws info.aws_secret_access_key": "signs requests; never leaves this machine",
	"aws info.aws_session_token":     "sent to AWS only",
	"aws info.aws_profile":           "names a profile of the AWS SDK",
	"aws info.aws_ec2_path":          "URL path of the endpoint",
	"key.key_location":               "a local file clusterctl reads",
	"cluster.extends":                "names a [cluster] section",
	"cluster.keyname":                "names a [key] section and an EC2 key pair",
	"cluster.volumes":                "names [volume] sections",
	"cluster.plugins":                "names [plugin] sections",
	"cluster.permissions":            "names [permission] sections",
	"cluster.userdata_scripts":       "local files, the operator's own boot scripts",
	"plugin.setup_class":             "names a built-in plugin",
	"users.download_keys_dir":        "a local directory",
	"ipcluster.notebook_passwd":      "hashed on this machine; only the hash reaches the node, over SFTP",
}

// hostileValues would change a command line, a file or a here-document if they reached a shell
// unchecked.
var hostileValues = []string{
	"$(touch /tmp/pwned)", "x`id`", "x;id", "x|id", "x && id", "a b", "x'y", `x"y`, "x>/etc/y",
	"-oDPkg::Pre-Invoke::=id", "/data$(id)", "/data/../../etc", "x\n  y",
}

// keyCase is one key of one section kind (or plugin) with a config around it.
type keyCase struct {
	id, key, header string
	base            map[string]string // other keys the section needs
	secret          bool
	typ             config.Type
}

func keyCases(t *testing.T) []keyCase {
	var out []keyCase
	bases := map[config.Kind]map[string]string{
		config.KindCluster:    {"provider": "local", "cluster_size": "1", "node_image_id": "debian-12", "node_instance_type": "small"},
		config.KindVolume:     {"volume_id": "vol-0123456789abcdef0", "mount_path": "/data"},
		config.KindPermission: {"from_port": "80", "to_port": "80"},
		config.KindKey:        {"key_location": "~/.ssh/k"},
	}
	headers := map[config.Kind]string{config.KindGlobal: "[global]", config.KindAWS: "[aws info]", config.KindKey: "[key k]",
		config.KindCluster: "[cluster c]", config.KindVolume: "[volume v]", config.KindPermission: "[permission p]", config.KindPlugin: "[plugin p]"}
	for _, k := range config.Kinds() {
		for _, st := range config.SchemaFor(k).Settings {
			if st.Ignored != "" {
				continue
			}
			base := bases[k]
			if k == config.KindPlugin {
				base = nil
			}
			out = append(out, keyCase{id: string(k) + "." + st.Name, key: st.Name, header: headers[k], base: base, secret: st.Secret, typ: st.Type})
		}
	}
	for _, spec := range plugins.NewCatalog().Specs() {
		base := map[string]string{"setup_class": spec.Name}
		for _, p := range spec.Params {
			if p.Required {
				base[p.Name] = p.Example
			}
		}
		for _, p := range spec.Params {
			out = append(out, keyCase{id: spec.Name + "." + p.Name, key: p.Name, header: "[plugin p]", base: base, secret: p.Secret, typ: p.Type})
		}
	}
	return out
}

// loadKey writes a config with value at key and returns its problems and the key's line.
func loadKey(t *testing.T, c keyCase, value string) (config.Problems, int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("[key k]\nKEY_LOCATION = ~/.ssh/k\n\n" + c.header + "\n")
	if c.header == "[key k]" {
		b.Reset()
		b.WriteString(c.header + "\n")
	}
	for k, v := range c.base {
		if k != c.key {
			fmt.Fprintf(&b, "%s = %s\n", k, v)
		}
	}
	line := strings.Count(b.String(), "\n") + 1
	fmt.Fprintf(&b, "%s = %s\n", strings.ToUpper(c.key), value)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, path, nil)
	var probs config.Problems
	if err != nil && !errors.As(err, &probs) {
		t.Fatalf("%s: %v", c.id, err)
	}
	if cfg != nil {
		// config validate's view: every problem of the file, errors for what a template uses
		// and warnings for sections none uses (which cannot reach a node until one does).
		rep := cfg.Check("")
		probs = append(append(probs, rep.Errors...), rep.Warnings...)
	}
	return probs, line
}

// TestEveryKeyIsClassified: each key of the config language and of every built-in plugin is
// either guarded by a check before it reaches a shell, or listed with the reason it never does.
func TestEveryKeyIsClassified(t *testing.T) {
	for _, c := range keyCases(t) {
		_, shell := reachShell[c.id]
		_, safe := noShell[c.id]
		if c.typ == config.Int || c.typ == config.Float || c.typ == config.Bool {
			continue // typed values carry no text
		}
		if shell == safe {
			t.Errorf("%s: list it in reachShell (with its check) or noShell (with the reason)", c.id)
		}
	}
}

// TestHostileValuesRefused: every key that reaches a shell refuses values that would change a
// command line or a file, with a problem at that key's line; every text key refuses a line
// break; secrets are never repeated in the message.
func TestHostileValuesRefused(t *testing.T) {
	for _, c := range keyCases(t) {
		if c.typ == config.Int || c.typ == config.Float || c.typ == config.Bool {
			continue
		}
		values := []string{"s3cr3t\n  y"}
		if _, ok := reachShell[c.id]; ok {
			values = hostileValues
		}
		for _, v := range values {
			probs, line := loadKey(t, c, v)
			found := false
			for _, p := range probs {
				if p.Key == c.key && p.Pos.Line == line {
					found = true
					if c.secret && strings.Contains(p.Error(), "s3cr3t") {
						t.Errorf("%s: the secret's value appears in %q", c.id, p.Error())
					}
				}
			}
			if !found {
				t.Errorf("%s = %q: no problem at its line %d; got %v", c.id, v, line, probs)
			}
		}
	}
}

// TestSafeValuesAccepted: the checks admit what StarCluster users write.
func TestSafeValuesAccepted(t *testing.T) {
	for _, tc := range []struct {
		check config.Check
		ok    []string
	}{
		{config.CheckMountPath, []string{"/data", "/data/", "/home", "/mnt/vol_1/sub-dir.2", "/opt/segway+x"}},
		{config.CheckDebianPackage, []string{"htop", "build-essential", "libc6-dev", "g++", "python3.11", "nginx=1.22.1-9", "git/bookworm-backports"}},
		{config.CheckPipRequirement, []string{"numpy", "pandas>=2", "dask[complete]", "scikit-learn==1.4.2", "ipyparallel~=8.6", "zope.interface"}},
		{config.CheckPipCommand, []string{"pip install %s", "pip3 install --user %s", "/opt/venv/bin/pip install -U %s", "python3 -m pip install %s", "pip install --index-url=https://pypi.example.org/simple %s"}},
		{config.CheckHostName, []string{"condor.example.org", "master", "10.0.0.5", "2001:db8::1"}},
		{config.CheckUnitName, []string{"apache2", "mysql.service", "getty@tty1.service"}},
		{config.CheckVolumeID, []string{"vol-0123456789abcdef0", "vol-1a2b3c4d", "vol-0123456789ab"}},
		{config.CheckRegion, []string{"us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-2"}},
	} {
		for _, v := range tc.ok {
			if err := tc.check(v); err != nil {
				t.Errorf("%q refused: %v", v, err)
			}
		}
	}
}
