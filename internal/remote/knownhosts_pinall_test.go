package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
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

// TestStrictPinAlarms: a key read back from the cloud that differs from the pin of the same
// machine (alias and address) is an alarm and replaces nothing; a recreated cluster (same
// alias, new address) and a fresh key (not strict) are pinned as before.
func TestStrictPinAlarms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c")
	kh := NewKnownHosts(path)
	newKey := func() ssh.PublicKey {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		k, _ := ssh.NewPublicKey(pub)
		return k
	}
	real, forged := newKey(), newKey()
	if err := kh.PinAll([]HostPin{{Hostnames: []string{"master", "10.0.0.1"}, Key: real}}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	err := kh.PinAll([]HostPin{{Hostnames: []string{"master", "10.0.0.1"}, Key: forged, Strict: true, Source: "tag clusterctl:hostkey of instance i-1"}})
	var conflict *PinConflictError
	if !errors.As(err, &conflict) || conflict.Host != "master" || conflict.PinnedLine != 1 ||
		!strings.Contains(err.Error(), "tag clusterctl:hostkey of instance i-1") || !strings.Contains(err.Error(), ssh.FingerprintSHA256(forged)) {
		t.Fatalf("want an alarm naming the host, the tag and both keys, got %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatalf("the alarm replaced the pin:\n%s", after)
	}
	if err := kh.PinAll([]HostPin{{Hostnames: []string{"master", "10.0.0.1"}, Key: real, Strict: true}}); err != nil {
		t.Errorf("the same key again: %v", err)
	}
	if err := kh.PinAll([]HostPin{{Hostnames: []string{"master", "10.0.9.9"}, Key: forged, Strict: true}}); err != nil {
		t.Errorf("same alias at a new address (a recreated cluster): %v", err)
	}
	if err := kh.PinAll([]HostPin{{Hostnames: []string{"master", "10.0.9.9"}, Key: real}}); err != nil {
		t.Errorf("a fresh key replaces: %v", err)
	}
}
