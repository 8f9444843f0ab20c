package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPasswd = `root:x:0:0:root:/root:/bin/bash
sgeadmin:x:105:104::/var/lib/gridengine:/bin/false
admin:x:1000:1000::/home/admin:/bin/bash
broken:x:notanumber:1::/home/broken:/bin/sh
`

func TestParsePasswd(t *testing.T) {
	cases := []struct {
		name   string
		want   loginUser
		wantOK bool
	}{
		{"admin", loginUser{name: "admin", uid: 1000, gid: 1000, home: "/home/admin"}, true},
		{"root", loginUser{name: "root", uid: 0, gid: 0, home: "/root"}, true},
		{"ubuntu", loginUser{}, false},
		{"broken", loginUser{}, false},
		{"adm", loginUser{}, false},
	}
	for _, c := range cases {
		got, ok := parsePasswd(testPasswd, c.name)
		if ok != c.wantOK || got != c.want {
			t.Errorf("parsePasswd(%q) = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.wantOK)
		}
	}
}

func TestResolveLoginUser(t *testing.T) {
	img := t.TempDir()
	if err := os.MkdirAll(filepath.Join(img, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(img, "etc", "passwd"), []byte(testPasswd), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{"": "admin", "root": "root", "ubuntu": "admin"}
	for req, want := range cases {
		u, err := resolveLoginUser(img, req, "admin")
		if err != nil || u.name != want {
			t.Errorf("resolveLoginUser(%q) = %+v, %v; want %s", req, u, err, want)
		}
	}
	if _, err := resolveLoginUser(img, "", "nobody-here"); err == nil {
		t.Error("no error when the image lacks its login user")
	}
}

func TestMergeKeys(t *testing.T) {
	cases := []struct {
		existing string
		keys     []string
		want     string
	}{
		{"", []string{"ssh-ed25519 AAA a"}, "ssh-ed25519 AAA a\n"},
		{"ssh-ed25519 AAA a\n", []string{"ssh-ed25519 AAA a", " ssh-rsa BBB b\n"}, "ssh-ed25519 AAA a\nssh-rsa BBB b\n"},
		{"", nil, ""},
	}
	for _, c := range cases {
		if got := mergeKeys(c.existing, c.keys); got != c.want {
			t.Errorf("mergeKeys(%q, %q) = %q, want %q", c.existing, c.keys, got, c.want)
		}
	}
}

func TestAuthorizeKeysCreatesHomeFromImage(t *testing.T) {
	dir := t.TempDir()
	imageHome := filepath.Join(dir, "image", "home", "admin")
	if err := os.MkdirAll(imageHome, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imageHome, ".bashrc"), []byte("# skel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := loginUser{name: "admin", uid: os.Getuid(), gid: os.Getgid(), home: "/home/admin"}
	root := filepath.Join(dir, "shared", "home")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, "admin")
	for range 2 { // twice: the key is added once
		if err := authorizeKeys(root, "admin", imageHome, u, []string{"ssh-ed25519 AAAA test"}); err != nil {
			t.Fatal(err)
		}
	}
	if data, err := os.ReadFile(filepath.Join(home, ".bashrc")); err != nil || string(data) != "# skel\n" {
		t.Errorf("skeleton not copied: %q, %v", data, err)
	}
	data, err := os.ReadFile(filepath.Join(home, ".ssh", "authorized_keys"))
	if err != nil || string(data) != "ssh-ed25519 AAAA test\n" {
		t.Errorf("authorized_keys = %q, %v", data, err)
	}
	for p, want := range map[string]os.FileMode{home: 0o750, filepath.Join(home, ".ssh"): 0o700, filepath.Join(home, ".ssh", "authorized_keys"): 0o600} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, st.Mode().Perm(), err, want)
		}
	}
}

func TestAuthorizeKeysRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	u := loginUser{name: "admin", uid: os.Getuid(), gid: os.Getgid(), home: "/home/admin"}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("host file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(home, ".ssh", "authorized_keys")); err != nil {
		t.Fatal(err)
	}
	if err := authorizeKeys(dir, "home", "", u, []string{"ssh-ed25519 AAAA k"}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "host file\n" {
		t.Errorf("a planted link was followed: the host file now holds %q", data)
	}
	if st, err := os.Lstat(filepath.Join(home, ".ssh", "authorized_keys")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("authorized_keys is not a regular file: %v", err)
	}
	linked := filepath.Join(dir, "linked")
	if err := os.Symlink(dir, linked); err != nil {
		t.Fatal(err)
	}
	if err := authorizeKeys(dir, "linked", "", u, []string{"ssh-ed25519 AAAA k"}); err == nil {
		t.Error("a home that is a link was written through")
	}
	// ~/.ssh itself a link (to root's keys, say): refused, nothing written there.
	target := filepath.Join(dir, "rootssh")
	if err := os.MkdirAll(target, 0o700); err != nil {
		t.Fatal(err)
	}
	home2 := filepath.Join(dir, "home2")
	if err := os.MkdirAll(home2, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(home2, ".ssh")); err != nil {
		t.Fatal(err)
	}
	if err := authorizeKeys(dir, "home2", "", u, []string{"ssh-ed25519 AAAA k"}); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("a linked ~/.ssh: %v", err)
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("written through the linked ~/.ssh: %v", entries)
	}
}

// TestAuthorizeKeysRacesSwappedLinks: a user inside a node swaps ~/.ssh between a directory
// and a link to another directory as fast as it can while keys are authorized again and
// again; the link's target never receives a file (an Lstat-then-act check loses this race).
func TestAuthorizeKeysRacesSwappedLinks(t *testing.T) {
	dir := t.TempDir()
	u := loginUser{name: "admin", uid: os.Getuid(), gid: os.Getgid(), home: "/home/admin"}
	home, target := filepath.Join(dir, "home"), filepath.Join(dir, "target")
	for _, d := range []string{home, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ssh := filepath.Join(home, ".ssh")
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Wait for the directory authorizeKeys made, then swap it for a link.
			if st, err := os.Lstat(ssh); err == nil && st.IsDir() {
				_ = os.RemoveAll(ssh)
				_ = os.Symlink(target, ssh)
			} else if err == nil {
				_ = os.Remove(ssh)
			}
		}
	}()
	// 3000 rounds: an Lstat-then-act implementation lost this race within them here.
	for range 3000 {
		_ = authorizeKeys(dir, "home", "", u, []string{"ssh-ed25519 AAAA k"})
	}
	close(stop)
	<-done
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("the link's target received files: %v", entries)
	}
}
