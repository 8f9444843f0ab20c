package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
)

func TestLoginUserOf(t *testing.T) {
	tests := []struct {
		name, owner, imageName, platform, want string
	}{
		{"debian by owner", OwnerDebian, "debian-12-amd64-20250601-2000", "Linux/UNIX", "admin"},
		{"ubuntu by owner", OwnerCanonical, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610", "Linux/UNIX", "ubuntu"},
		{"amazon linux 2023", "137112412989", "al2023-ami-2023.6.20250115.0-kernel-6.1-x86_64", "Linux/UNIX", "ec2-user"},
		{"rhel by platform", "111122223333", "my-golden-image", "Red Hat Enterprise Linux", "ec2-user"},
		{"rocky", "792107900819", "Rocky-9-EC2-Base-9.5-20241118.0.x86_64", "Linux/UNIX", "rocky"},
		{"almalinux", "764336703387", "AlmaLinux OS 9.5.20241120 x86_64", "Linux/UNIX", "ec2-user"},
		{"centos by name", "125523088429", "CentOS Stream 9 x86_64 20250101", "Linux/UNIX", "centos"},
		{"fedora by name", "125523088429", "Fedora-Cloud-Base-41-1.4.x86_64-hvm", "Linux/UNIX", "fedora"},
		{"a user's own ubuntu image", "111122223333", "segway-ubuntu-2404-node", "Linux/UNIX", "ubuntu"},
		{"unknown", "111122223333", "golden-2025", "Linux/UNIX", "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := types.Image{OwnerId: aws.String(tt.owner), Name: aws.String(tt.imageName), Description: aws.String(tt.imageName),
				PlatformDetails: aws.String(tt.platform)}
			if got := loginUserOf(img); got != tt.want {
				t.Errorf("loginUserOf(%s) = %s, want %s", tt.imageName, got, tt.want)
			}
		})
	}
}

// TestGuessLoginUser asks moto about the fixture images: the guess comes from what EC2 says of
// the image.
func TestGuessLoginUser(t *testing.T) {
	e := newEnv(t)
	for id, want := range map[string]string{mototest.ImageAMD64: "admin", mototest.ImageUbuntuNoble: "ubuntu"} {
		got, err := e.p.GuessLoginUser(e.ctx, id)
		if err != nil || got != want {
			t.Errorf("GuessLoginUser(%s) = %q, %v; want %s", id, got, err, want)
		}
	}
	if _, err := e.p.GuessLoginUser(e.ctx, "ami-0000000000000dead"); err == nil {
		t.Error("an image that does not exist has a login user")
	}
}
