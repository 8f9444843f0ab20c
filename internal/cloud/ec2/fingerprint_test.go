package ec2

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFingerprintsMatchAWSRecipes computes the AWS fingerprints of local keys with the tools
// AWS documents for checking them (openssl for RSA, ssh-keygen for ed25519) and checks that
// keyFingerprints produces the same values.
func TestFingerprintsMatchAWSRecipes(t *testing.T) {
	for _, tool := range []string{"openssl", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is needed to compute the reference fingerprints", tool)
		}
	}
	rsaPEM, _, edPEM, _ := localKeys(t)
	rsaFile, edFile := writeKey(t, "rsa", rsaPEM), writeKey(t, "ed", edPEM)
	cases := []struct {
		name, pemFile, rule, script string
	}{
		{"rsa created by ec2", rsaFile, "aws-created-rsa",
			`openssl pkcs8 -in "$1" -nocrypt -topk8 -outform DER | openssl sha1 -c`},
		{"rsa imported", rsaFile, "aws-imported-rsa",
			`openssl rsa -in "$1" -pubout -outform DER 2>/dev/null | openssl md5 -c`},
		{"rsa imported, rfc 4716", rsaFile, "aws-imported-rsa-rfc4716",
			`ssh-keygen -l -E md5 -f "$1" | cut -d' ' -f2 | sed 's/^MD5://'`},
		{"ed25519", edFile, "aws-ed25519",
			`ssh-keygen -l -f "$1" | cut -d' ' -f2`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command("sh", "-c", tc.script, "sh", tc.pemFile).Output()
			if err != nil {
				t.Fatalf("%s: %v", tc.script, err)
			}
			ref := strings.TrimSpace(string(out))
			if i := strings.LastIndex(ref, "= "); i >= 0 { // openssl prints "(stdin)= aa:bb"
				ref = ref[i+2:]
			}
			data := rsaPEM
			if tc.pemFile == edFile {
				data = edPEM
			}
			fps, err := keyFingerprints(data)
			if err != nil {
				t.Fatal(err)
			}
			var mine string
			for _, fp := range fps {
				if fp.rule == tc.rule {
					mine = fp.value
				}
			}
			if normalizeFingerprint(mine) != normalizeFingerprint(ref) {
				t.Fatalf("rule %s = %q, reference %q", tc.rule, mine, ref)
			}
			if ok, _ := matchFingerprint(ref, fps); !ok {
				t.Fatalf("reference %q does not match", ref)
			}
		})
	}
}

func TestMatchFingerprint(t *testing.T) {
	local := []fingerprint{
		{"a", "aa:bb:cc:dd"},
		{"b", "AbCd+/xyz="},
	}
	cases := []struct {
		ec2       string
		match     bool
		wantShown string
	}{
		{"AA:BB:CC:DD", true, "aa:bb:cc:dd"},
		{"AbCd+/xyz", true, "AbCd+/xyz="},
		{"SHA256:AbCd+/xyz", true, "AbCd+/xyz="},
		{"abcd+/xyz=", false, "AbCd+/xyz="}, // base64 is case-sensitive
		{"11:22:33:44", false, "aa:bb:cc:dd"},
	}
	for _, tc := range cases {
		t.Run(tc.ec2, func(t *testing.T) {
			ok, shown := matchFingerprint(tc.ec2, local)
			if ok != tc.match || shown != tc.wantShown {
				t.Fatalf("matchFingerprint(%q) = %v, %q; want %v, %q", tc.ec2, ok, shown, tc.match, tc.wantShown)
			}
		})
	}
	if _, err := keyFingerprints([]byte("not a key")); err == nil {
		t.Fatal("garbage key parsed")
	}
}
