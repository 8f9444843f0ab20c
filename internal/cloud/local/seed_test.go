package local

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

func TestHostKeys(t *testing.T) {
	gen, err := generateHostKey("node001")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		pem     []byte
		want    string // public key; "" means any valid key
		wantErr bool
	}{
		{name: "given key is used as is", pem: gen.private, want: gen.public},
		{name: "missing key is generated"},
		{name: "garbage", pem: []byte("not a key"), wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := parseHostKey("node001", c.pem)
			if c.wantErr {
				if err == nil {
					t.Fatal("no error for an unusable key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.want != "" && k.public != c.want {
				t.Errorf("public = %s, want %s", k.public, c.want)
			}
			pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.public))
			if err != nil || pub.Type() != ssh.KeyAlgoED25519 || k.kind != "ed25519" {
				t.Fatalf("public %q (kind %s): %v", k.public, k.kind, err)
			}
			signer, err := ssh.ParsePrivateKey(k.private)
			if err != nil || authorizedKey(signer.PublicKey()) != k.public {
				t.Errorf("private key does not match the public one: %v", err)
			}
		})
	}
}

func TestSeedFiles(t *testing.T) {
	key, err := generateHostKey("node001")
	if err != nil {
		t.Fatal(err)
	}
	rec := instanceRecord{ID: "i-0123456789ab", Alias: "node001", Address: netip.MustParseAddr("10.213.1.11")}
	scripts := []cloud.BootScript{{Name: "setup.sh", Content: []byte("#!/bin/sh\necho hi\n")}, {Name: "../odd name", Content: []byte("echo x\n")}}
	root := t.TempDir()
	if err := writeSeed(root, seedFiles("node001", rec, netip.MustParsePrefix("10.213.1.0/24"), key, scripts)); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path     string
		contains string
		mode     os.FileMode
	}{
		{"etc/hostname", "node001\n", 0o644},
		{"etc/hosts", "10.213.1.11\tnode001", 0o644},
		{"etc/systemd/network/10-host0.network", "Address=10.213.1.11/24", 0o644},
		{"etc/ssh/ssh_host_ed25519_key", "OPENSSH PRIVATE KEY", 0o600},
		{"etc/ssh/ssh_host_ed25519_key.pub", key.public, 0o644},
		{"etc/ssh/sshd_config.d/10-clusterctl.conf", "HostKey /etc/ssh/ssh_host_ed25519_key\n", 0o644},
		{"var/lib/clusterctl/boot/scripts/01-setup.sh", "echo hi", 0o755},
		{"var/lib/clusterctl/boot/scripts/02-.._odd_name", "echo x", 0o755},
		{"var/lib/clusterctl/boot/run", "touch /var/lib/clusterctl/boot/done", 0o755},
		{"etc/systemd/system/clusterctl-boot.service", "ConditionPathExists=!/var/lib/clusterctl/boot/done", 0o644},
	}
	for _, w := range want {
		p := filepath.Join(root, w.path)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", w.path, err)
			continue
		}
		if !strings.Contains(string(data), w.contains) {
			t.Errorf("%s lacks %q:\n%s", w.path, w.contains, data)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != w.mode {
			t.Errorf("%s mode %v, want %v", w.path, st.Mode().Perm(), w.mode)
		}
	}
	link, err := os.Readlink(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/clusterctl-boot.service"))
	if err != nil || link != "../clusterctl-boot.service" {
		t.Errorf("boot unit not enabled: %q, %v", link, err)
	}
	// Without scripts nothing of the runner is installed.
	bare := seedFiles("node001", rec, netip.MustParsePrefix("10.213.1.0/24"), key, nil)
	for _, f := range bare {
		if strings.Contains(f.path, "clusterctl") && !strings.HasSuffix(f.path, "10-clusterctl.conf") {
			t.Errorf("boot runner file %s installed without scripts", f.path)
		}
	}
}

func TestScriptName(t *testing.T) {
	cases := map[string]string{"setup.sh": "setup.sh", "a b/c": "a_b_c", "": "script", "..": "script", "ünï": "_n_"}
	for in, want := range cases {
		if got := scriptName(in); got != want {
			t.Errorf("scriptName(%q) = %q, want %q", in, got, want)
		}
	}
}
