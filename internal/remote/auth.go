package remote

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// ErrKeyNotInAgent is wrapped by errors about a passphrase-protected cluster key that no
// ssh-agent can sign with. clusterctl never prompts for passphrases, so the agent is the
// only way such a key can be used, and the user has to be told to load it.
var ErrKeyNotInAgent = errors.New("passphrase-protected key is not available from ssh-agent")

// identity is the loaded cluster key: either a signer parsed from the key file, or, for a
// passphrase-protected file, the public half whose signatures the agent makes.
type identity struct {
	file      string
	signer    ssh.Signer
	public    ssh.PublicKey
	agentSock string
}

// loadIdentity reads the cluster key. For a passphrase-protected key it checks right away
// that the agent holds it, because retrying a connection cannot fix a missing key.
func loadIdentity(keyFile, agentSock string) (*identity, error) {
	if keyFile == "" {
		return nil, errors.New("no cluster key file configured")
	}
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read cluster key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err == nil {
		return &identity{file: keyFile, signer: signer}, nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		// The parse error never contains key material, only the format problem.
		return nil, fmt.Errorf("parse cluster key %s: %w", keyFile, err)
	}
	id := &identity{file: keyFile, public: missing.PublicKey, agentSock: agentSock}
	if id.public == nil {
		id.public = readPublicKeyFile(keyFile + ".pub")
	}
	if id.agentSock == "" {
		id.agentSock = os.Getenv("SSH_AUTH_SOCK")
	}
	_, closeAgent, err := id.signers()
	if err != nil {
		return nil, err
	}
	closeAgent()
	return id, nil
}

// readPublicKeyFile returns the key in an OpenSSH .pub file, or nil when there is none.
func readPublicKeyFile(path string) ssh.PublicKey {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil
	}
	return pub
}

// signers returns what to authenticate with for one handshake and a function releasing the
// agent connection afterwards.
func (id *identity) signers() ([]ssh.Signer, func(), error) {
	if id.signer != nil {
		return []ssh.Signer{id.signer}, func() {}, nil
	}
	if id.agentSock == "" {
		return nil, nil, fmt.Errorf("cluster key %s: %w: SSH_AUTH_SOCK is not set, so no agent is running; "+
			"start one (eval \"$(ssh-agent)\") and run ssh-add %s", id.file, ErrKeyNotInAgent, id.file)
	}
	conn, err := net.Dial("unix", id.agentSock)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster key %s: %w: cannot reach the agent at %s (%w); "+
			"start one (eval \"$(ssh-agent)\") and run ssh-add %s", id.file, ErrKeyNotInAgent, id.agentSock, err, id.file)
	}
	all, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("list ssh-agent keys at %s: %w", id.agentSock, err)
	}
	release := func() { conn.Close() }
	if id.public == nil {
		// No public half to match against: offer what the agent has, as ssh would.
		if len(all) == 0 {
			release()
			return nil, nil, fmt.Errorf("cluster key %s: %w: the agent at %s holds no keys; run ssh-add %s",
				id.file, ErrKeyNotInAgent, id.agentSock, id.file)
		}
		return all, release, nil
	}
	want := id.public.Marshal()
	for _, s := range all {
		if bytes.Equal(s.PublicKey().Marshal(), want) {
			return []ssh.Signer{s}, release, nil
		}
	}
	release()
	return nil, nil, fmt.Errorf("cluster key %s (%s): %w: the agent at %s does not hold it; run ssh-add %s",
		id.file, ssh.FingerprintSHA256(id.public), ErrKeyNotInAgent, id.agentSock, id.file)
}
