package ec2

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// recorder keeps the inputs of the RunInstances calls a provider makes, for the request fields
// moto accepts but does not keep (spot request tags, spot options).
type recorder struct {
	mu   sync.Mutex
	runs []*ec2.RunInstancesInput
}

func (r *recorder) option() func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("test.recorder",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				if run, ok := in.Parameters.(*ec2.RunInstancesInput); ok {
					r.mu.Lock()
					r.runs = append(r.runs, run)
					r.mu.Unlock()
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

// hostKeys generates an ed25519 host key per alias, as the engine does before a launch.
func hostKeys(t testing.TB, aliases []string) map[string][]byte {
	t.Helper()
	keys := map[string][]byte{}
	for _, a := range aliases {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, a)
		if err != nil {
			t.Fatal(err)
		}
		keys[a] = pem.EncodeToMemory(block)
	}
	return keys
}

func nodeAliases(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("node%03d", i+1)
	}
	return out
}

func TestLaunch(t *testing.T) {
	cases := []struct {
		name     string
		n        int
		spot     string
		zone     string
		scrpt    bool
		subnet   string // zone of the default subnet to launch into, without public addresses
		byLookup bool   // leave GroupID empty so Launch finds the cluster's group
	}{
		{name: "one node", n: 1},
		{name: "on-demand pair", n: 2, zone: "us-east-1b", scrpt: true},
		{name: "spot pair", n: 2, spot: "0.05"},
		{name: "fifty nodes", n: 50},
		{name: "more than one call holds", n: 130, scrpt: true},
		{name: "private subnet, group looked up", n: 2, subnet: "us-east-1c", byLookup: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			e := newEnv(t, rec.option())
			c, err := e.p.CreateCluster(e.ctx, cloud.GroupSpec{Tag: "lc"})
			if err != nil {
				t.Fatal(err)
			}
			aliases := nodeAliases(tc.n)
			req := cloud.LaunchRequest{
				Tag: "lc", GroupID: c.GroupID, Role: cloud.RoleNode, Aliases: aliases,
				InstanceType: "t3.micro", ImageID: mototest.ImageAMD64, Zone: tc.zone,
				SpotPrice: tc.spot, RootVolumeGB: 20,
				Boot: cloud.BootConfig{AuthorizedKeys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests user@host"},
					HostKeys: hostKeys(t, aliases)},
			}
			if tc.subnet != "" {
				req.SubnetID, req.PublicIP = subnetIn(t, e, tc.subnet), aws.Bool(false)
			}
			if tc.byLookup {
				req.GroupID = ""
			}
			if tc.scrpt {
				req.Boot.Scripts = []cloud.BootScript{{Name: "hello.sh", Content: []byte("#!/bin/sh\necho hello\n")}}
			}
			batches, err := launchBatches(aliases, req.Boot)
			if err != nil {
				t.Fatal(err)
			}
			e.calls.Reset()
			got, err := e.p.Launch(e.ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if n := e.calls.Count("RunInstances"); n != len(batches) || (tc.n <= 100) != (n == 1) {
				t.Fatalf("RunInstances calls = %d for %d instances, want %d (one up to 100)", n, tc.n, len(batches))
			}
			// Every instance is named at launch: no CreateTags at all.
			if n := e.calls.Count("CreateTags"); n != 0 {
				t.Fatalf("CreateTags calls = %d, want 0", n)
			}
			if len(got) != tc.n {
				t.Fatalf("got %d instances", len(got))
			}
			listed, err := e.p.Instances(e.ctx, "lc")
			if err != nil || len(listed) != tc.n {
				t.Fatalf("Instances = %d, %v", len(listed), err)
			}
			for i, in := range got {
				if in.Alias != aliases[i] || in.HostKey == "" {
					t.Fatalf("instance %d: alias %q host key %q tags %v", i, in.Alias, in.HostKey, in.Tags)
				}
				if l := listed[i]; l.ID != in.ID || l.Alias != in.Alias || l.HostKey != in.HostKey || l.Role != cloud.RoleNode {
					t.Fatalf("Instances()[%d] = %+v, Launch returned %+v", i, l, in)
				}
			}
			assertLaunchedInMoto(t, e, req, c.GroupID)
			if tc.spot != "" {
				assertSpotRequested(t, rec, tc.spot)
			}
		})
	}
}

// assertLaunchedInMoto checks what moto holds for every launched instance and its root volume.
func assertLaunchedInMoto(t *testing.T, e *env, req cloud.LaunchRequest, groupID string) {
	t.Helper()
	out, err := e.raw.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{clusterFilter(req.Tag)}})
	if err != nil {
		t.Fatal(err)
	}
	var insts []types.Instance
	for _, r := range out.Reservations {
		insts = append(insts, r.Instances...)
	}
	if len(insts) != len(req.Aliases) {
		t.Fatalf("moto holds %d instances, want %d", len(insts), len(req.Aliases))
	}
	var volumeIDs []string
	zones := map[string]bool{}
	seen := map[string]bool{}
	for _, in := range insts {
		id, tags := aws.ToString(in.InstanceId), tagMap(in.Tags)
		// The alias and host key as read back from what moto holds: the instance's own tags
		// for a single instance, its launch's shared tags and its launch index for several.
		got := toInstance(in)
		alias := got.Alias
		if !slices.Contains(req.Aliases, alias) || seen[alias] {
			t.Errorf("%s has alias %q (tags %v)", id, alias, tags)
		}
		seen[alias] = true
		if name := tags[cloud.TagName]; (len(req.Aliases) == 1 && name != req.Tag+"-"+alias) || !strings.HasPrefix(name, req.Tag+"-") {
			t.Errorf("%s is named %q", id, name)
		}
		if tags[cloud.TagCluster] != req.Tag || tags[cloud.TagRole] != string(req.Role) {
			t.Errorf("%s tags %v", id, tags)
		}
		_, pub, _ := normalizeHostKey(req.Boot.HostKeys[alias])
		if got.HostKey != pub || pub == "" {
			t.Errorf("%s host key %q, want %q", id, got.HostKey, pub)
		}
		// The part cloud-init picks for this instance's launch index holds its alias's key.
		if own := ownHostKey(t, e, id, aws.ToInt32(in.AmiLaunchIndex)); own != pub {
			t.Errorf("%s (%s, launch index %d) would install host key %q, want %q", id, alias, aws.ToInt32(in.AmiLaunchIndex), own, pub)
		}
		zones[aws.ToString(in.Placement.AvailabilityZone)] = true
		if in.MetadataOptions == nil || in.MetadataOptions.HttpTokens != types.HttpTokensStateRequired ||
			in.MetadataOptions.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled {
			t.Errorf("%s metadata options %+v, want IMDSv2 required", id, in.MetadataOptions)
		}
		wantLife := types.InstanceLifecycleType("")
		if req.SpotPrice != "" {
			wantLife = types.InstanceLifecycleTypeSpot
		}
		if in.InstanceLifecycle != wantLife {
			t.Errorf("%s lifecycle %q, want %q", id, in.InstanceLifecycle, wantLife)
		}
		if req.Zone != "" && aws.ToString(in.Placement.AvailabilityZone) != req.Zone {
			t.Errorf("%s in zone %s, want %s", id, aws.ToString(in.Placement.AvailabilityZone), req.Zone)
		}
		if req.SubnetID != "" && (aws.ToString(in.SubnetId) != req.SubnetID || aws.ToString(in.PublicIpAddress) != "") {
			t.Errorf("%s in subnet %s with public address %q, want %s without", id, aws.ToString(in.SubnetId),
				aws.ToString(in.PublicIpAddress), req.SubnetID)
		}
		// moto lists a network interface's groups on the interface only, not on the instance.
		groups := map[string]bool{}
		for _, g := range in.SecurityGroups {
			groups[aws.ToString(g.GroupId)] = true
		}
		for _, ni := range in.NetworkInterfaces {
			for _, g := range ni.Groups {
				groups[aws.ToString(g.GroupId)] = true
			}
		}
		if len(groups) != 1 || !groups[groupID] {
			t.Errorf("%s groups %v, want only %s", id, groups, groupID)
		}
		if len(in.BlockDeviceMappings) != 1 || aws.ToString(in.BlockDeviceMappings[0].DeviceName) != mototest.RootDevice {
			t.Fatalf("%s block devices %+v", id, in.BlockDeviceMappings)
		}
		volumeIDs = append(volumeIDs, aws.ToString(in.BlockDeviceMappings[0].Ebs.VolumeId))
	}
	if len(zones) != 1 {
		t.Errorf("instances of one request in zones %v", zones)
	}
	vols, err := e.raw.DescribeVolumes(e.ctx, &ec2.DescribeVolumesInput{VolumeIds: volumeIDs})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vols.Volumes {
		tags := tagMap(v.Tags)
		if !aws.ToBool(v.Encrypted) || v.VolumeType != types.VolumeTypeGp3 || aws.ToInt32(v.Size) != int32(req.RootVolumeGB) ||
			tags[cloud.TagCluster] != req.Tag || tags[cloud.TagRole] != string(req.Role) {
			t.Errorf("root volume %s: encrypted %v type %s size %d tags %v", aws.ToString(v.VolumeId),
				aws.ToBool(v.Encrypted), v.VolumeType, aws.ToInt32(v.Size), tags)
		}
	}
	// The user data moto stores is the gzip'd cloud-init multipart.
	text := gunzip(t, userDataOf(t, e, aws.ToString(insts[0].InstanceId)))
	for _, want := range []string{"#cloud-config", "ssh_deletekeys: true", "Launch-Index: 0", "ssh_keys:", req.Boot.AuthorizedKeys[0]} {
		if !strings.Contains(text, want) {
			t.Errorf("user data lacks %q", want)
		}
	}
	if len(req.Boot.Scripts) > 0 && !strings.Contains(text, "text/x-shellscript") {
		t.Errorf("user data lacks the boot script part")
	}
}

// assertSpotRequested checks the spot fields of the recorded request; moto turns
// InstanceMarketOptions into a spot lifecycle but creates no spot request, so neither the
// request's tags nor its price can be read back from moto.
func assertSpotRequested(t *testing.T, rec *recorder, price string) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.runs) != 1 {
		t.Fatalf("recorded %d RunInstances calls", len(rec.runs))
	}
	run := rec.runs[0]
	mo := run.InstanceMarketOptions
	if mo == nil || mo.MarketType != types.MarketTypeSpot || aws.ToString(mo.SpotOptions.MaxPrice) != price ||
		mo.SpotOptions.SpotInstanceType != types.SpotInstanceTypeOneTime ||
		mo.SpotOptions.InstanceInterruptionBehavior != types.InstanceInterruptionBehaviorTerminate {
		t.Errorf("market options %+v", mo)
	}
	tagged := map[types.ResourceType]bool{}
	for _, ts := range run.TagSpecifications {
		if tagMap(ts.Tags)[cloud.TagCluster] != "" {
			tagged[ts.ResourceType] = true
		}
	}
	for _, rt := range []types.ResourceType{types.ResourceTypeInstance, types.ResourceTypeVolume, types.ResourceTypeSpotInstancesRequest} {
		if !tagged[rt] {
			t.Errorf("no cluster tag specification for %s", rt)
		}
	}
}

// ownHostKey reads an instance's user data back from moto and returns the public host key of
// the part cloud-init uses on that launch index ("" when there is none, or more than one).
func ownHostKey(t *testing.T, e *env, id string, index int32) string {
	t.Helper()
	var found []string
	for _, p := range parts(t, userDataOf(t, e, id)) {
		if p.launchIndex == fmt.Sprint(index) {
			_, pub, _ := strings.Cut(p.body, "ed25519_public: ")
			found = append(found, strings.TrimSuffix(strings.Trim(strings.TrimSpace(pub), `"`), `\n`))
		} else if p.launchIndex == "" && strings.Contains(p.body, "ssh_keys") {
			found = append(found, "a key for every instance")
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// userDataOf reads an instance's user data back from moto, as EC2 holds it (before base64).
func userDataOf(t *testing.T, e *env, id string) []byte {
	t.Helper()
	attr, err := e.raw.DescribeInstanceAttribute(e.ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameUserData})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(attr.UserData.Value))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func gunzip(t *testing.T, raw []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("user data is not gzip: %v", err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}
