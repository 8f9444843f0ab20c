package local

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestPreflightReportsEveryProblem(t *testing.T) {
	ctx := context.Background()
	p, err := New(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	vol, err := p.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: 1})
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, maxInstancesPerCluster+1)
	plan := cloud.Plan{
		Tag: "demo",
		Requests: []cloud.LaunchRequest{
			{Role: cloud.RoleMaster, Aliases: []string{"master"}, ImageID: "ami-0abc", InstanceType: "huge"},
			{Role: cloud.RoleNode, Aliases: many, ImageID: "debian-12", InstanceType: "small",
				Boot: cloud.BootConfig{HostKeys: map[string][]byte{"": []byte("garbage")}}},
		},
		VolumeIDs: []string{vol.ID, "vol-00000000dead"},
	}
	err = p.Preflight(ctx, plan)
	if err == nil {
		t.Fatal("no problems found")
	}
	msg := err.Error()
	want := []string{
		`unknown image "ami-0abc"`, "debian-12", // names what exists
		`unknown instance type "huge": the local provider has small, medium, large`,
		"do not fit a cluster's /24",
		"vol-00000000dead",
		"host key",
	}
	if os.Geteuid() != 0 {
		want = append(want, "the local provider needs root: run with sudo")
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("preflight error lacks %q:\n%s", w, msg)
		}
	}
	if strings.Contains(msg, vol.ID) {
		t.Errorf("an existing, available volume was reported:\n%s", msg)
	}
	if !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("a missing volume should match cloud.ErrNotFound: %v", err)
	}

	ok := cloud.Plan{Tag: "demo", Requests: []cloud.LaunchRequest{{Role: cloud.RoleMaster, Aliases: []string{"master"}, ImageID: "debian-12", InstanceType: "m5.large"}},
		VolumeIDs: []string{vol.ID}}
	err = p.Preflight(ctx, ok)
	if os.Geteuid() == 0 && requireTools("systemd-nspawn", "debootstrap", "ip") == nil {
		if err != nil {
			t.Errorf("a good plan failed preflight: %v", err)
		}
	} else if err == nil {
		t.Error("preflight passed without root or tools")
	}
}

func TestRequireToolsNamesPackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := requireTools("systemd-nspawn", "debootstrap", "ip")
	if err == nil {
		t.Fatal("tools found on an empty PATH")
	}
	for _, w := range []string{"systemd-nspawn is missing (package systemd-container)", "debootstrap is missing", "ip is missing (package iproute2)",
		"apt-get install systemd-container debootstrap iproute2"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
}
