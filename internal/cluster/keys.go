package cluster

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// AuthorizedKey returns the public key (authorized_keys form) of the private key file at path:
// read from the file itself, or from path.pub for a passphrase-protected key. It returns "" when
// neither works: EC2 still installs the key pair's own public key.
func AuthorizedKey(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("key file %s: %w (KEY_LOCATION in the template's [key] section)", path, err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err == nil {
		return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return "", fmt.Errorf("key file %s is not a private key: %w", path, err)
	}
	if missing.PublicKey != nil {
		return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(missing.PublicKey))), nil
	}
	if pub, err := os.ReadFile(path + ".pub"); err == nil {
		if k, _, _, _, err := ssh.ParseAuthorizedKey(pub); err == nil {
			return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))), nil
		}
	}
	return "", nil
}
