package ec2

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// requireCloudInit fails a test on a machine without the distribution's cloud-init, which the
// install step (make deps) provides, and returns the Python interpreter cloud-init runs with
// (from its #! line: the python3 first on PATH may be another one, without cloud-init's modules).
func requireCloudInit(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("cloud-init")
	if err != nil {
		t.Fatal("cloud-init is missing: `make deps` installs Debian's cloud-init for its schema check and user-data parser")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := strings.Fields(strings.TrimPrefix(string(line), "#!"))
	if !bytes.HasPrefix(line, []byte("#!")) || len(fields) == 0 {
		t.Fatalf("%s has no interpreter line", path)
	}
	return fields[0]
}

// cloudInitView is what cloud-init makes of user data on one launch index
// (testdata/cloudinit_userdata.py).
type cloudInitView struct {
	Index int `json:"index"`
	Parts []struct {
		Type        string  `json:"type"`
		Filename    string  `json:"filename"`
		LaunchIndex *string `json:"launch_index"`
	} `json:"parts"`
	CloudConfig  string   `json:"cloud_config"`
	Scripts      []string `json:"scripts"`
	SchemaErrors []string `json:"schema_errors"`
}

// viewThroughCloudInit runs user data through cloud-init's processor for the given indexes.
func viewThroughCloudInit(t *testing.T, python string, userData []byte, indexes []int) map[int]cloudInitView {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "user-data")
	if err := os.WriteFile(file, userData, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"testdata/cloudinit_userdata.py", file, dir}
	for _, i := range indexes {
		args = append(args, fmt.Sprint(i))
	}
	var stderr bytes.Buffer
	cmd := exec.Command(python, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cloud-init's user-data processor: %v\n%s", err, stderr.String())
	}
	views := map[int]cloudInitView{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v cloudInitView
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("processor output %q: %v", sc.Text(), err)
		}
		views[v.Index] = v
	}
	return views
}

// TestUserDataThroughCloudInit launches on moto, reads the user data back from EC2 and hands
// it to Debian's cloud-init: its processor must see the shared cloud-config, exactly the host
// key part of the instance's own launch index and the boot scripts in config order, and the
// merged cloud-config must pass cloud-init's schema check (its Python API, strict, and the
// `cloud-init schema` command).
func TestUserDataThroughCloudInit(t *testing.T) {
	python := requireCloudInit(t)
	scripts := []cloud.BootScript{
		{Name: "setup.sh", Content: []byte("#!/bin/sh\necho first\n")},
		{Name: "setup.sh", Content: []byte("#!/bin/sh\necho second\n")},
		{Name: "aa.sh", Content: []byte("#!/bin/bash\necho third\n")},
	}
	for _, n := range []int{1, 20, 100} {
		for _, withScripts := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d instances, scripts %v", n, withScripts), func(t *testing.T) {
				e := newEnv(t)
				c, err := e.p.CreateCluster(e.ctx, cloud.GroupSpec{Tag: "ci"})
				if err != nil {
					t.Fatal(err)
				}
				aliases := nodeAliases(n)
				boot := cloud.BootConfig{AuthorizedKeys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests user@host"},
					HostKeys: hostKeys(t, aliases)}
				wantScripts := []string{}
				if withScripts {
					boot.Scripts = scripts
					wantScripts = []string{"01-setup.sh", "02-setup.sh", "03-aa.sh"}
				}
				if _, err := e.p.Launch(e.ctx, cloud.LaunchRequest{Tag: "ci", GroupID: c.GroupID, Role: cloud.RoleNode, Aliases: aliases,
					InstanceType: "t3.micro", ImageID: mototest.ImageAMD64, Boot: boot}); err != nil {
					t.Fatal(err)
				}
				byIndex, userData := launchedUserData(t, e, "ci")
				if len(byIndex) != n {
					t.Fatalf("moto holds %d launch indexes, want %d", len(byIndex), n)
				}
				indexes := slices.Compact([]int{0, n / 2, n - 1})
				views := viewThroughCloudInit(t, python, userData, indexes)
				for _, idx := range indexes {
					v, alias := views[idx], byIndex[idx]
					var seen []string
					for _, p := range v.Parts {
						li := "-"
						if p.LaunchIndex != nil {
							li = *p.LaunchIndex
						}
						seen = append(seen, p.Type+" "+p.Filename+" "+li)
					}
					want := []string{"text/cloud-config clusterctl.cfg -", fmt.Sprintf("text/cloud-config host-key-%s.cfg %d", alias, idx)}
					for _, s := range wantScripts {
						want = append(want, "text/x-shellscript "+s+" -")
					}
					if !slices.Equal(seen, want) {
						t.Errorf("index %d: cloud-init sees parts %q, want %q", idx, seen, want)
					}
					if !slices.Equal(v.Scripts, wantScripts) {
						t.Errorf("index %d: scripts run as %q, want %q", idx, v.Scripts, wantScripts)
					}
					_, pub, _ := normalizeHostKey(boot.HostKeys[alias])
					if strings.Count(v.CloudConfig, "ed25519_public") != 1 || !strings.Contains(v.CloudConfig, pub) {
						t.Errorf("index %d (%s): merged cloud-config does not hold exactly its own key:\n%s", idx, alias, v.CloudConfig)
					}
					if len(v.SchemaErrors) > 0 {
						t.Errorf("index %d: schema errors %q", idx, v.SchemaErrors)
					}
				}
				schemaCLI(t, views[indexes[len(indexes)-1]].CloudConfig)
			})
		}
	}
}

// launchedUserData maps the launch index of each of the cluster's instances to its alias, and
// returns their user data as EC2 holds it (one launch, so they share it).
func launchedUserData(t *testing.T, e *env, tag string) (map[int]string, []byte) {
	t.Helper()
	out, err := e.raw.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{clusterFilter(tag)}})
	if err != nil {
		t.Fatal(err)
	}
	byIndex := map[int]string{}
	var id string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			byIndex[int(aws.ToInt32(in.AmiLaunchIndex))] = toInstance(in).Alias
			id = aws.ToString(in.InstanceId)
		}
	}
	return byIndex, userDataOf(t, e, id)
}

// schemaCLI runs `cloud-init schema --config-file` on a cloud-config, as a user would.
func schemaCLI(t *testing.T, cloudConfig string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cloud-config.yaml")
	if err := os.WriteFile(f, []byte(cloudConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("cloud-init", "schema", "--config-file", f).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Valid cloud-config") {
		t.Errorf("cloud-init schema: %v\n%s\n%s", err, out, cloudConfig)
	}
}
