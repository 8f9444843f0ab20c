package remote_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
	"golang.org/x/crypto/ssh"
)

func TestPinWritesOpenSSHLines(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "known_hosts")
	kh := remote.NewKnownHosts(filepath.Join(dir, "mycluster"))
	k1 := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
	k2 := sshtest.NewSigner(t, sshtest.ECDSA).PublicKey()
	k3 := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
	steps := []struct {
		name  string
		do    func() error
		lines []string
	}{
		{name: "pin master", do: func() error { return kh.Pin([]string{"master", "10.0.0.5"}, k1) },
			lines: []string{"master,10.0.0.5 " + authorized(k1)}},
		{name: "pin node on port", do: func() error { return kh.Pin([]string{"node001:2222", "10.0.0.6:2222"}, k2) },
			lines: []string{"master,10.0.0.5 " + authorized(k1), "[node001]:2222,[10.0.0.6]:2222 " + authorized(k2)}},
		{name: "repin replaces", do: func() error { return kh.Pin([]string{"10.0.0.5"}, k3) },
			lines: []string{"master " + authorized(k1), "[node001]:2222,[10.0.0.6]:2222 " + authorized(k2),
				"10.0.0.5 " + authorized(k3)}},
		{name: "forget", do: func() error { return kh.Forget([]string{"master", "node001:2222", "10.0.0.6:2222"}) },
			lines: []string{"10.0.0.5 " + authorized(k3)}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := strings.Split(strings.TrimSpace(string(mustRead(t, kh.Path()))), "\n")
		if strings.Join(got, "\n") != strings.Join(st.lines, "\n") {
			t.Fatalf("%s: file is\n%s\nwant\n%s", st.name, strings.Join(got, "\n"), strings.Join(st.lines, "\n"))
		}
	}
	for path, want := range map[string]os.FileMode{kh.Path(): 0o600, dir: 0o700} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", path, st.Mode().Perm(), want)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".known_hosts-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// authorized renders a key as in known_hosts, without the trailing newline.
func authorized(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestPinConcurrentWritersLoseNothing(t *testing.T) {
	kh := remote.NewKnownHosts(filepath.Join(t.TempDir(), "kh"))
	key := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := remote.NewKnownHosts(kh.Path()).Pin([]string{fmt.Sprintf("10.0.1.%d", i)}, key); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(string(mustRead(t, kh.Path())), "\n"); n != 50 {
		t.Fatalf("file has %d lines, want 50", n)
	}
}

func TestHostKeyCallbackChecksPins(t *testing.T) {
	kh := remote.NewKnownHosts(filepath.Join(t.TempDir(), "kh"))
	good := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
	bad := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
	if err := kh.Pin([]string{"10.0.0.5"}, good); err != nil {
		t.Fatal(err)
	}
	remoteAddr := &net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 22}
	tests := []struct {
		name    string
		host    string
		key     ssh.PublicKey
		wantErr string
	}{
		{name: "pinned key", host: "10.0.0.5:22", key: good},
		{name: "other key", host: "10.0.0.5:22", key: bad, wantErr: "host key mismatch for node001"},
		{name: "other port is another host", host: "10.0.0.5:2222", key: good, wantErr: "not pinned"},
		{name: "unknown host", host: "10.0.0.9:22", key: good, wantErr: "not pinned"},
	}
	cb := kh.HostKeyCallback(remote.HostKeyPolicy{Alias: "node001"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cb(tt.host, remoteAddr, tt.key)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSystemSSHKeygenReadsPinnedFile(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed; `make test` installs openssh-client")
	}
	kh := remote.NewKnownHosts(filepath.Join(t.TempDir(), "kh"))
	key := sshtest.NewSigner(t, sshtest.Ed25519).PublicKey()
	if err := kh.Pin([]string{"master", "10.0.0.5:2222"}, key); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"master", "[10.0.0.5]:2222"} {
		out, err := exec.Command(keygen, "-F", host, "-f", kh.Path()).CombinedOutput()
		if err != nil || !strings.Contains(string(out), authorized(key)) {
			t.Errorf("ssh-keygen -F %s: %v\n%s", host, err, out)
		}
	}
}
