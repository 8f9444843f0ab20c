package cluster

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// ensureClusterKey makes the key a cluster without KEYNAME logs in with (local clusters need no
// EC2 key pair): an ed25519 key at ClusterKeyPath, mode 0600, kept while the cluster exists.
func (e *Engine) ensureClusterKey(tag string) error {
	path := ClusterKeyPath(e.StateDir, tag)
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create key directory: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate cluster key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "clusterctl "+tag)
	if err != nil {
		return fmt.Errorf("encode cluster key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		return fmt.Errorf("write cluster key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("write cluster key: %w", err)
	}
	return nil
}

// forgetClusterKey removes a terminated cluster's own key.
func (e *Engine) forgetClusterKey(tag string) {
	path := ClusterKeyPath(e.StateDir, tag)
	_ = os.Remove(path)
	_ = os.Remove(path + ".pub")
}
