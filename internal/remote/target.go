package remote

import (
	"net"
	"strings"
)

// DefaultPort is used when a Target's Addr names no port, as the system ssh client does.
const DefaultPort = "22"

// Target names one node to connect to. Name is the cluster alias (master, node001) that errors
// and pinned host keys use, because an IP address alone tells a user nothing about which node
// failed. Jump, when set, is the host this node is reached through (normally the master),
// for nodes that have no address reachable from where clusterctl runs.
type Target struct {
	// Name is the alias shown in errors and pinned next to the address in known_hosts.
	Name string
	// Addr is "host" or "host:port"; port 22 is assumed when absent.
	Addr string
	// User is the login user (admin, ubuntu, root ...).
	User string
	// Jump is the host to tunnel through, or nil to dial Addr directly.
	Jump *Target
}

// HostPort returns Addr with the port made explicit, the form net.Dial and known_hosts
// normalisation expect.
func (t Target) HostPort() string {
	if _, _, err := net.SplitHostPort(t.Addr); err == nil {
		return t.Addr
	}
	host := strings.TrimSuffix(strings.TrimPrefix(t.Addr, "["), "]")
	return net.JoinHostPort(host, DefaultPort)
}

// Host returns the address without its port.
func (t Target) Host() string {
	host, _, err := net.SplitHostPort(t.HostPort())
	if err != nil {
		return t.Addr
	}
	return host
}

// Port returns the port part of the address, DefaultPort when Addr names none.
func (t Target) Port() string {
	_, port, err := net.SplitHostPort(t.HostPort())
	if err != nil {
		return DefaultPort
	}
	return port
}

// Label is how a target is named in messages: the alias when there is one, else the address.
func (t Target) Label() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Addr
}

// String describes the target with its route, e.g. "node001 (admin@10.0.0.5:22 via master)".
func (t Target) String() string {
	var b strings.Builder
	b.WriteString(t.Label())
	b.WriteString(" (")
	if t.User != "" {
		b.WriteString(t.User)
		b.WriteString("@")
	}
	b.WriteString(t.HostPort())
	if t.Jump != nil {
		b.WriteString(" via ")
		b.WriteString(t.Jump.Label())
	}
	b.WriteString(")")
	return b.String()
}

// key identifies a connection in a Pool: the same node reached as another user or through
// another jump host is a different connection.
func (t Target) key() string {
	k := t.User + "@" + t.HostPort()
	if t.Jump != nil {
		k += "|" + t.Jump.key()
	}
	return k
}
