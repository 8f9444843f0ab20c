// Package cloudinittest boots the user data clusterctl sends to EC2 with Debian's real
// cloud-init, on this machine: a Debian root with cloud-init and sshd, built once with
// debootstrap and cached, runs cloud-init's four boot stages in private namespaces (network,
// mount, PID, UTS, IPC) that die with the test, against an IMDSv2 emulator listening on
// 169.254.169.254 inside that network namespace. Nothing reaches the host's network, mounts,
// host name or console.
package cloudinittest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultCacheDir is where the image is built and kept between runs (CI reuses it while the
// definition is unchanged): beside the local provider's test images, apart from anything
// clusterctl itself uses. `rm -rf /var/cache/clusterctl-test` removes both.
const DefaultCacheDir = "/var/cache/clusterctl-test/cloud-init"

// imageName names the cached image; its stamp file holds the hash of the definition below.
const imageName = "cloud-init-bookworm"

// The image: Debian 12 minbase with sshd, curl and both firewall front ends, then Debian's
// cloud-init. The image keeps the host keys openssh-server generated when it was installed, as
// a real image does, so a boot shows they are replaced.
var (
	debootstrapArgs = []string{"--variant=minbase",
		"--include=openssh-server,sudo,curl,iproute2,nftables,iptables,ca-certificates,procps",
		"bookworm"}
	mirror      = "http://deb.debian.org/debian"
	aptPackages = []string{"cloud-init"}
)

// testConfig is the image's cloud-init configuration, what an EC2 image's own configuration
// and ds-identify (which runs only under systemd) would give: the EC2 datasource first, short
// metadata timeouts so a refusing service fails fast, no network configuration (the namespace
// has its addresses already), a locale the minimal root has, and Debian's AMI login user,
// admin, with only groups a minimal root has.
const testConfig = `datasource_list: [Ec2, None]
datasource:
  Ec2:
    max_wait: 20
    timeout: 5
    metadata_urls: ["http://169.254.169.254"]
network:
  config: disabled
locale: C.UTF-8
system_info:
  default_user:
    name: admin
    lock_passwd: true
    gecos: Debian
    groups: [adm, sudo]
    sudo: ["ALL=(ALL) NOPASSWD:ALL"]
    shell: /bin/bash
`

// definitionHash changes whenever the image would be built differently.
func definitionHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "v1\n%q\n%s\n%q\n%s", debootstrapArgs, mirror, aptPackages, testConfig)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Image returns the root filesystem of the test image under cacheDir, building it first when it
// is missing or its definition changed (about two minutes and 400 MB). Concurrent callers,
// in this process or others, wait for one build. Progress lines go to logf.
func Image(ctx context.Context, cacheDir string, logf func(string, ...any)) (string, error) {
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cacheDir, imageName+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock the image cache: %w", err)
	}
	dir := filepath.Join(cacheDir, imageName)
	root, stamp := filepath.Join(dir, "rootfs"), filepath.Join(dir, "stamp")
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == definitionHash() {
		return root, nil
	}
	logf("building the cloud-init test image in %s (debootstrap, then apt)", dir)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	build := filepath.Join(cacheDir, imageName+".build")
	if err := os.RemoveAll(build); err != nil {
		return "", err
	}
	if err := buildImage(ctx, build, filepath.Join(cacheDir, imageName+".log")); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(build, "stamp"), []byte(definitionHash()+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(build, dir); err != nil {
		return "", err
	}
	return root, nil
}

// buildImage runs debootstrap into dir/rootfs and installs the packages with apt inside it, in
// a private mount namespace (its /proc and /dev mounts vanish with it). A policy-rc.d keeps
// package scripts from starting daemons on this machine.
func buildImage(ctx context.Context, dir, logPath string) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return errors.New("debootstrap is missing: `make deps` installs it")
	}
	root := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	run := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w (see %s)", name, err, logPath)
		}
		return nil
	}
	if err := run("debootstrap", append(append([]string{}, debootstrapArgs...), root, mirror)...); err != nil {
		return err
	}
	script := `set -e
root=$1; shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get update -qq
chroot "$root" apt-get install -y -qq --no-install-recommends "$@"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d"
`
	args := append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "build", root}, aptPackages...)
	if err := run("unshare", args...); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, "etc/cloud/cloud.cfg.d/90-clusterctl-test.cfg"), []byte(testConfig), 0o644)
}
