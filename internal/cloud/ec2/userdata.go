package ec2

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// maxUserData is EC2's limit on user data, counted on the raw bytes before base64.
const maxUserData = 16 * 1024

// buildUserData renders the cloud-init user data for one launch request: a gzip-compressed MIME
// multipart with a #cloud-config part and one text/x-shellscript part per boot script.
//
// The cloud-config keeps cloud-init from deleting or generating host keys, authorizes the
// login keys for the image's default user, and installs, from a bootcmd, the ed25519 host key
// clusterctl generated for this very instance. All instances of a request share one user data,
// so the bootcmd asks the instance metadata service (IMDSv2) for its ami-launch-index and picks
// the key at that index; Launch names instance i after Aliases[i] by the same index, so the key
// clusterctl pinned for an alias is the key that instance serves, and the first SSH connection
// is verified.
//
// Trade-off: the private host keys travel in user data, which anyone allowed to read instance
// attributes (ec2:DescribeInstanceAttribute) in the account can read, and so could impersonate
// the nodes to someone on the network path. Accounts where that matters should verify against
// the fingerprints cloud-init prints to the console instead (see DESIGN, host keys).
func buildUserData(aliases []string, boot cloud.BootConfig) ([]byte, error) {
	cc, err := cloudConfig(aliases, boot)
	if err != nil {
		return nil, err
	}
	var mime bytes.Buffer
	mw := multipart.NewWriter(&mime)
	fmt.Fprintf(&mime, "Content-Type: multipart/mixed; boundary=%q\r\nMIME-Version: 1.0\r\n\r\n", mw.Boundary())
	parts := []struct{ kind, name, body string }{{"text/cloud-config", "cloud-config.txt", cc}}
	for i, s := range boot.Scripts {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("script-%d.sh", i+1)
		}
		parts = append(parts, struct{ kind, name, body string }{"text/x-shellscript", name, string(s.Content)})
	}
	for _, part := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", part.kind+`; charset="utf-8"`)
		h.Set("MIME-Version", "1.0")
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", part.name))
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, fmt.Errorf("user data part %s: %w", part.name, err)
		}
		if _, err := w.Write([]byte(part.body)); err != nil {
			return nil, fmt.Errorf("user data part %s: %w", part.name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("user data: %w", err)
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(mime.Bytes())                            // writes to a bytes.Buffer cannot fail
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress user data: %w", err)
	}
	if out.Len() > maxUserData {
		return nil, fmt.Errorf("user data for %d instances is %d bytes after compression, over EC2's limit of %d bytes: launch fewer instances per request or shorten the boot scripts",
			len(aliases), out.Len(), maxUserData)
	}
	return out.Bytes(), nil
}

// cloudConfig renders the #cloud-config document. YAML is written by hand (no YAML library in
// the module); keys are emitted as JSON strings, which are valid YAML double-quoted scalars.
func cloudConfig(aliases []string, boot cloud.BootConfig) (string, error) {
	var b strings.Builder
	b.WriteString("#cloud-config\n")
	b.WriteString("ssh_deletekeys: false\n")
	b.WriteString("ssh_genkeytypes: []\n")
	if len(boot.AuthorizedKeys) > 0 {
		b.WriteString("ssh_authorized_keys:\n")
		for _, k := range boot.AuthorizedKeys {
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			q, _ := json.Marshal(k) // marshalling a string cannot fail
			fmt.Fprintf(&b, "  - %s\n", q)
		}
	}
	if len(boot.HostKeys) > 0 {
		script, err := hostKeyScript(aliases, boot.HostKeys)
		if err != nil {
			return "", err
		}
		b.WriteString("bootcmd:\n  - |\n")
		for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
			if line == "" {
				b.WriteString("\n")
				continue
			}
			b.WriteString("    " + line + "\n")
		}
	}
	return b.String(), nil
}

// hostKeyScript is the bootcmd that installs the host key for this instance's launch index. It
// runs at every boot (bootcmd does), which is harmless: it writes the same key again. The
// CLUSTERCTL_IMDS and CLUSTERCTL_SSH_DIR variables exist only so tests can run the script
// against a fake metadata service and a scratch directory.
func hostKeyScript(aliases []string, keys map[string][]byte) (string, error) {
	var cases strings.Builder
	for i, alias := range aliases {
		raw, ok := keys[alias]
		if !ok {
			return "", fmt.Errorf("no host key for %s", alias)
		}
		priv, pub, err := normalizeHostKey(raw)
		if err != nil {
			return "", fmt.Errorf("host key for %s: %w", alias, err)
		}
		fmt.Fprintf(&cases, "%d) key='%s'\n   pub='%s' ;;\n", i, strings.TrimRight(priv, "\n"), pub)
	}
	return strings.Replace(hostKeyScriptTemplate, "@CASES@\n", cases.String(), 1), nil
}

// hostKeyScriptTemplate fetches ami-launch-index with IMDSv2 (token PUT, then GET; retried while
// the metadata service comes up) and writes the matching key pair with mode 0600 / 0644.
const hostKeyScriptTemplate = `(
set -eu
imds=${CLUSTERCTL_IMDS:-http://169.254.169.254}
dir=${CLUSTERCTL_SSH_DIR:-/etc/ssh}
meta() {
  n=0
  while [ "$n" -lt 30 ]; do
    if command -v curl >/dev/null 2>&1; then
      t=$(curl -sf -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/latest/api/token") &&
        v=$(curl -sf -m 5 -H "X-aws-ec2-metadata-token: $t" "$imds/latest/meta-data/$1") &&
        { printf '%s' "$v"; return 0; }
    else
      t=$(wget -q -T 5 -O - --method=PUT --header='X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/latest/api/token") &&
        v=$(wget -q -T 5 -O - --header="X-aws-ec2-metadata-token: $t" "$imds/latest/meta-data/$1") &&
        { printf '%s' "$v"; return 0; }
    fi
    n=$((n + 1))
    sleep 1
  done
  return 1
}
idx=$(meta ami-launch-index)
case "$idx" in
@CASES@
*) echo "clusterctl: no host key for launch index $idx" >&2; exit 1 ;;
esac
umask 077
printf '%s\n' "$key" > "$dir/ssh_host_ed25519_key.tmp"
chmod 0600 "$dir/ssh_host_ed25519_key.tmp"
mv -f "$dir/ssh_host_ed25519_key.tmp" "$dir/ssh_host_ed25519_key"
printf '%s\n' "$pub" > "$dir/ssh_host_ed25519_key.pub"
chmod 0644 "$dir/ssh_host_ed25519_key.pub"
)
`

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
