package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// Attacks through tags: another principal in the account who may call ec2:CreateTags (but not
// launch into the cluster's security group) writes hostile values with the AWS API, and every
// command that loads the cluster refuses them or ignores what they name, saying which tag.

// cliWithin runs a command that might loop (loadbalance) with a deadline.
func (e *awsEnv) cliWithin(d time.Duration, args ...string) cliResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	streams, _, out, errOut := ui.TestStreams()
	code := runWith(ctx, append([]string{"--config", e.config}, args...), streams, func(a *app) {
		a.apiOptions = append([]func(*middleware.Stack) error{e.calls.APIOption()}, e.extra...)
		a.pollInterval = 20 * time.Millisecond
		a.waitTimeout = 300 * time.Millisecond
		a.publicIP = e.ip
		a.localStateDir = e.home
	})
	return cliResult{code: code, out: out.String(), errOut: errOut.String()}
}

// instanceByAlias returns the cluster's instance carrying alias.
func (e *awsEnv) instanceByAlias(tag, alias string) types.Instance {
	e.t.Helper()
	for _, in := range e.instances(tag) {
		if ec2.InstanceOf(in).Alias == alias {
			return in
		}
	}
	e.t.Fatalf("cluster %s has no %s", tag, alias)
	return types.Instance{}
}

// setTags writes tags on a resource with the AWS API, as the attacker does.
func (e *awsEnv) setTags(id string, tags map[string]string) {
	e.t.Helper()
	var list []types.Tag
	for k, v := range tags {
		list = append(list, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := e.raw.CreateTags(context.Background(), &awsec2.CreateTagsInput{Resources: []string{id}, Tags: list}); err != nil {
		e.t.Fatal(err)
	}
}

// rewriteRecord replaces the recorded template on the cluster's group.
func (e *awsEnv) rewriteRecord(groupID string, tags []types.Tag, edit func(*cluster.Record)) {
	e.t.Helper()
	old := map[string]string{}
	for _, tg := range tags {
		old[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	data, err := cloud.DecodeRecord(old)
	if err != nil {
		e.t.Fatal(err)
	}
	var rec cluster.Record
	if err := json.Unmarshal(data, &rec); err != nil {
		e.t.Fatal(err)
	}
	edit(&rec)
	e.setTags(groupID, cloud.EncodeRecord(rec.Encode()))
}

// foreignInstance launches an instance outside the cluster (another principal's, in the
// default group, with no key pair) and tags it into the cluster.
func (e *awsEnv) foreignInstance(tag, alias string) string {
	e.t.Helper()
	out, err := e.raw.RunInstances(context.Background(), &awsec2.RunInstancesInput{ImageId: aws.String(testImage),
		InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		e.t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	e.setTags(id, map[string]string{cloud.TagCluster: tag, cloud.TagAlias: alias, cloud.TagRole: "node", cloud.TagName: tag + "-" + alias})
	return id
}

// clusterLoaders are the commands that load a cluster, each with whether it only calls the
// provider's API (stop, terminate: no alias or host key reaches them).
func clusterLoaders(tag, dir string) []struct {
	args    []string
	apiOnly bool
} {
	file := filepath.Join(dir, "f.txt")
	_ = os.WriteFile(file, []byte("x"), 0o600)
	return []struct {
		args    []string
		apiOnly bool
	}{
		{[]string{"listclusters", tag}, false},
		{[]string{"sshmaster", tag, "true"}, false},
		{[]string{"sshnode", tag, "node001", "true"}, false},
		{[]string{"put", tag, file, "/tmp/"}, false},
		{[]string{"get", tag, "/etc/hostname", dir}, false},
		{[]string{"addnode", "-x", "-a", "node001", tag}, false},
		{[]string{"removenode", "-y", "-a", "node001", tag}, false},
		{[]string{"restart", tag}, false},
		{[]string{"runplugin", "sge", tag}, false},
		{[]string{"loadbalance", tag}, false},
		{[]string{"stop", "-y", tag}, true},
	}
}

// TestHostileTagsIgnored: an alias with shell characters, a host key with a newline and a
// foreign instance tagged into the cluster are ignored by every command, each with a warning
// naming the instance and the tag; stop and terminate never touch the foreign instance.
func TestHostileTagsIgnored(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	e.must("start", "-o", "hostile")
	e.must("stop", "-y", "hostile") // nothing runs, so no command reaches SSH
	node2 := aws.ToString(e.instanceByAlias("hostile", "node002").InstanceId)
	node1 := aws.ToString(e.instanceByAlias("hostile", "node001").InstanceId)
	e.setTags(node2, map[string]string{cloud.TagAlias: "n;touch /tmp/pwned"})
	key := ec2.InstanceOf(e.instanceByAlias("hostile", "node001")).HostKey
	e.setTags(node1, map[string]string{cloud.TagHostKey: key + "\nCLUSTERCTL_EOF\ntouch /tmp/pwned"})
	foreign := e.foreignInstance("hostile", "node009")
	dir := t.TempDir()
	wantForeign := "instance " + foreign + " is not treated as a member of cluster hostile: it carries tag clusterctl:cluster=hostile, but is not in the cluster's security group"
	for _, c := range append(clusterLoaders("hostile", dir), struct {
		args    []string
		apiOnly bool
	}{[]string{"start", "-x", "-o", "hostile"}, false}, struct {
		args    []string
		apiOnly bool
	}{[]string{"terminate", "-y", "hostile"}, true}) {
		r := e.cliWithin(5*time.Second, c.args...)
		want := []string{wantForeign}
		if !c.apiOnly {
			want = append(want, "instance "+node2+" is not treated as a member of cluster hostile: tag clusterctl:alias = \"n;touch /tmp/pwned\" is not a host name",
				"instance "+node1+" is not treated as a member of cluster hostile: tag clusterctl:hostkey is not one ssh-ed25519 key")
		}
		for _, w := range want {
			if !strings.Contains(r.errOut, w) {
				t.Errorf("%v: stderr lacks %q\nexit %d\n%s", c.args, w, r.code, r.errOut)
			}
		}
		if strings.Contains(r.out+r.errOut, "n;touch /tmp/pwned\n") {
			t.Errorf("%v: the hostile alias was used", c.args)
		}
		if c.args[0] == "start" && (r.code == 0 || !strings.Contains(r.errOut, "2 instances whose tags fail their checks")) {
			t.Errorf("start -x launched beside tampered instances: exit %d\n%s", r.code, r.errOut)
		}
	}
	for _, in := range e.instances("hostile") {
		if aws.ToString(in.InstanceId) == foreign && in.State.Name != types.InstanceStateNameRunning {
			t.Errorf("the foreign instance was touched: %s", in.State.Name)
		}
	}
	found := false
	for _, in := range e.instances("hostile") {
		found = found || aws.ToString(in.InstanceId) == foreign
	}
	if !found {
		t.Error("terminate terminated the foreign instance")
	}
	for _, id := range []string{node1, node2} {
		for _, in := range e.instances("hostile") {
			if aws.ToString(in.InstanceId) == id {
				t.Errorf("terminate left the cluster's own instance %s (tags tampered with) behind", id)
			}
		}
	}
}

// TestHostileTagsRefused: a rewritten template (sealed or not), two instances claiming one
// alias, and a host key that changed after it was pinned stop every command that would act
// on them, with a message naming the tag; terminate still removes the cluster.
func TestHostileTagsRefused(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		attack  func(e *awsEnv, tag string)
		want    []string
		apiWarn bool // stop, which needs neither template nor aliases, warns and goes on
		listErr bool // listclusters warns about it
	}{
		{"template with a hostile mount path", func(e *awsEnv, tag string) {
			g := e.groups(tag)[0]
			e.rewriteRecord(aws.ToString(g.GroupId), g.Tags, func(r *cluster.Record) {
				r.Volumes = []cluster.RecordVolume{{Name: "data", ID: "vol-0123456789abcdef0", MountPath: "/data$(touch /tmp/pwned)"}}
			})
		}, []string{"tags clusterctl:template", "changed afterwards"}, true, true},
		{"two instances claiming one alias", func(e *awsEnv, tag string) {
			e.setTags(aws.ToString(e.instanceByAlias(tag, "node002").InstanceId), map[string]string{cloud.TagAlias: "node001"})
		}, []string{"all carry tag clusterctl:alias = node001"}, true, true},
		{"host key changed after pinning", func(e *awsEnv, tag string) {
			keys, err := cluster.NewHostKeys([]string{"x"})
			if err != nil {
				t.Fatal(err)
			}
			e.setTags(aws.ToString(e.instanceByAlias(tag, "node001").InstanceId), map[string]string{cloud.TagHostKey: keys["x"].Public})
		}, []string{"host key alarm for node001", "tag clusterctl:hostkey of instance"}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newAWSEnv(t, smallCluster(""))
			e.must("start", "-o", "victim")
			e.must("stop", "-y", "victim")
			tc.attack(e, "victim")
			for _, c := range clusterLoaders("victim", dir) {
				r := e.cliWithin(5*time.Second, c.args...)
				warnOnly := (c.apiOnly && tc.apiWarn) || (c.args[0] == "listclusters" && tc.listErr)
				if warnOnly && (r.code != 0 || !strings.Contains(r.errOut, tc.want[0])) {
					t.Errorf("%v: want a warning naming %q and success, got exit %d\n%s", c.args, tc.want[0], r.code, r.errOut)
				}
				if warnOnly || c.apiOnly || c.args[0] == "listclusters" {
					continue
				}
				if r.code == 0 {
					t.Errorf("%v: not refused\n%s", c.args, r.errOut)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.errOut, w) {
						t.Errorf("%v: stderr lacks %q\n%s", c.args, w, r.errOut)
					}
				}
			}
			r := e.cliWithin(20*time.Second, "terminate", "-y", "victim")
			if r.code != 0 || len(e.instances("victim")) != 0 {
				t.Errorf("terminate after the attack: exit %d, %d instances left\n%s", r.code, len(e.instances("victim")), r.errOut)
			}
		})
	}
}

// TestUnsealedHostileRecordRefused: a cluster group made without a seal (as by an older
// clusterctl, or by hand) whose template holds a hostile mount path is refused value by value.
func TestUnsealedHostileRecordRefused(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	e.must("start", "-o", "model")
	g := e.groups("model")[0]
	tags := map[string]string{}
	for _, tg := range g.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	data, err := cloud.DecodeRecord(tags)
	if err != nil {
		t.Fatal(err)
	}
	var rec cluster.Record
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	rec.Volumes = []cluster.RecordVolume{{Name: "data", ID: "vol-0123456789abcdef0", MountPath: "/data$(touch /tmp/pwned)"}}
	out, err := e.raw.CreateSecurityGroup(context.Background(), &awsec2.CreateSecurityGroupInput{
		GroupName: aws.String("@sc-old"), Description: aws.String("clusterctl cluster old")})
	if err != nil {
		t.Fatal(err)
	}
	newTags := cloud.EncodeRecord(rec.Encode())
	newTags[cloud.TagCluster] = "old"
	e.setTags(aws.ToString(out.GroupId), newTags)

	// Boot scripts run as root on every new node: an unsealed record may not carry them.
	rec.Volumes = nil
	rec.BootScripts = []cluster.RecordScript{{Name: "boot.sh", Content: "#!/bin/sh\ntouch /tmp/pwned\n"}}
	out, err = e.raw.CreateSecurityGroup(context.Background(), &awsec2.CreateSecurityGroupInput{
		GroupName: aws.String("@sc-scripted"), Description: aws.String("clusterctl cluster scripted")})
	if err != nil {
		t.Fatal(err)
	}
	newTags = cloud.EncodeRecord(rec.Encode())
	newTags[cloud.TagCluster] = "scripted"
	e.setTags(aws.ToString(out.GroupId), newTags)

	for tag, want := range map[string]string{
		"old":      "recorded template (tag clusterctl:template) is refused: volume data: MOUNT_PATH",
		"scripted": "recorded template (tag clusterctl:template) is refused: boot_scripts: a record without a seal",
	} {
		for _, c := range clusterLoaders(tag, t.TempDir()) {
			if c.args[0] == "listclusters" || c.apiOnly {
				continue
			}
			r := e.cliWithin(5*time.Second, c.args...)
			if r.code == 0 || !strings.Contains(r.errOut, want) {
				t.Errorf("%v: exit %d\n%s", c.args, r.code, r.errOut)
			}
		}
	}
}

// TestChainCredentialsRedacted: credentials the AWS SDK finds by itself (here, a shared
// credentials file the config never names) are registered with the redactor as soon as they are used, as those written in
// the config are, so no output or log can show them.
func TestChainCredentialsRedacted(t *testing.T) {
	e := newAWSEnv(t, smallCluster(""))
	// Neither matches a built-in pattern (AKIA..., secret=...): only registering masks them.
	const key, secret = "CHAINKEYEXAMPLE00001", "wXyZ/ExampleValue+0123456789abcdefGHIJ"
	// A shared credentials file the config does not include: only the SDK reads it.
	creds := filepath.Join(e.home, ".aws", "credentials")
	if err := os.MkdirAll(filepath.Dir(creds), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = "+key+"\naws_secret_access_key = "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds) // the SDK fixed ~ when the test binary started
	t.Setenv("AWS_PROFILE", "default")
	streams, _, _, errOut := ui.TestStreams()
	code := runWith(context.Background(), []string{"--config", e.config, "listclusters"}, streams, func(a *app) {
		a.apiOptions = []func(*middleware.Stack) error{e.calls.APIOption()}
		a.localStateDir = e.home
	})
	if code != 0 {
		t.Fatalf("listclusters: exit %d\n%s", code, errOut)
	}
	if got := streams.Redactor().String("id " + key + " and " + secret); strings.Contains(got, key) || strings.Contains(got, secret) {
		t.Errorf("chain credentials not redacted: %q", got)
	}
}
