package ec2

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/cloudinittest"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2/mototest"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// launched is one instance as moto holds it, with what its metadata service serves.
type launched struct {
	alias, hostKey, privateIP string
	imds                      *cloudinittest.IMDS
}

// bootFixture launches instances on moto the way the engine does and pins their host keys in
// a known_hosts file the way the engine does, from the tags EC2 returns.
type bootFixture struct {
	image      string
	insts      []launched // by launch index
	keys       map[string][]byte
	loginKey   string // private key file for the login user
	knownHosts string
}

func newBootFixture(t *testing.T, n int, scripts []cloud.BootScript) *bootFixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("booting cloud-init in namespaces needs root (make test runs as root)")
	}
	requireCloudInit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	image, err := cloudinittest.Image(ctx, cloudinittest.DefaultCacheDir, t.Logf)
	if err != nil {
		t.Fatalf("cloud-init test image: %v", err)
	}
	e := newEnv(t)
	c, err := e.p.CreateCluster(e.ctx, cloud.GroupSpec{Tag: "boot"})
	if err != nil {
		t.Fatal(err)
	}
	f := &bootFixture{image: image, keys: hostKeys(t, nodeAliases(n))}
	f.loginKey, err = writeLoginKey(t)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(f.loginKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.Launch(e.ctx, cloud.LaunchRequest{Tag: "boot", GroupID: c.GroupID, Role: cloud.RoleNode, Aliases: nodeAliases(n),
		InstanceType: "t3.micro", ImageID: mototest.ImageAMD64,
		Boot: cloud.BootConfig{AuthorizedKeys: []string{string(pub)}, HostKeys: f.keys, Scripts: scripts}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.raw.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{clusterFilter("boot")}})
	if err != nil {
		t.Fatal(err)
	}
	f.insts = make([]launched, n)
	var pins []remote.HostPin
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			got := toInstance(in)
			l := launched{alias: got.Alias, hostKey: got.HostKey, privateIP: aws.ToString(in.PrivateIpAddress)}
			ud := userDataOf(t, e, aws.ToString(in.InstanceId))
			idx := int(aws.ToInt32(in.AmiLaunchIndex))
			l.imds = &cloudinittest.IMDS{UserData: ud, Meta: map[string]string{
				"ami-id": aws.ToString(in.ImageId), "ami-launch-index": fmt.Sprint(idx), "instance-id": aws.ToString(in.InstanceId),
				"instance-type": string(in.InstanceType), "local-ipv4": l.privateIP, "local-hostname": aws.ToString(in.PrivateDnsName),
				"hostname": aws.ToString(in.PrivateDnsName), "placement/availability-zone": aws.ToString(in.Placement.AvailabilityZone),
				"reservation-id": aws.ToString(r.ReservationId), "security-groups": "@sc-boot",
			}}
			f.insts[idx] = l
			pins = append(pins, remote.HostPin{Hostnames: []string{l.alias, l.privateIP}, Key: parsePin(t, l.hostKey)})
		}
	}
	f.knownHosts = filepath.Join(t.TempDir(), "known_hosts")
	if err := remote.NewKnownHosts(f.knownHosts).PinAll(pins); err != nil {
		t.Fatal(err)
	}
	return f
}

// boot boots launch index idx on a disk kept in dir, and stops it at the end of the test.
func (f *bootFixture) boot(t *testing.T, idx int, dir string, refuse bool) *cloudinittest.Machine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	in := f.insts[idx]
	imds := &cloudinittest.IMDS{Meta: in.imds.Meta, UserData: in.imds.UserData, Refuse: refuse} // a fresh request log per boot
	m, err := cloudinittest.Boot(ctx, cloudinittest.Options{Image: f.image, Dir: dir, Addresses: []string{in.privateIP}, IMDS: imds})
	if err != nil {
		t.Fatalf("boot %s: %v", in.alias, err)
	}
	t.Cleanup(m.Stop)
	return m
}

// ssh logs in as the image's login user with OpenSSH, checking the host key against the pinned
// known_hosts only, and runs command.
func (f *bootFixture) ssh(m *cloudinittest.Machine, knownHosts, addr, command string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := m.RunNet(ctx, "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+knownHosts, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
		"-o", "ConnectTimeout=10", "-i", f.loginKey, "admin@"+addr, command)
	return string(out), err
}

// writeLoginKey writes an ed25519 login key pair (OpenSSH files) and returns the private path.
func writeLoginKey(t *testing.T) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "login")
	if err != nil {
		return "", err
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	sshPub, _ := ssh.NewPublicKey(pub)
	return path, os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644)
}

// cloudInitStatus is `cloud-init status --format json` inside the machine.
func cloudInitStatus(t *testing.T, m *cloudinittest.Machine) (string, []string) {
	t.Helper()
	out, err := m.Run(context.Background(), "cloud-init", "status", "--long", "--format", "json")
	var st struct {
		Status string   `json:"status"`
		Errors []string `json:"errors"`
	}
	if jerr := json.Unmarshal(out, &st); jerr != nil {
		t.Fatalf("cloud-init status: %v %v\n%s", err, jerr, out)
	}
	return st.Status, st.Errors
}

// hostKeyFiles lists the machine's host key files.
func hostKeyFiles(t *testing.T, m *cloudinittest.Machine) []string {
	t.Helper()
	out, err := m.Run(context.Background(), "find", "/etc/ssh", "-name", "ssh_host_*")
	if err != nil {
		t.Fatalf("list host keys: %v\n%s", err, out)
	}
	var names []string
	for _, l := range strings.Fields(string(out)) {
		names = append(names, filepath.Base(l))
	}
	slices.Sort(names)
	return names
}

// installedHostKeys lists the machine's host key files and checks that its ed25519 key is the
// given one, mode 0600.
func installedHostKeys(t *testing.T, m *cloudinittest.Machine, want []byte) []string {
	t.Helper()
	base := hostKeyFiles(t, m)
	priv, err := os.ReadFile(m.DiskPath("etc/ssh/ssh_host_ed25519_key"))
	if err != nil {
		t.Fatalf("no ed25519 host key installed (%v): %v\nconsole:\n%s", base, err, m.Console())
	}
	if st, _ := os.Stat(m.DiskPath("etc/ssh/ssh_host_ed25519_key")); st.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %v", st.Mode().Perm())
	}
	got, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	wantKey, _ := ssh.ParsePrivateKey(want)
	if !bytes.Equal(got.PublicKey().Marshal(), wantKey.PublicKey().Marshal()) {
		t.Errorf("installed host key %s, want %s", ssh.FingerprintSHA256(got.PublicKey()), ssh.FingerprintSHA256(wantKey.PublicKey()))
	}
	return base
}

// TestCloudInitBoot boots the user data of a moto launch with Debian's cloud-init, one launch
// index after another, against an IMDSv2 emulator in a network namespace of the test.
func TestCloudInitBoot(t *testing.T) {
	scripts := []cloud.BootScript{
		{Name: "setup.sh", Content: []byte("#!/bin/sh\necho first >> /var/log/clusterctl-order\n")},
		{Name: "setup.sh", Content: []byte("#!/bin/sh\necho second >> /var/log/clusterctl-order\n")},
	}
	f := newBootFixture(t, 3, scripts)
	ctx := context.Background()

	for _, idx := range []int{0, 2} {
		in := f.insts[idx]
		t.Run("index "+fmt.Sprint(idx)+" serves its pinned key", func(t *testing.T) {
			m := f.boot(t, idx, t.TempDir(), false)
			if status, errs := cloudInitStatus(t, m); status != "done" || len(errs) > 0 {
				t.Errorf("cloud-init status %q, errors %q\nconsole:\n%s", status, errs, m.Console())
			}
			keys := installedHostKeys(t, m, f.keys[in.alias])
			if strings.Join(keys, " ") != "ssh_host_ed25519_key ssh_host_ed25519_key.pub" {
				t.Errorf("host key files %v: the image's own keys must be gone", keys)
			}
			out, err := f.ssh(m, f.knownHosts, in.privateIP, "cat /var/log/clusterctl-order")
			if err != nil || out != "first\nsecond\n" {
				t.Errorf("login checked against the pinned key: %v\n%s", err, out)
			}
			// The same login with another instance's key pinned for this address is refused.
			other := filepath.Join(t.TempDir(), "known_hosts")
			if err := remote.NewKnownHosts(other).PinAll([]remote.HostPin{{Hostnames: []string{in.privateIP}, Key: parsePin(t, f.insts[1].hostKey)}}); err != nil {
				t.Fatal(err)
			}
			if out, err := f.ssh(m, other, in.privateIP, "true"); err == nil || !strings.Contains(out, "Host key verification failed") {
				t.Errorf("login with another key pinned: %v\n%s", err, out)
			}
			if !strings.Contains(m.Console(), "clusterctl: metadata service limited to root (nftables)") {
				t.Errorf("console does not say the metadata service is limited:\n%s", m.Console())
			}
			checkMetadataGuard(t, ctx, m, "nftables")
		})
	}

	t.Run("every way of limiting the metadata service", func(t *testing.T) {
		m := f.boot(t, 1, t.TempDir(), false)
		for _, c := range []struct{ way, tools, undo string }{
			{"iptables", "iptables xtables-nft-multi", "nft delete table inet clusterctl_imds"},
			{"ip rule", "ip", "iptables -w -D OUTPUT -d 169.254.169.254/32 -m owner ! --uid-owner 0 -j REJECT"},
		} {
			if out, err := m.Run(ctx, "sh", "-c", c.undo); err != nil {
				t.Fatalf("%s: %v\n%s", c.undo, err, out)
			}
			if !reachable(ctx, m, "nobody") {
				t.Fatalf("the metadata service stays closed to nobody after %q: the check would prove nothing", c.undo)
			}
			out, err := runGuardWith(ctx, m, c.tools)
			if err != nil || !strings.Contains(out, "metadata service limited to root ("+c.way+")") {
				t.Fatalf("guard with only %s: %v\n%s", c.tools, err, out)
			}
			checkMetadataGuard(t, ctx, m, c.way)
		}
		if out, err := m.Run(ctx, "ip", "rule", "del", "to", "169.254.169.254/32", "uidrange", "1-4294967294", "prohibit", "priority", "100"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if out, err := runGuardWith(ctx, m, "cat"); err == nil || !strings.Contains(out, "clusterctl: FAILED to limit the metadata service to root") {
			t.Errorf("guard without any tool: %v\n%s", err, out)
		}
	})

	t.Run("a refusing metadata service is named on the console", func(t *testing.T) {
		m := f.boot(t, 1, t.TempDir(), true)
		console := m.Console()
		if !strings.Contains(console, "Calling 'http://169.254.169.254/latest/api/token' failed") || !strings.Contains(console, "403") {
			t.Errorf("console does not name the refusing metadata service:\n%s", console)
		}
		if out, err := f.ssh(m, f.knownHosts, f.insts[1].privateIP, "true"); err == nil || !strings.Contains(out, "Host key verification failed") {
			t.Errorf("a node without its user data was reachable with the pinned key: %v\n%s", err, out)
		}
	})

	t.Run("scrubbed for an image and rebooted", func(t *testing.T) {
		in, disk := f.insts[0], t.TempDir()
		m := f.boot(t, 0, disk, false)
		scrub := func() {
			t.Helper()
			if out, err := m.Run(ctx, "sh", "-c", ScrubHostKeysScript); err != nil {
				t.Fatalf("scrub: %v\n%s", err, out)
			}
			// What an image would hold: no host key file, and no file the machine wrote with
			// the private key (the image itself never had it).
			if keys := hostKeyFiles(t, m); len(keys) > 0 {
				t.Errorf("host keys left for the image: %v", keys)
			}
		}
		// An image taken without a reboot: the keys go back at once.
		scrub()
		if out, err := m.Run(ctx, "sh", "-c", RestoreHostKeysScript); err != nil {
			t.Fatalf("restore: %v\n%s", err, out)
		}
		installedHostKeys(t, m, f.keys[in.alias])
		if out, err := f.ssh(m, f.knownHosts, in.privateIP, "true"); err != nil {
			t.Errorf("login after the keys were put back: %v\n%s", err, out)
		}
		// An image taken with a reboot: cloud-init gives the key back at the next boot.
		scrub()
		m.Stop()
		secret := privateKeyBody(t, f.keys[in.alias])
		_ = filepath.WalkDir(filepath.Join(disk, "upper"), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if data, _ := os.ReadFile(p); bytes.Contains(data, secret) {
					t.Errorf("%s still holds the host private key", strings.TrimPrefix(p, disk))
				}
			}
			return nil
		})
		m = f.boot(t, 0, disk, false)
		installedHostKeys(t, m, f.keys[in.alias])
		if out, err := f.ssh(m, f.knownHosts, in.privateIP, "cat /var/log/clusterctl-order"); err != nil || out != "first\nsecond\n" {
			t.Errorf("after the reboot (boot scripts must not run again): %v\n%s", err, out)
		}
		if status, errs := cloudInitStatus(t, m); status != "done" || len(errs) > 0 {
			t.Errorf("cloud-init status %q, errors %q\nconsole:\n%s", status, errs, m.Console())
		}
	})
}

// checkMetadataGuard checks that root reaches the metadata service and nobody does not.
func checkMetadataGuard(t *testing.T, ctx context.Context, m *cloudinittest.Machine, way string) {
	t.Helper()
	if !reachable(ctx, m, "root") {
		t.Errorf("%s: root cannot reach the metadata service", way)
	}
	if reachable(ctx, m, "nobody") {
		t.Errorf("%s: nobody reaches the metadata service", way)
	}
}

// reachable reports whether user gets a metadata token.
func reachable(ctx context.Context, m *cloudinittest.Machine, user string) bool {
	out, err := m.Run(ctx, "runuser", "-u", user, "--", "curl", "-sSf", "-m", "5", "-X", "PUT",
		"-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", "http://169.254.169.254/latest/api/token")
	return err == nil && strings.Contains(string(out), "token")
}

// runGuardWith runs the boot command that limits the metadata service with only the named tools
// on its PATH (plus what any shell script needs).
func runGuardWith(ctx context.Context, m *cloudinittest.Machine, tools string) (string, error) {
	script := `set -e
d=$(mktemp -d)
for t in echo ` + tools + `; do p=$(command -v "$t") && ln -s "$p" "$d/$t"; done
PATH=$d /bin/sh -c "$1"
`
	out, err := m.Run(ctx, "sh", "-c", script, "guard", imdsGuard)
	return string(out), err
}

// privateKeyBody is a stretch of a key's OpenSSH encoding that appears in every copy of it.
func privateKeyBody(t *testing.T, raw []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) < 4 {
		t.Fatalf("key has %d lines", len(lines))
	}
	return []byte(lines[2])
}

// parsePin reads a host key tag (authorized_keys form).
func parsePin(t *testing.T, s string) ssh.PublicKey {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		t.Fatalf("host key %q: %v", s, err)
	}
	return k
}
