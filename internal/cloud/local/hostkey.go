package local

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// hostKey is an instance's SSH host key in the forms it is installed and pinned in.
type hostKey struct {
	// private is the OpenSSH-format PEM sshd reads.
	private []byte
	// public is the authorized_keys form, recorded as Instance.HostKey so any machine can pin it.
	public string
	// kind names the key files: ssh_host_<kind>_key.
	kind string
}

// parseHostKey reads the PEM clusterctl generated for an instance (cloud.BootConfig.HostKeys).
// When there is none (a caller that generates no keys) one is made here, so the instance still
// gets a host key of its own and Instance.HostKey still lets the engine pin it.
func parseHostKey(alias string, pemBytes []byte) (hostKey, error) {
	if len(pemBytes) == 0 {
		return generateHostKey(alias)
	}
	raw, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		return hostKey{}, fmt.Errorf("host key for %s: %w", alias, err)
	}
	signer, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return hostKey{}, fmt.Errorf("host key for %s: %w", alias, err)
	}
	kind, err := keyKind(signer.PublicKey().Type())
	if err != nil {
		return hostKey{}, fmt.Errorf("host key for %s: %w", alias, err)
	}
	return hostKey{private: pemBytes, public: authorizedKey(signer.PublicKey()), kind: kind}, nil
}

// generateHostKey makes a fresh ed25519 host key.
func generateHostKey(alias string) (hostKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return hostKey{}, fmt.Errorf("generate host key for %s: %w", alias, err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "root@"+alias)
	if err != nil {
		return hostKey{}, fmt.Errorf("encode host key for %s: %w", alias, err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return hostKey{}, fmt.Errorf("encode host key for %s: %w", alias, err)
	}
	return hostKey{private: pem.EncodeToMemory(block), public: authorizedKey(sshPub), kind: "ed25519"}, nil
}

// keyKind maps an SSH key type to the name OpenSSH gives its host key file.
func keyKind(sshType string) (string, error) {
	switch {
	case sshType == ssh.KeyAlgoED25519:
		return "ed25519", nil
	case strings.HasPrefix(sshType, "ecdsa-sha2-"):
		return "ecdsa", nil
	case sshType == ssh.KeyAlgoRSA:
		return "rsa", nil
	}
	return "", fmt.Errorf("unsupported host key type %s", sshType)
}

// authorizedKey is a public key in authorized_keys form without a trailing newline.
func authorizedKey(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// sshdDropIn makes sshd use only the instance's own key and refuse passwords. Debian's
// sshd_config includes sshd_config.d/*.conf first, and a HostKey line replaces the defaults.
func sshdDropIn(kind string) string {
	return "# Written by clusterctl (local provider): this instance's own host key only.\n" +
		"HostKey /etc/ssh/ssh_host_" + kind + "_key\n" +
		"PasswordAuthentication no\n"
}
