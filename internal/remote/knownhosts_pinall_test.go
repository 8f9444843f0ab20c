package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestPinAllWritesOnceAndOnlyOnChange: many hosts are pinned in one rewrite, and pinning the
// same keys again leaves the file untouched (same inode: no rename happened).
func TestPinAllWritesOnceAndOnlyOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kh", "c")
	kh := NewKnownHosts(path)
	key := func() ssh.PublicKey {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	pins := []HostPin{{Hostnames: []string{"master", "10.0.0.1"}, Key: key()}, {Hostnames: []string{"node001", "10.0.0.2"}, Key: key()}}
	if err := kh.PinAll(pins); err != nil {
		t.Fatal(err)
	}
	st1, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Count(string(data), "ssh-ed25519") != 2 || !strings.Contains(string(data), "master,10.0.0.1 ") {
		t.Fatalf("pinned file:\n%s", data)
	}
	if err := kh.PinAll(pins); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(path)
	if !os.SameFile(st1, st2) {
		t.Error("pinning the same keys rewrote the file")
	}
	pins[1].Key = key()
	if err := kh.PinAll(pins); err != nil {
		t.Fatal(err)
	}
	st3, _ := os.Stat(path)
	data, _ = os.ReadFile(path)
	if os.SameFile(st2, st3) || strings.Count(string(data), "ssh-ed25519") != 2 {
		t.Errorf("a changed key must replace the old line:\n%s", data)
	}
}
