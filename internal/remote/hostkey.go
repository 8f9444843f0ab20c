package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyPolicy says how a host key callback treats one target.
type HostKeyPolicy struct {
	// Alias is pinned next to the address on trust-on-first-use and named in errors.
	Alias string
	// TrustOnFirstUse pins an unknown host's key instead of refusing it.
	TrustOnFirstUse bool
	// OnPin is told about each key pinned through TrustOnFirstUse.
	OnPin func(PinNotice)
}

// PinNotice reports a key pinned without verification (trust on first use), so the CLI can
// tell the user what it trusted and where the pin lives.
type PinNotice struct {
	Hostnames   []string
	File        string
	KeyType     string
	Fingerprint string
}

// HostKeyCallback returns an ssh.HostKeyCallback that accepts only keys pinned in the store.
// A different key for a pinned host is a *HostKeyMismatchError; an unpinned host is an
// *UnknownHostKeyError unless the policy trusts on first use, in which case the key is pinned
// and reported. The file is re-read on each check, so pins made meanwhile (by another
// connection or process) are seen.
func (k *KnownHosts) HostKeyCallback(p HostKeyPolicy) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := k.check(hostname, remote, key)
		var keyErr *knownhosts.KeyError
		if !errors.As(err, &keyErr) || len(keyErr.Want) > 0 || !p.TrustOnFirstUse {
			return k.explain(p.Alias, hostname, key, err)
		}
		return k.pinFirstUse(p, hostname, remote, key)
	}
}

// pinFirstUse pins key for an unknown host. The check is repeated under the lock because a
// concurrent connection to the same host may have pinned a key in the meantime.
func (k *KnownHosts) pinFirstUse(p HostKeyPolicy, hostname string, remote net.Addr, key ssh.PublicKey) error {
	names := []string{hostname}
	if p.Alias != "" && p.Alias != hostname {
		if _, port, err := net.SplitHostPort(hostname); err == nil {
			names = append([]string{net.JoinHostPort(p.Alias, port)}, names...)
		}
	}
	names = normalizeHosts(names)
	var checkErr error
	pinned := false
	err := k.update(func(lines []string) ([]string, bool) {
		// The lock is held and lines are the file's content, so check reads the same state.
		checkErr = k.check(hostname, remote, key)
		var keyErr *knownhosts.KeyError
		if !errors.As(checkErr, &keyErr) || len(keyErr.Want) > 0 {
			return lines, false
		}
		pinned = true
		// The address is unknown, but the alias may still name a node that was replaced.
		return append(dropHosts(lines, names), knownhosts.Line(names, key)), true
	})
	if err != nil {
		return fmt.Errorf("pin host key of %s: %w", hostname, err)
	}
	if !pinned {
		return k.explain(p.Alias, hostname, key, checkErr)
	}
	if p.OnPin != nil {
		p.OnPin(PinNotice{Hostnames: names, File: k.path, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key)})
	}
	return nil
}

// check verifies key against the file as it is now. Writers replace the file atomically, so
// no lock is needed to read a consistent version.
func (k *KnownHosts) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	cb, err := k.parsed()
	if err != nil {
		return fmt.Errorf("parse known_hosts: %w", err)
	}
	return cb(hostname, remote, key)
}

// parsed returns the file's checker, parsed again only when the file changed (writers replace
// it, so a new version has a new inode): a thousand connections read a thousand-line file
// once, not a thousand times.
func (k *KnownHosts) parsed() (ssh.HostKeyCallback, error) {
	st, err := os.Stat(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return knownhosts.New()
	}
	if err != nil {
		return nil, err
	}
	id := fileID{size: st.Size(), mtime: st.ModTime()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(sys.Dev), sys.Ino
	}
	k.cacheMu.Lock()
	defer k.cacheMu.Unlock()
	if k.cached != nil && k.cachedID == id {
		return k.cached, nil
	}
	cb, err := knownhosts.New(k.path)
	if err != nil {
		return nil, err
	}
	k.cached, k.cachedID = cb, id
	return cb, nil
}

// fileID tells versions of a file apart.
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

// explain turns knownhosts errors into the typed errors of this package.
func (k *KnownHosts) explain(alias, hostname string, key ssh.PublicKey, err error) error {
	if err == nil {
		return nil
	}
	host := alias
	if host == "" {
		host = hostname
	}
	var keyErr *knownhosts.KeyError
	if errors.As(err, &keyErr) {
		if len(keyErr.Want) == 0 {
			return &UnknownHostKeyError{Host: host, Addr: hostname, File: k.path,
				OfferedType: key.Type(), Offered: ssh.FingerprintSHA256(key)}
		}
		mm := &HostKeyMismatchError{Host: host, Addr: hostname, File: k.path,
			OfferedType: key.Type(), Offered: ssh.FingerprintSHA256(key)}
		for _, w := range keyErr.Want {
			mm.Expected = append(mm.Expected, PinnedKey{Type: w.Key.Type(),
				Fingerprint: ssh.FingerprintSHA256(w.Key), Line: w.Line})
		}
		return mm
	}
	var revoked *knownhosts.RevokedError
	if errors.As(err, &revoked) {
		return fmt.Errorf("host key %s offered by %s is marked @revoked in %s line %d; refusing to connect",
			ssh.FingerprintSHA256(key), host, revoked.Revoked.Filename, revoked.Revoked.Line)
	}
	return fmt.Errorf("check host key of %s against %s: %w", host, k.path, err)
}

// knownKeyTypes lists the key algorithms pinned for hostport, so the handshake asks the
// server for a key of a pinned type: a server offering several host keys would otherwise be
// judged by a key type we never pinned and look like a mismatch.
func (k *KnownHosts) knownKeyTypes(hostport string) []string {
	err := k.check(hostport, &net.TCPAddr{IP: net.IPv4zero}, probeKey{})
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, w := range keyErr.Want {
		t := w.Key.Type()
		if seen[t] {
			continue
		}
		seen[t] = true
		if t == ssh.KeyAlgoRSA {
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
			continue
		}
		algos = append(algos, t)
	}
	return algos
}

// probeKey is a public key no host has; checking it lists the keys pinned for a host. Its
// methods only satisfy ssh.PublicKey; it never verifies anything.
type probeKey struct{}

func (probeKey) Type() string    { return "clusterctl-probe" }
func (probeKey) Marshal() []byte { return []byte("\x00\x00\x00\x10clusterctl-probe") }
func (probeKey) Verify(data []byte, sig *ssh.Signature) error {
	return errors.New("probe key cannot verify")
}

var _ ssh.PublicKey = probeKey{}
