package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// bootScript writes a boot script of about n bytes of random text (which gzip cannot shrink
// much, like a script with embedded data) and returns its path.
func bootScript(t *testing.T, dir string, n int) string {
	t.Helper()
	raw := make([]byte, n*3/4)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "boot.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n: "+base64.StdEncoding.EncodeToString(raw)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStartSizesLaunchesByUserData: the user data is measured with its host keys before
// anything exists. A start whose instances do not fit one RunInstances call is split into
// calls that fit (101 instances with a 5.4 KB script failed after the master was created when
// a fixed batch of 100 was used); one whose boot scripts are too long is refused before
// anything is created (the cluster's record, which keeps them, is the first limit they meet;
// EC2's own pre-flight check of the user data is in internal/cloud/ec2).
func TestStartSizesLaunchesByUserData(t *testing.T) {
	cases := []struct {
		name       string
		size       int
		script     int
		wantCalls  int
		wantErrors []string
	}{
		{name: "101 instances with a 5.4 KB script", size: 101, script: 5400, wantCalls: 3},
		{name: "scripts over the limit", size: 3, script: 30000, wantErrors: []string{"USERDATA_SCRIPTS (30013 bytes)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newAWSEnv(t, smallCluster(""))
			script := bootScript(t, e.home, tc.script)
			r := e.cli("start", "-o", "-s", itoa(tc.size), "-U", script, "big")
			if len(tc.wantErrors) > 0 {
				if r.code == 0 {
					t.Fatal("start succeeded")
				}
				for _, w := range tc.wantErrors {
					if !strings.Contains(r.errOut, w) {
						t.Errorf("error lacks %q:\n%s", w, r.errOut)
					}
				}
				if len(e.groups("big")) != 0 || len(e.instances("big")) != 0 || e.calls.Count("RunInstances") != 0 {
					t.Error("something was created before the check")
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("start: %+v", r)
			}
			if n := e.calls.Count("RunInstances"); n != tc.wantCalls {
				t.Errorf("RunInstances calls = %d, want %d (master, then the nodes in calls that fit)", n, tc.wantCalls)
			}
			insts := e.instances("big")
			if len(insts) != tc.size {
				t.Fatalf("%d instances, want %d", len(insts), tc.size)
			}
			for _, in := range insts {
				attr, err := e.raw.DescribeInstanceAttribute(context.Background(), &awsec2.DescribeInstanceAttributeInput{
					InstanceId: in.InstanceId, Attribute: types.InstanceAttributeNameUserData})
				if err != nil {
					t.Fatal(err)
				}
				ud, _ := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
				if len(ud) > 16384 {
					t.Fatalf("%s has %d bytes of user data", aws.ToString(in.InstanceId), len(ud))
				}
			}
		})
	}
}

// TestBootScriptWithoutInterpreterRefused: a boot script cloud-init could not execute is a
// config problem, reported by `config validate` and by start before anything is created.
func TestBootScriptWithoutInterpreterRefused(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	script := filepath.Join(e.home, "setup.sh")
	if err := os.WriteFile(script, []byte("apt-get install -y tmux\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "USERDATA_SCRIPTS file ~/setup.sh does not start with an interpreter line"
	if err := os.WriteFile(e.config, append(mustRead(t, e.config), []byte("USERDATA_SCRIPTS = "+script+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.cli("config", "validate"); r.code != exitConfig || !strings.Contains(r.errOut, want) || !strings.Contains(r.errOut, "#!/bin/sh") {
		t.Errorf("config validate: %+v", r)
	}
	if r := e.cli("start", "-o", "nointerp"); r.code == 0 || !strings.Contains(r.errOut, want) {
		t.Errorf("start: %+v", r)
	}
	if len(e.groups("nointerp")) != 0 || e.calls.Count("RunInstances") != 0 {
		t.Error("start created something")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestEBSImageScrubsHostKeys: ebsimage removes a cluster node's host keys before imaging it
// (the scrub and both ways of getting the keys back run in the cloud-init boot test of
// internal/cloud/ec2; moto's instances have no sshd, and their addresses are not this
// machine's, so no case here connects). A stopped node is not imaged unless --keep-host-keys;
// an instance of no cluster is imaged with a warning that its keys stay.
func TestEBSImageScrubsHostKeys(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	e.must("start", "-o", "-s", "2", "img")
	var master, node string
	for _, in := range e.instances("img") {
		switch tagValue(in.Tags, "clusterctl:alias") {
		case "master":
			master = aws.ToString(in.InstanceId)
		case "node001":
			node = aws.ToString(in.InstanceId)
		}
	}
	foreign, err := e.raw.RunInstances(context.Background(), &awsec2.RunInstancesInput{ImageId: aws.String(testImage), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.raw.StopInstances(context.Background(), &awsec2.StopInstancesInput{InstanceIds: []string{node}}); err != nil {
		t.Fatal(err)
	}
	images := func() int {
		out, err := e.raw.DescribeImages(context.Background(), &awsec2.DescribeImagesInput{Owners: []string{"self"}})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Images)
	}
	cases := []struct {
		name    string
		args    []string
		ok      bool
		wantErr string
	}{
		{"stopped node", []string{node, "b"}, false, "is stopped: start it so it can be scrubbed"},
		{"--scrub of an instance of no cluster", []string{"--scrub", aws.ToString(foreign.Instances[0].InstanceId), "c"}, false, "belongs to none"},
		{"instance of no cluster", []string{aws.ToString(foreign.Instances[0].InstanceId), "d"}, true, "its host keys stay in the image"},
		{"--keep-host-keys", []string{"--keep-host-keys", master, "e"}, true, ""},
	}
	for _, c := range cases {
		before := images()
		r := e.cli(append([]string{"ebsimage"}, c.args...)...)
		if (r.code == 0) != c.ok || !strings.Contains(r.errOut, c.wantErr) {
			t.Errorf("%s: %+v", c.name, r)
		}
		if made := images() - before; (made == 1) != c.ok {
			t.Errorf("%s: %d images made", c.name, made)
		}
	}
}
