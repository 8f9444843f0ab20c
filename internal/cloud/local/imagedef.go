package local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// defaultLoginUser is the account every image creates for SSH logins, with passwordless sudo,
// like the admin user of Debian's cloud images.
const defaultLoginUser = "admin"

// builderVersion is part of every image's hash. Bump it when the build procedure changes in a
// way neither the definition nor the scripts generated from it show (say, debootstrap's
// arguments), so cached images are rebuilt.
const builderVersion = 1

// ImageDef is everything an image holds, in one place: the cached image is rebuilt whenever its
// hash changes, so editing this definition is all it takes to change what nodes run.
type ImageDef struct {
	// Name is what a template's NODE_IMAGE_ID names.
	Name string `json:"name"`
	// Suite, Mirror, Variant and Include are debootstrap's arguments.
	Suite   string   `json:"suite"`
	Mirror  string   `json:"mirror"`
	Variant string   `json:"variant"`
	Include []string `json:"include"`
	// Debconf answers are preseeded before Packages install.
	Debconf []string `json:"debconf"`
	// Packages are installed with apt-get inside the root after debootstrap (some, like
	// gridengine's, cannot go in Include: their MTA dependency defeats debootstrap's resolver).
	Packages []string `json:"packages"`
	// LoginUser is created with passwordless sudo.
	LoginUser string `json:"login_user"`
	// Enable, Disable and Mask are systemd units to enable, disable and mask in the image.
	Enable  []string `json:"enable"`
	Disable []string `json:"disable"`
	Mask    []string `json:"mask"`
	// Remove are files the packages create that each cluster must have its own of (munge's
	// key), removed from the image.
	Remove []string `json:"remove,omitempty"`
}

// imageDefs returns the images the local provider can build. debian-12 carries what the
// StarCluster use cases need (both schedulers clusterctl sets up, Grid Engine and Slurm with
// munge, IPython parallel, Xvfb for render farms), so setup installs nothing over a network the
// containers do not have.
//
//   - gridengine: its debconf "configure a cluster" answer is no, so the image holds no cell;
//     setup runs init_cluster itself with the right master host name. Its services are
//     disabled: an unconfigured node starts none, and setup enables what it configures.
//   - slurmctld, slurmd and munge are disabled likewise, and the munge key the package
//     generates is removed: setup writes a key of the cluster's own.
//   - exim4 (pulled in as gridengine's MTA) is disabled: it stalls boot resolving the host name
//     with no DNS, and no node needs to deliver mail.
//   - run-rpc_pipefs.mount is masked: nfs-common wants it, the host kernel has no sunrpc, and
//     the failure would mark every node degraded.
//   - apt installs without recommends (python3-pip would bring a compiler toolchain); the
//     package lists are dropped, since containers have no route to a mirror anyway.
func imageDefs() []ImageDef {
	return []ImageDef{{
		Name:    "debian-12",
		Suite:   "bookworm",
		Mirror:  "http://deb.debian.org/debian",
		Variant: "minbase",
		Include: []string{"systemd", "systemd-sysv", "dbus", "openssh-server", "sudo", "iproute2",
			"ca-certificates", "procps"},
		Debconf: []string{"gridengine-common shared/gridengineconfig boolean false"},
		Packages: []string{"gridengine-master", "gridengine-exec", "gridengine-client", "nfs-common",
			"slurmctld", "slurmd", "slurm-client", "munge",
			"python3", "python3-pip", "python3-ipyparallel", "tmux", "xvfb", "less"},
		LoginUser: defaultLoginUser,
		Enable:    []string{"systemd-networkd", "ssh"},
		Disable:   []string{"gridengine-master", "gridengine-exec", "slurmctld", "slurmd", "munge", "exim4"},
		Mask:      []string{"run-rpc_pipefs.mount"},
		Remove:    []string{"/etc/munge/munge.key"},
	}}
}

// ImageNames lists the images the provider can build, the values NODE_IMAGE_ID accepts.
func ImageNames() []string {
	defs := imageDefs()
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	return names
}

// lookupImage returns the definition named name, or an error listing the known names.
func lookupImage(name string) (ImageDef, error) {
	for _, d := range imageDefs() {
		if d.Name == name {
			return d, nil
		}
	}
	return ImageDef{}, fmt.Errorf("unknown image %q: the local provider builds %s", name, strings.Join(ImageNames(), ", "))
}

// Hash identifies the definition's content together with the scripts generated from it and the
// builder's version, so a cached image built from anything else is rebuilt.
func (d ImageDef) Hash() string {
	data, _ := json.Marshal(struct {
		Builder   int      `json:"builder"`
		Def       ImageDef `json:"def"`
		Install   string   `json:"install"`
		Configure string   `json:"configure"`
	}{builderVersion, d, installScript(d), configureScript(d)}) // strings always marshal
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
