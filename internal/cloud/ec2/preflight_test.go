package ec2

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

// writeKey writes a private key file and returns its path.
func writeKey(t *testing.T, name string, pemBytes []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// localKeys generates an RSA and an ed25519 key, returning private PEMs and public keys.
func localKeys(t *testing.T) (rsaPEM, rsaPub, edPEM, edPub []byte) {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	sp, _ := ssh.NewPublicKey(&rk.PublicKey)
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(ek, "")
	if err != nil {
		t.Fatal(err)
	}
	ep, _ := ssh.NewPublicKey(ek.Public())
	return rsaPEM, ssh.MarshalAuthorizedKey(sp), pem.EncodeToMemory(block), ssh.MarshalAuthorizedKey(ep)
}

func TestPreflightKeyFingerprints(t *testing.T) {
	e := newEnv(t)
	rsaPEM, rsaPub, edPEM, edPub := localKeys(t)
	files := map[string]string{"rsa-local": writeKey(t, "rsa", rsaPEM), "ed-local": writeKey(t, "ed", edPEM)}
	for _, kt := range []string{"rsa", "ed25519"} {
		_, material, err := e.p.CreateKeyPair(e.ctx, kt+"-made", kt)
		if err != nil {
			t.Fatal(err)
		}
		files[kt+"-made"] = writeKey(t, kt+"-made", material)
	}
	if _, err := e.p.ImportKeyPair(e.ctx, "rsa-imported", rsaPub); err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.ImportKeyPair(e.ctx, "ed-imported", edPub); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		key, file string
		match     bool
	}{
		{"rsa-made", "rsa-made", true},
		{"ed25519-made", "ed25519-made", true},
		{"rsa-imported", "rsa-local", true},
		{"ed-imported", "ed-local", true},
		{"rsa-made", "rsa-local", false},
		{"ed-imported", "ed25519-made", false},
		{"rsa-imported", "ed-local", false},
	}
	for _, tc := range cases {
		t.Run(tc.key+" with "+tc.file, func(t *testing.T) {
			plan := cloud.Plan{Tag: "pf", KeyFile: files[tc.file], Requests: []cloud.LaunchRequest{{
				Tag: "pf", Role: cloud.RoleMaster, Aliases: []string{"master"}, KeyName: tc.key,
				InstanceType: "t3.micro", ImageID: mototest.ImageAMD64}}}
			err := e.p.Preflight(e.ctx, plan)
			if tc.match && err != nil {
				t.Fatalf("Preflight: %v", err)
			}
			if !tc.match && (err == nil || !strings.Contains(err.Error(), "key pair "+tc.key+": fingerprint of "+files[tc.file])) {
				t.Fatalf("Preflight = %v, want a fingerprint mismatch", err)
			}
		})
	}
}

func TestPreflightReportsEverything(t *testing.T) {
	e := newEnv(t)
	_, material, err := e.p.CreateKeyPair(e.ctx, "mykey", "rsa")
	if err != nil {
		t.Fatal(err)
	}
	good := writeKey(t, "mykey.rsa", material)
	wrongPEM, _, _, _ := localKeys(t)
	wrong := writeKey(t, "other.rsa", wrongPEM)

	// A cluster "pf" whose master holds one volume, and another cluster holding a second one.
	master := launchN(t, e, "pf", 1)[0]
	stranger := launchN(t, e, "other", 1)[0]
	zone := master.Zone
	if zone != "us-east-1a" {
		t.Fatalf("moto placed the master in %s; the cases below assume us-east-1a", zone)
	}
	vol := func(name, z string) string {
		v, err := e.p.CreateVolume(e.ctx, cloud.VolumeSpec{SizeGB: 1, Zone: z, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	ownVol, freeVol, busyVol, farVol := vol("own", zone), vol("free", zone), vol("busy", zone), vol("far", "us-east-1c")
	if _, err := e.raw.CreateTags(e.ctx, tagsInput(master.ID, cloud.TagRole, "master")); err != nil {
		t.Fatal(err)
	}
	for id, inst := range map[string]string{ownVol: master.ID, busyVol: stranger.ID} {
		if err := e.p.AttachVolume(e.ctx, id, inst, "/dev/sdf"); err != nil {
			t.Fatal(err)
		}
	}

	req := func(role cloud.Role, key, image, typ string) cloud.LaunchRequest {
		return cloud.LaunchRequest{Tag: "pf", Role: role, Aliases: []string{string(role)}, KeyName: key,
			ImageID: image, InstanceType: typ, Zone: zone}
	}
	cases := []struct {
		name    string
		plan    cloud.Plan
		wantErr []string
	}{
		{
			name: "all fine, own volume attached to the master",
			plan: cloud.Plan{Tag: "pf", KeyFile: good, VolumeIDs: []string{ownVol, freeVol},
				Requests: []cloud.LaunchRequest{req(cloud.RoleMaster, "mykey", mototest.ImageAMD64, "t3.micro")}},
		},
		{
			name: "everything wrong at once",
			plan: cloud.Plan{Tag: "pf", KeyFile: wrong, VolumeIDs: []string{busyVol, farVol, "vol-0000000000000000f"},
				Requests: []cloud.LaunchRequest{
					req(cloud.RoleMaster, "missing", "ami-12345678", "t3.micro"),
					req(cloud.RoleNode, "mykey", mototest.ImageARM64, "p4de.24xlarge"),
					func() cloud.LaunchRequest {
						r := req(cloud.RoleNode, "mykey", mototest.ImagePending, "t3.micro")
						r.SpotPrice = "cheap"
						return r
					}(),
					func() cloud.LaunchRequest { // measured with a host key per instance, though none is given
						r := req(cloud.RoleNode, "mykey", mototest.ImageAMD64, "t3.micro")
						r.Aliases = nodeAliases(3)
						r.Boot.Scripts = []cloud.BootScript{{Name: "big.sh", Content: append([]byte("#!/bin/sh\n: "), randomText(t, 25500)...)}}
						return r
					}(),
				}},
			wantErr: []string{
				"key pair missing not found in us-east-1",
				"key pair mykey: fingerprint of " + wrong + " (",
				"image ami-12345678 not found in us-east-1",
				"image " + mototest.ImagePending + " is pending, not available",
				"node: image " + mototest.ImageARM64 + " is arm64 but instance type p4de.24xlarge supports only x86_64",
				"instance type p4de.24xlarge is not offered in " + zone,
				"volume " + busyVol + " is in-use (attached to " + stranger.ID + "), not available",
				"volume vol-0000000000000000f not found in us-east-1",
				"volumes must share one zone",
				"spot price \"cheap\" for node is not a positive number",
				"bytes after compression, over EC2's limit of 16384 bytes: shorten USERDATA_SCRIPTS",
			},
		},
		{
			name: "volume in another zone than requested",
			plan: cloud.Plan{Tag: "pf", VolumeIDs: []string{farVol},
				Requests: []cloud.LaunchRequest{req(cloud.RoleMaster, "mykey", mototest.ImageAMD64, "t3.micro")}},
			wantErr: []string{"volume " + farVol + " is in us-east-1c but the cluster launches in " + zone},
		},
		{
			name: "unknown instance type and subnet in the wrong zone",
			plan: cloud.Plan{Tag: "pf", Requests: []cloud.LaunchRequest{func() cloud.LaunchRequest {
				r := req(cloud.RoleMaster, "mykey", mototest.ImageAMD64, "zz9.huge")
				r.SubnetID = subnetIn(t, e, "us-east-1c")
				return r
			}()}},
			wantErr: []string{"instance type zz9.huge does not exist in us-east-1", "is in us-east-1c, not in the requested zone " + zone},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.p.Preflight(e.ctx, tc.plan)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Preflight: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Preflight found nothing")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("missing problem %q in:\n%v", want, err)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tc.wantErr) {
				t.Errorf("got %d problems, want %d:\n%v", n, len(tc.wantErr), err)
			}
		})
	}
}

func tagsInput(id, k, v string) *ec2.CreateTagsInput {
	return &ec2.CreateTagsInput{Resources: []string{id}, Tags: tagList(map[string]string{k: v})}
}

// subnetIn returns moto's default subnet in zone.
func subnetIn(t *testing.T, e *env, zone string) string {
	t.Helper()
	out, err := e.raw.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		filter("availability-zone", zone), filter("default-for-az", "true")}})
	if err != nil || len(out.Subnets) == 0 {
		t.Fatalf("no default subnet in %s: %v", zone, err)
	}
	return aws.ToString(out.Subnets[0].SubnetId)
}
