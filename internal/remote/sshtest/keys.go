package sshtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// KeyKind names a key algorithm the helpers can generate.
type KeyKind string

// The key kinds the cluster key may have.
const (
	Ed25519 KeyKind = "ed25519"
	RSA     KeyKind = "rsa"
	ECDSA   KeyKind = "ecdsa"
)

// NewKey generates a private key of the given kind, failing the test on error.
func NewKey(t testing.TB, kind KeyKind) any {
	t.Helper()
	var (
		key any
		err error
	)
	switch kind {
	case Ed25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case RSA:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case ECDSA:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatalf("generate %s key: %v", kind, err)
	}
	return key
}

// NewSigner generates a key of the given kind and returns it as an ssh.Signer.
func NewSigner(t testing.TB, kind KeyKind) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromKey(NewKey(t, kind))
	if err != nil {
		t.Fatalf("signer for %s key: %v", kind, err)
	}
	return s
}

// WriteKeyFile generates a key, writes it in OpenSSH format (encrypted when passphrase is
// not empty) to dir with mode 0600 plus a .pub beside it, and returns the private key path
// and the signer.
func WriteKeyFile(t testing.TB, dir string, kind KeyKind, passphrase string) (string, ssh.Signer) {
	t.Helper()
	key := NewKey(t, kind)
	var (
		block *pem.Block
		err   error
	)
	if passphrase != "" {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, "clusterctl-test", []byte(passphrase))
	} else {
		block, err = ssh.MarshalPrivateKey(key, "clusterctl-test")
	}
	if err != nil {
		t.Fatalf("marshal %s key: %v", kind, err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatalf("signer for %s key: %v", kind, err)
	}
	path := filepath.Join(dir, "id_"+string(kind))
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("write key: %v", err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatalf("write public key: %v", err)
	}
	return path, signer
}
