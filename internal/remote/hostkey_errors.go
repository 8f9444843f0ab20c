package remote

import (
	"fmt"
	"strings"
)

// PinnedKey describes one key pinned for a host, for error messages.
type PinnedKey struct {
	Type        string
	Fingerprint string
	Line        int
}

// HostKeyMismatchError means a host offered a key other than the one pinned for it. It is
// never retried: either the address now belongs to another machine, the node was rebuilt
// with new host keys, or someone is intercepting the connection, and only a person can
// tell which.
type HostKeyMismatchError struct {
	// Host is the node's alias, or its address when it has none.
	Host string
	// Addr is the address dialled, host:port.
	Addr string
	// File is the known_hosts file holding the pin.
	File string
	// Expected are the keys pinned for the host.
	Expected []PinnedKey
	// OfferedType and Offered are the type and SHA256 fingerprint of the key the host sent.
	OfferedType string
	Offered     string
}

// Error is one readable block: what happened, the fingerprints, and what to check.
func (e *HostKeyMismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host key mismatch for %s (%s): the key it offered is not the one pinned in %s\n", e.Host, e.Addr, e.File)
	for _, k := range e.Expected {
		fmt.Fprintf(&b, "  expected: %s %s (line %d)\n", k.Type, k.Fingerprint, k.Line)
	}
	fmt.Fprintf(&b, "  offered:  %s %s\n", e.OfferedType, e.Offered)
	b.WriteString("The connection was refused and will not be retried. Check whether the address was reused " +
		"by another machine (EC2 recycles private and public IPs), whether the node was rebuilt with new " +
		"host keys (compare the fingerprint with the node's console output), or whether the connection is " +
		"being intercepted. Only once you know the new key is genuine, remove the old line")
	if len(e.Expected) > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Expected[0].Line)
	}
	fmt.Fprintf(&b, " from %s and connect again.", e.File)
	return b.String()
}

// UnknownHostKeyError means the host has no pinned key and trust-on-first-use was not
// requested. It is not retried either: waiting does not make an unknown key trustworthy.
type UnknownHostKeyError struct {
	Host        string
	Addr        string
	File        string
	OfferedType string
	Offered     string
}

// Error explains that nothing is pinned and how keys get pinned.
func (e *UnknownHostKeyError) Error() string {
	return fmt.Sprintf("host key of %s (%s) is not pinned in %s (offered %s %s); clusterctl pins keys when it "+
		"creates nodes, so this node was not created by it or its entry was removed; verify the fingerprint "+
		"on the node's console before pinning it", e.Host, e.Addr, e.File, e.OfferedType, e.Offered)
}
