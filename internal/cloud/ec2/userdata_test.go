package ec2

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// parts decodes user data the way cloud-init does: gunzip, then MIME multipart.
func parts(t *testing.T, ud []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(ud))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(zr)
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q: %v", mt, err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p)
		kind, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[kind+" "+p.FileName()] = string(body)
	}
}

func TestUserDataParts(t *testing.T) {
	aliases := []string{"master", "node001"}
	keys := hostKeys(t, aliases)
	cases := []struct {
		name    string
		boot    cloud.BootConfig
		want    map[string][]string // part -> substrings
		wantErr string
	}{
		{
			name: "keys and scripts",
			boot: cloud.BootConfig{
				AuthorizedKeys: []string{"ssh-ed25519 AAAAkey user@laptop", "  "},
				HostKeys:       keys,
				Scripts:        []cloud.BootScript{{Name: "a.sh", Content: []byte("#!/bin/sh\necho a\n")}, {Content: []byte("#!/bin/sh\necho b\n")}},
			},
			want: map[string][]string{
				"text/cloud-config cloud-config.txt": {"#cloud-config\n", "ssh_deletekeys: false\n", "ssh_genkeytypes: []\n",
					"ssh_authorized_keys:\n  - \"ssh-ed25519 AAAAkey user@laptop\"\n", "bootcmd:\n  - |\n",
					"latest/api/token", "latest/meta-data/$1", "meta ami-launch-index", "0) key='-----BEGIN OPENSSH PRIVATE KEY-----",
					"chmod 0600", "ssh_host_ed25519_key.pub"},
				"text/x-shellscript a.sh":        {"echo a"},
				"text/x-shellscript script-2.sh": {"echo b"},
			},
		},
		{
			name: "no host keys means no bootcmd",
			boot: cloud.BootConfig{AuthorizedKeys: []string{"ssh-rsa AAAA x"}},
			want: map[string][]string{"text/cloud-config cloud-config.txt": {"ssh-rsa AAAA x"}},
		},
		{
			name:    "missing host key",
			boot:    cloud.BootConfig{HostKeys: map[string][]byte{"master": keys["master"]}},
			wantErr: "no host key for node001",
		},
		{
			name:    "not an ed25519 key",
			boot:    cloud.BootConfig{HostKeys: map[string][]byte{"master": keys["master"], "node001": []byte("junk")}},
			wantErr: "host key for node001",
		},
		{
			name:    "over 16 KB",
			boot:    cloud.BootConfig{HostKeys: keys, Scripts: []cloud.BootScript{{Name: "big.sh", Content: randomText(t, 40000)}}},
			wantErr: "over EC2's limit of 16384 bytes",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ud, err := buildUserData(aliases, tc.boot)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := parts(t, ud)
			if len(got) != len(tc.want) {
				t.Fatalf("parts %v", keysOf(got))
			}
			for part, subs := range tc.want {
				for _, s := range subs {
					if !strings.Contains(got[part], s) {
						t.Errorf("part %s lacks %q:\n%s", part, s, got[part])
					}
				}
			}
			if len(tc.boot.HostKeys) == 0 && strings.Contains(got["text/cloud-config cloud-config.txt"], "bootcmd") {
				t.Error("bootcmd without host keys")
			}
		})
	}
}

// TestHostKeyScriptInstallsKeyByLaunchIndex runs the bootcmd with sh against a fake IMDSv2 on
// loopback and checks that each launch index installs its own alias's key, mode 0600.
func TestHostKeyScriptInstallsKeyByLaunchIndex(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is needed to run the boot script")
	}
	aliases := []string{"master", "node001", "node002"}
	keys := hostKeys(t, aliases)
	script, err := hostKeyScript(aliases, keys)
	if err != nil {
		t.Fatal(err)
	}
	for idx, alias := range aliases {
		t.Run(alias, func(t *testing.T) {
			imds := fakeIMDS(t, idx)
			dir := t.TempDir()
			cmd := exec.Command("sh", "-c", script)
			cmd.Env = append(os.Environ(), "CLUSTERCTL_IMDS="+imds, "CLUSTERCTL_SSH_DIR="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("script: %v\n%s", err, out)
			}
			priv, err := os.ReadFile(filepath.Join(dir, "ssh_host_ed25519_key"))
			if err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(filepath.Join(dir, "ssh_host_ed25519_key"))
			if st.Mode().Perm() != 0o600 {
				t.Errorf("key mode %v", st.Mode().Perm())
			}
			got, err := ssh.ParsePrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ssh.ParsePrivateKey(keys[alias])
			if !bytes.Equal(got.PublicKey().Marshal(), want.PublicKey().Marshal()) {
				t.Fatalf("index %d installed another alias's key", idx)
			}
			pub, _ := os.ReadFile(filepath.Join(dir, "ssh_host_ed25519_key.pub"))
			pk, _, _, _, err := ssh.ParseAuthorizedKey(pub)
			if err != nil || !bytes.Equal(pk.Marshal(), want.PublicKey().Marshal()) {
				t.Fatalf("pub file %q: %v", pub, err)
			}
		})
	}
}

// fakeIMDS serves IMDSv2: a token from PUT /latest/api/token, required on metadata GETs.
func fakeIMDS(t *testing.T, launchIndex int) string {
	t.Helper()
	const token = "tok-123"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" && r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") != "":
			_, _ = io.WriteString(w, token)
		case r.Method == http.MethodGet && r.URL.Path == "/latest/meta-data/ami-launch-index":
			if r.Header.Get("X-aws-ec2-metadata-token") != token {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			_, _ = io.WriteString(w, strconv.Itoa(launchIndex))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func randomText(t *testing.T, n int) []byte {
	t.Helper()
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i, b := range raw {
		raw[i] = alphabet[int(b)%len(alphabet)]
	}
	return raw
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCloudConfigIsYAML parses the hand-written cloud-config with PyYAML, the parser cloud-init
// uses, and checks the values it sees.
func TestCloudConfigIsYAML(t *testing.T) {
	if err := exec.Command("python3", "-c", "import yaml").Run(); err != nil {
		t.Skip("python3 with PyYAML is needed to parse the cloud-config like cloud-init")
	}
	aliases := []string{"master", "node001"}
	authorized := []string{`ssh-ed25519 AAAAC3Nza key "quoted" comment`, "ssh-rsa AAAAB3Nza x: y # not a comment"}
	boot := cloud.BootConfig{AuthorizedKeys: authorized, HostKeys: hostKeys(t, aliases)}
	cc, err := cloudConfig(aliases, boot)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", "import sys, yaml, json; json.dump(yaml.safe_load(sys.stdin), sys.stdout)")
	cmd.Stdin = strings.NewReader(cc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyYAML rejects the cloud-config: %v\n%s", err, cc)
	}
	var got struct {
		DeleteKeys *bool    `json:"ssh_deletekeys"`
		GenTypes   []string `json:"ssh_genkeytypes"`
		Authorized []string `json:"ssh_authorized_keys"`
		Bootcmd    []string `json:"bootcmd"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	script, _ := hostKeyScript(aliases, boot.HostKeys)
	switch {
	case got.DeleteKeys == nil || *got.DeleteKeys:
		t.Errorf("ssh_deletekeys = %v", got.DeleteKeys)
	case got.GenTypes == nil || len(got.GenTypes) != 0:
		t.Errorf("ssh_genkeytypes = %v", got.GenTypes)
	case !slices.Equal(got.Authorized, authorized):
		t.Errorf("ssh_authorized_keys = %q", got.Authorized)
	case len(got.Bootcmd) != 1 || got.Bootcmd[0] != script:
		t.Errorf("bootcmd = %q", got.Bootcmd)
	}
}
