package cluster

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
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

// ParseHostKey reads a public host key in authorized_keys form.
func ParseHostKey(s string) (ssh.PublicKey, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("parse host key: %w", err)
	}
	return k, nil
}
