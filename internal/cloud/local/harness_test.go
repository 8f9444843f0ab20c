package local

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// testCluster is a real cluster of containers started the way the engine starts one: create the
// cluster, launch the master and the nodes in one request each, wait until sshd answers.
type testCluster struct {
	p        *Provider
	tag      string
	cluster  cloud.Cluster
	insts    []cloud.Instance
	hostKeys map[string]string // alias -> pinned public host key
	user     ssh.Signer
}

// clusterSpec is what startCluster builds.
type clusterSpec struct {
	tag     string
	nodes   int
	mounts  []cloud.Mount
	scripts []cloud.BootScript
	volumes []cloud.LaunchVolume
}

// startCluster starts a cluster and registers its teardown.
func startCluster(ctx context.Context, t testing.TB, p *Provider, spec clusterSpec) *testCluster {
	t.Helper()
	_, userKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(userKey)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{p: p, tag: spec.tag, hostKeys: map[string]string{}, user: signer}
	tc.cluster, err = p.CreateCluster(ctx, cloud.GroupSpec{Tag: spec.tag, Recorded: []byte(`{"test":true}`), Mounts: spec.mounts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.teardown(t) })
	aliases := []string{"master"}
	for i := 1; i <= spec.nodes; i++ {
		aliases = append(aliases, fmt.Sprintf("node%03d", i))
	}
	boot := cloud.BootConfig{LoginUser: "admin", AuthorizedKeys: []string{authorizedKey(signer.PublicKey())},
		HostKeys: map[string][]byte{}, Scripts: spec.scripts}
	for _, a := range aliases {
		k, err := generateHostKey(a)
		if err != nil {
			t.Fatal(err)
		}
		boot.HostKeys[a], tc.hostKeys[a] = k.private, k.public
	}
	groups := []struct {
		role    cloud.Role
		aliases []string
	}{{cloud.RoleMaster, aliases[:1]}, {cloud.RoleNode, aliases[1:]}}
	var ids []string
	for _, g := range groups {
		if len(g.aliases) == 0 {
			continue
		}
		got, err := p.Launch(ctx, cloud.LaunchRequest{Tag: spec.tag, GroupID: tc.cluster.GroupID, Role: g.role, Aliases: g.aliases,
			InstanceType: "local.small", ImageID: testImage, Boot: boot, Volumes: spec.volumes})
		if err != nil {
			t.Fatalf("launch %v: %v", g.aliases, err)
		}
		for _, in := range got {
			ids = append(ids, in.ID)
		}
	}
	tc.insts, err = p.Wait(ctx, spec.tag, ids, cloud.StateRunning)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// teardown terminates whatever the test left and deletes the cluster; errors fail the test,
// since leaving containers behind is exactly what must never happen.
func (tc *testCluster) teardown(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	insts, err := tc.p.Instances(ctx, tc.tag)
	if err != nil {
		t.Errorf("teardown %s: %v", tc.tag, err)
	}
	var ids []string
	for _, in := range insts {
		ids = append(ids, in.ID)
	}
	if err := tc.p.Terminate(ctx, ids); err != nil {
		t.Errorf("teardown %s: %v", tc.tag, err)
	}
	if err := tc.p.DeleteCluster(ctx, tc.tag); err != nil {
		t.Errorf("teardown %s: %v", tc.tag, err)
	}
}

// instance returns the cluster's instance with alias.
func (tc *testCluster) instance(t testing.TB, alias string) cloud.Instance {
	t.Helper()
	for _, in := range tc.insts {
		if in.Alias == alias {
			return in
		}
	}
	t.Fatalf("cluster %s has no %s", tc.tag, alias)
	return cloud.Instance{}
}

// dial connects to an instance as admin, accepting only the host key pinned for its alias.
func (tc *testCluster) dial(alias, addr string, hostKeyAlgos ...string) (*ssh.Client, error) {
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(tc.hostKeys[alias]))
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.PublicKeys(tc.user)},
		HostKeyCallback: ssh.FixedHostKey(pinned), HostKeyAlgorithms: hostKeyAlgos, Timeout: 10 * time.Second}
	return ssh.Dial("tcp", addr+":22", cfg)
}

// run runs a command on the instance with alias and returns its trimmed output.
func (tc *testCluster) run(t testing.TB, alias, command string) (string, error) {
	t.Helper()
	in := tc.instance(t, alias)
	client, err := tc.dial(alias, in.PrivateIP)
	if err != nil {
		return "", fmt.Errorf("ssh %s (%s): %w", alias, in.PrivateIP, err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(command)
	return strings.TrimSpace(string(out)), err
}

// mustRun is run that fails the test on error.
func (tc *testCluster) mustRun(t testing.TB, alias, command string) string {
	t.Helper()
	out, err := tc.run(t, alias, command)
	if err != nil {
		t.Fatalf("%s: %q: %v\n%s", alias, command, err, out)
	}
	return out
}

// eventually polls cond until it holds or d passes.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processesMentioning lists host processes whose command line contains s.
func processesMentioning(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(data), s) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(data), "\x00", " "))
		}
	}
	return out
}
