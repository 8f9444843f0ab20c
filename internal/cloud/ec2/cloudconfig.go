package ec2

import (
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// sharedCloudConfig is the cloud-config part every instance of a launch reads. YAML is written
// by hand (no YAML library in the module); values are emitted as JSON strings, which are valid
// YAML double-quoted scalars.
//
//   - ssh_deletekeys: true removes every host key the image carries (an image made from
//     another instance would otherwise share its RSA and ECDSA keys), and cloud-init then
//     installs the ed25519 key of the instance's own host-key part. ssh_genkeytypes names
//     ed25519 only: cloud-init generates nothing when ssh_keys is given, and a key it would
//     generate without one could not match clusterctl's pin, so the connection is refused.
//   - ssh_authorized_keys authorizes the login keys for the image's default user.
//   - bootcmd runs imdsGuard at every boot, before sshd lets anyone in.
func sharedCloudConfig(boot cloud.BootConfig) string {
	var b strings.Builder
	b.WriteString("#cloud-config\n")
	b.WriteString("ssh_deletekeys: true\n")
	b.WriteString("ssh_genkeytypes: [ed25519]\n")
	var keys []string
	for _, k := range boot.AuthorizedKeys {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		b.WriteString("ssh_authorized_keys:\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "  - %s\n", quoteYAML(k))
		}
	}
	b.WriteString("bootcmd:\n  - |\n")
	writeIndented(&b, imdsGuard, "    ")
	return b.String()
}

// hostKeyConfig is the cloud-config part that installs one instance's ed25519 host key with
// cloud-init's ssh module (ssh_keys), which writes the private key 0600 and the public key.
func hostKeyConfig(raw []byte) (string, error) {
	priv, pub, err := normalizeHostKey(raw)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("#cloud-config\nssh_keys:\n  ed25519_private: |\n")
	writeIndented(&b, priv, "    ")
	fmt.Fprintf(&b, "  ed25519_public: %s\n", quoteYAML(pub+"\n")) // the .pub file ends in a newline
	return b.String(), nil
}

// imdsGuard keeps the instance metadata service to root: the user data holds host private
// keys, and anyone who can reach the metadata service can read it. It runs at every boot (the
// rules do not survive one) and tries, in order, an nftables table of its own, an iptables
// owner match, and a policy-routing rule by socket owner (iproute2 only, which every image
// has). Whatever happens is said on the console with a "clusterctl:" prefix, and the boot
// command fails (cloud-init reports an error) when no way worked.
const imdsGuard = `(
say() { echo "clusterctl: $*"; }
if command -v nft >/dev/null 2>&1; then
  if nft -f - <<'EOF'
table inet clusterctl_imds
delete table inet clusterctl_imds
table inet clusterctl_imds {
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr 169.254.169.254 meta skuid != 0 reject
    ip6 daddr fd00:ec2::254 meta skuid != 0 reject
  }
}
EOF
  then
    say "metadata service limited to root (nftables)"
    exit 0
  fi
  say "nft could not add the metadata rule; trying iptables" >&2
fi
if command -v iptables >/dev/null 2>&1; then
  rule="OUTPUT -d 169.254.169.254/32 -m owner ! --uid-owner 0 -j REJECT"
  if iptables -w -C $rule 2>/dev/null || iptables -w -I $rule; then
    say "metadata service limited to root (iptables)"
    exit 0
  fi
  say "iptables could not add the metadata rule; trying a routing rule" >&2
fi
if command -v ip >/dev/null 2>&1; then
  ip rule del to 169.254.169.254/32 uidrange 1-4294967294 prohibit priority 100 2>/dev/null
  if ip rule add to 169.254.169.254/32 uidrange 1-4294967294 prohibit priority 100; then
    say "metadata service limited to root (ip rule)"
    exit 0
  fi
fi
say "FAILED to limit the metadata service to root (no nft, iptables or ip rule worked): local users can read this instance's user data and its SSH host key" >&2
exit 1
)
`

// writeIndented writes text line by line with a prefix, as the body of a YAML block scalar.
// Empty lines stay empty (a YAML block scalar keeps them).
func writeIndented(b *strings.Builder, text, prefix string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(prefix + line + "\n")
	}
}

// quoteYAML quotes a single-line string as a YAML double-quoted scalar (JSON's escaping is a
// subset of YAML's).
func quoteYAML(s string) string {
	q, _ := json.Marshal(s) // marshalling a string cannot fail
	return string(q)
}

// normalizeHostKey checks that raw is an unencrypted ed25519 private key (OpenSSH or PKCS#8
// PEM) and returns it in OpenSSH format, which every sshd reads, with its authorized_keys-style
// public half.
func normalizeHostKey(raw []byte) (string, string, error) {
	key, err := ssh.ParseRawPrivateKey(raw)
	if err != nil {
		return "", "", fmt.Errorf("parse: %w", err)
	}
	var priv ed25519.PrivateKey
	switch k := key.(type) {
	case ed25519.PrivateKey:
		priv = k
	case *ed25519.PrivateKey:
		priv = *k
	default:
		return "", "", fmt.Errorf("want an ed25519 key, got %T", key)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		return "", "", fmt.Errorf("public half: %w", err)
	}
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	if block, _ := pem.Decode(raw); block != nil && block.Type == "OPENSSH PRIVATE KEY" {
		return string(pem.EncodeToMemory(block)), authorized, nil // as given: the output stays reproducible
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return "", "", fmt.Errorf("marshal: %w", err)
	}
	return string(pem.EncodeToMemory(block)), authorized, nil
}
