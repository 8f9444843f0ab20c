package cluster

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/crypto/ssh"
)

// HostKey is an SSH host key clusterctl generates for an instance before it exists, so the first
// connection to it is verified instead of trusted blindly (DESIGN: host keys).
type HostKey struct {
	// Private is the OpenSSH-format PEM the instance installs as its ed25519 host key.
	Private []byte
	// Public is the authorized_keys form ("ssh-ed25519 AAAA...") that gets pinned.
	Public string
}

// NewHostKeys generates one ed25519 host key per alias.
func NewHostKeys(aliases []string) (map[string]HostKey, error) {
	out := make(map[string]HostKey, len(aliases))
	for _, a := range aliases {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate host key for %s: %w", a, err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "root@"+a)
		if err != nil {
			return nil, fmt.Errorf("encode host key for %s: %w", a, err)
		}
		sshPub, err := ssh.NewPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("encode host key for %s: %w", a, err)
		}
		out[a] = HostKey{Private: pem.EncodeToMemory(block), Public: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))}
	}
	return out, nil
}

// privateKeys maps alias to private PEM, the form a cloud.BootConfig carries.
func privateKeys(keys map[string]HostKey) map[string][]byte {
	out := make(map[string][]byte, len(keys))
	for a, k := range keys {
		out[a] = k.Private
	}
	return out
}

// hostKeyRE is the only form of host key clusterctl writes: one line, "ssh-ed25519 BASE64",
// nothing before or after. Keys come back from instance tags, which anyone allowed to tag them
// can rewrite, and end up in known_hosts files and in here-documents of root scripts.
var hostKeyRE = regexp.MustCompile(`^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$`)

// ParseHostKey reads a public host key: exactly one "ssh-ed25519 BASE64" line that decodes
// to an ed25519 key and encodes back to the same text.
func ParseHostKey(s string) (ssh.PublicKey, error) {
	if !hostKeyRE.MatchString(s) {
		return nil, fmt.Errorf("parse host key: want one line \"ssh-ed25519 BASE64\", got %q", truncate(s, 80))
	}
	k, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("parse host key: %w", err)
	}
	if len(rest) > 0 || k.Type() != ssh.KeyAlgoED25519 || strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) != s {
		return nil, fmt.Errorf("parse host key: %q is not one ed25519 key", truncate(s, 80))
	}
	return k, nil
}

// truncate shortens s for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
