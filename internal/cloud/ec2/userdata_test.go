package ec2

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// gotPart is one MIME part of user data as a client sees it.
type gotPart struct {
	kind, name, launchIndex, body string
}

// parts decodes user data the way cloud-init does: gunzip, then MIME multipart, in order.
func parts(t *testing.T, ud []byte) []gotPart {
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
	var out []gotPart
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
		out = append(out, gotPart{kind: kind, name: p.FileName(), launchIndex: p.Header.Get("Launch-Index"), body: string(body)})
	}
}

func TestUserDataParts(t *testing.T) {
	aliases := []string{"master", "node001"}
	keys := hostKeys(t, aliases)
	pub := func(alias string) string { _, p, _ := normalizeHostKey(keys[alias]); return p }
	cases := []struct {
		name    string
		boot    cloud.BootConfig
		want    []gotPart // body holds substrings separated by "|"
		wantErr string
	}{
		{
			name: "keys and scripts",
			boot: cloud.BootConfig{
				AuthorizedKeys: []string{"ssh-ed25519 AAAAkey user@laptop", "  "},
				HostKeys:       keys,
				Scripts:        []cloud.BootScript{{Name: "a.sh", Content: []byte("#!/bin/sh\necho a\n")}, {Content: []byte("#!/bin/sh\necho b\n")}},
			},
			want: []gotPart{
				{"text/cloud-config", "clusterctl.cfg", "", "#cloud-config\n|ssh_deletekeys: true\n|ssh_genkeytypes: [ed25519]\n|" +
					"ssh_authorized_keys:\n  - \"ssh-ed25519 AAAAkey user@laptop\"\n|bootcmd:\n  - |\n|nft -f -|--uid-owner 0|uidrange"},
				{"text/cloud-config", "host-key-master.cfg", "0", "ssh_keys:\n  ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----|ed25519_public: \"" + pub("master") + "\\n\""},
				{"text/cloud-config", "host-key-node001.cfg", "1", "ed25519_public: \"" + pub("node001") + "\\n\""},
				{"text/x-shellscript", "01-a.sh", "", "echo a"},
				{"text/x-shellscript", "02-script.sh", "", "echo b"},
			},
		},
		{
			name: "no host keys, no key parts",
			boot: cloud.BootConfig{AuthorizedKeys: []string{"ssh-rsa AAAA x"}},
			want: []gotPart{{"text/cloud-config", "clusterctl.cfg", "", "ssh-rsa AAAA x"}},
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
			name:    "script without an interpreter line",
			boot:    cloud.BootConfig{Scripts: []cloud.BootScript{{Name: "x.sh", Content: []byte("echo hi\n")}}},
			wantErr: `boot script x.sh: it does not start with an interpreter line such as "#!/bin/sh"`,
		},
		{
			name:    "empty interpreter line",
			boot:    cloud.BootConfig{Scripts: []cloud.BootScript{{Name: "x.sh", Content: []byte("#!  \necho hi\n")}}},
			wantErr: `its "#!" line names no interpreter`,
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
				t.Fatalf("%d parts, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.kind != w.kind || g.name != w.name || g.launchIndex != w.launchIndex {
					t.Errorf("part %d = %s %s index %q, want %s %s index %q", i, g.kind, g.name, g.launchIndex, w.kind, w.name, w.launchIndex)
				}
				for _, s := range strings.Split(w.body, "|") {
					if !strings.Contains(g.body, s) {
						t.Errorf("part %s lacks %q:\n%s", g.name, s, g.body)
					}
				}
			}
			// Every key part holds one key: no instance's part carries another's.
			for _, g := range got[1:] {
				if g.kind == "text/cloud-config" && strings.Count(g.body, "BEGIN OPENSSH PRIVATE KEY") != 1 {
					t.Errorf("part %s holds %d keys", g.name, strings.Count(g.body, "BEGIN OPENSSH PRIVATE KEY"))
				}
			}
			if again, _ := buildUserData(aliases, tc.boot); !bytes.Equal(again, ud) {
				t.Error("the same input built different user data: sizes measured in pre-flight would not hold")
			}
		})
	}
}

// TestScriptPartNames: cloud-init runs boot scripts sorted by part name, so names must sort in
// config order and never collide.
func TestScriptPartNames(t *testing.T) {
	cases := []struct {
		name    string
		scripts []string
		want    []string
	}{
		{"same base name", []string{"setup.sh", "setup.sh"}, []string{"01-setup.sh", "02-setup.sh"}},
		{"config order beats name order", []string{"zz.sh", "aa.sh"}, []string{"01-zz.sh", "02-aa.sh"}},
		{"odd characters", []string{"my script;$(x).sh", ""}, []string{"01-my_script___x_.sh", "02-script.sh"}},
		{"ten and more", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}, nil},
		{"a hundred and more", make([]string, 120), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scripts := make([]cloud.BootScript, len(tc.scripts))
			for i, n := range tc.scripts {
				scripts[i] = cloud.BootScript{Name: n}
			}
			got := scriptPartNames(scripts)
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Fatalf("names %q, want %q", got, tc.want)
			}
			sorted := slices.Clone(got)
			sort.Strings(sorted)
			if !slices.Equal(sorted, got) {
				t.Errorf("names do not sort in config order: %q", got)
			}
			if len(slices.Compact(sorted)) != len(got) {
				t.Errorf("names collide: %q", got)
			}
		})
	}
}

// TestLaunchBatches: launches are split by the real user data, into the fewest calls that fit,
// and a split is refused only when one instance's user data does not fit.
func TestLaunchBatches(t *testing.T) {
	script := func(n int) []cloud.BootScript {
		return []cloud.BootScript{{Name: "big.sh", Content: append([]byte("#!/bin/sh\n: "), randomText(t, n)...)}}
	}
	cases := []struct {
		name      string
		n         int
		scripts   []cloud.BootScript
		wantCalls int
		// minCalls, for a case whose random script compresses differently each run, is the
		// fewest calls it can take; the fewest-calls check below still applies.
		minCalls int
		wantErr  string
	}{
		{name: "one", n: 1, wantCalls: 1},
		{name: "twenty", n: 20, wantCalls: 1},
		{name: "a hundred", n: 100, wantCalls: 1},
		{name: "a hundred and one with a 5.4 KB script", n: 101, scripts: script(5400), wantCalls: 2},
		{name: "two hundred and fifty", n: 250, wantCalls: 3},
		{name: "a long script leaves room for fewer keys", n: 40, scripts: script(18000), minCalls: 2},
		{name: "scripts alone over the limit", n: 2, scripts: script(26000), wantErr: "the user data of one instance is"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			aliases := nodeAliases(tc.n)
			boot := cloud.BootConfig{AuthorizedKeys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests user@host"},
				HostKeys: hostKeys(t, aliases), Scripts: tc.scripts}
			batches, err := launchBatches(aliases, boot)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "USERDATA_SCRIPTS") {
					t.Fatalf("err = %v, want %q naming USERDATA_SCRIPTS", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var covered []string
			for _, b := range batches {
				if len(b.userData) > maxUserData {
					t.Errorf("batch of %d has %d bytes of user data", len(b.aliases), len(b.userData))
				}
				if want, _ := buildUserData(b.aliases, boot); !bytes.Equal(want, b.userData) {
					t.Errorf("batch user data differs from what its aliases build")
				}
				covered = append(covered, b.aliases...)
			}
			if !slices.Equal(covered, aliases) {
				t.Fatalf("batches cover %d aliases out of order or incompletely", len(covered))
			}
			if tc.wantCalls != 0 && len(batches) != tc.wantCalls {
				t.Errorf("%d calls, want %d", len(batches), tc.wantCalls)
			}
			if len(batches) < tc.minCalls {
				t.Errorf("%d calls, want at least %d", len(batches), tc.minCalls)
			}
			// Fewest calls: one call fewer would need more than the limit on average.
			if n := len(batches); n > 1 {
				biggest := 0
				for _, b := range batches {
					biggest = max(biggest, len(b.aliases))
				}
				if ud, _ := buildUserData(aliases[:biggest+1], boot); len(ud) <= maxUserData && len(aliases) <= (n-1)*(biggest+1) {
					t.Errorf("%d calls of at most %d, yet %d instances fit one call", n, biggest, biggest+1)
				}
			}
			t.Logf("%d instances: %d calls, user data %d bytes for the first", tc.n, len(batches), len(batches[0].userData))
		})
	}
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

// TestCloudConfigIsYAML parses both hand-written cloud-config parts with PyYAML, the parser
// cloud-init uses, and checks the values it sees.
func TestCloudConfigIsYAML(t *testing.T) {
	if err := exec.Command("python3", "-c", "import yaml").Run(); err != nil {
		t.Fatal("python3 with PyYAML is needed to parse the cloud-config like cloud-init (make deps installs cloud-init, which brings it)")
	}
	authorized := []string{`ssh-ed25519 AAAAC3Nza key "quoted" comment`, "ssh-rsa AAAAB3Nza x: y # not a comment"}
	key := hostKeys(t, []string{"master"})["master"]
	hk, err := hostKeyConfig(key)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		DeleteKeys *bool    `json:"ssh_deletekeys"`
		GenTypes   []string `json:"ssh_genkeytypes"`
		Authorized []string `json:"ssh_authorized_keys"`
		Bootcmd    []string `json:"bootcmd"`
		Keys       struct {
			Private string `json:"ed25519_private"`
			Public  string `json:"ed25519_public"`
		} `json:"ssh_keys"`
	}
	for _, doc := range []string{sharedCloudConfig(cloud.BootConfig{AuthorizedKeys: authorized}), hk} {
		cmd := exec.Command("python3", "-c", "import sys, yaml, json; json.dump(yaml.safe_load(sys.stdin), sys.stdout)")
		cmd.Stdin = strings.NewReader(doc)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("PyYAML rejects the cloud-config: %v\n%s", err, doc)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
	}
	priv, pub, _ := normalizeHostKey(key)
	switch {
	case got.DeleteKeys == nil || !*got.DeleteKeys:
		t.Errorf("ssh_deletekeys = %v", got.DeleteKeys)
	case !slices.Equal(got.GenTypes, []string{"ed25519"}):
		t.Errorf("ssh_genkeytypes = %v", got.GenTypes)
	case !slices.Equal(got.Authorized, authorized):
		t.Errorf("ssh_authorized_keys = %q", got.Authorized)
	case len(got.Bootcmd) != 1 || got.Bootcmd[0] != imdsGuard:
		t.Errorf("bootcmd = %q", got.Bootcmd)
	case got.Keys.Private != priv || got.Keys.Public != pub+"\n":
		t.Errorf("ssh_keys = %+v", got.Keys)
	}
}

// BenchmarkLaunchBatches measures sizing a launch from its real user data, per instance, and
// reports the calls it takes.
func BenchmarkLaunchBatches(b *testing.B) {
	for _, n := range []int{100, 1000} {
		aliases := nodeAliases(n)
		boot := cloud.BootConfig{HostKeys: hostKeys(b, aliases)}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var calls int
			for b.Loop() {
				batches, err := launchBatches(aliases, boot)
				if err != nil {
					b.Fatal(err)
				}
				calls = len(batches)
			}
			b.ReportMetric(float64(calls), "calls")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/instance")
		})
	}
}
