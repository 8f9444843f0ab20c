package mototest

import (
	"encoding/json"
	"fmt"
	"os"
)

// Fixture image ids. moto loads these instead of its ~1200 default images (MOTO_AMIS_PATH),
// which keeps it fast and lets tests name images that behave like the official ones.
const (
	// ImageAMD64 is an available x86_64 image (Debian 12).
	ImageAMD64 = "ami-0d12a640000000002"
	// ImageAMD64Old is another image of the same family.
	ImageAMD64Old = "ami-0d12a640000000001"
	// ImageARM64 is an available arm64 image, for architecture mismatches.
	ImageARM64 = "ami-0d12a860000000001"
	// ImageUbuntuNoble is an Ubuntu 24.04 amd64 image by Canonical's owner id.
	ImageUbuntuNoble = "ami-0ub24a640000000001"
	// ImagePending is an image that is not available yet.
	ImagePending = "ami-0bad0000000000001"
	// RootDevice is every fixture image's root device name.
	RootDevice = "/dev/xvda"
)

// Image is one fixture image in moto's AMI file format. It has no creation date: moto 5 parses
// the dates of its AMI file in place, so a second load after /moto-api/reset fails on them (all
// fixture images are therefore dated when moto loads them).
type Image struct {
	ID           string `json:"ami_id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	OwnerID      string `json:"owner_id"`
	Architecture string `json:"architecture"`
	State        string `json:"state"`
	Public       bool   `json:"public"`
	RootDevice   string `json:"root_device_name"`
	RootType     string `json:"root_device_type"`
	Virt         string `json:"virtualization_type"`
	Hypervisor   string `json:"hypervisor"`
	ImageType    string `json:"image_type"`
}

// Images returns the fixture images moto serves.
func Images() []Image {
	img := func(id, name, owner, arch, state string) Image {
		return Image{ID: id, Name: name, Description: name, OwnerID: owner, Architecture: arch, State: state,
			Public: true, RootDevice: RootDevice, RootType: "ebs", Virt: "hvm",
			Hypervisor: "xen", ImageType: "machine"}
	}
	const debian, canonical = "136693071363", "099720109477"
	return []Image{
		img(ImageAMD64Old, "debian-12-amd64-20250101-1000", debian, "x86_64", "available"),
		img(ImageAMD64, "debian-12-amd64-20250601-2000", debian, "x86_64", "available"),
		img(ImageARM64, "debian-12-arm64-20250601-2000", debian, "arm64", "available"),
		img(ImageUbuntuNoble, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610", canonical, "x86_64", "available"),
		img("ami-0bac0000000000001", "debian-12-backports-amd64-20250701-1000", debian, "x86_64", "available"),
		img(ImagePending, "debian-12-amd64-20990101-0000", debian, "x86_64", "pending"),
	}
}

// writeImages writes the fixture images where MOTO_AMIS_PATH points.
func writeImages(path string) error {
	data, err := json.Marshal(Images())
	if err != nil {
		return fmt.Errorf("encode fixture images: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write fixture images: %w", err)
	}
	return nil
}
