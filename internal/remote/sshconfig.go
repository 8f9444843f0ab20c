package remote

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
)

// HostAlias is the name a cluster node has in OpenSSH configuration (clusterctl ssh-config) and
// in every hint clusterctl prints for tools that use the system ssh: TAG-alias, or the alias
// itself when it carries the tag already (DNS_PREFIX).
func HostAlias(tag, alias string) string {
	if strings.HasPrefix(alias, tag+"-") {
		return alias
	}
	return tag + "-" + alias
}

// SSHConfigHost is one node for SSHConfig: its Host name and how to reach it. JumpHost names
// the Host block to jump through ("" for none).
type SSHConfigHost struct {
	Host     string
	Target   Target
	JumpHost string
}

// Exact shapes of what goes into an OpenSSH config from the cloud (addresses, names): a value
// with a space or a newline could smuggle options such as ProxyCommand into the file.
var (
	sshNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$`)
	sshUserRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
)

// SSHConfig renders OpenSSH Host blocks that reach the nodes as clusterctl does: the pinned
// known_hosts file and nothing else (strict checking), the cluster's key, the jump through the
// master for nodes without a reachable address. keyFile, knownHosts and controlDir are local
// paths. With controlDir, connections are shared (ControlMaster auto, kept 10 minutes): tools
// that open many tunnels, such as ipyparallel's, then add forwards to one connection
// (ssh -O forward) instead of starting "ssh -f" processes of their own.
func SSHConfig(header string, hosts []SSHConfigHost, keyFile, knownHosts, controlDir string) (string, error) {
	var b strings.Builder
	for _, line := range strings.Split(header, "\n") {
		b.WriteString("# " + line + "\n")
	}
	for _, h := range hosts {
		host, port := h.Target.Addr, "22"
		if hp, p, err := net.SplitHostPort(h.Target.Addr); err == nil {
			host, port = hp, p
		}
		if _, err := netip.ParseAddr(host); err != nil && !sshNameRE.MatchString(host) {
			return "", fmt.Errorf("%s: address %q is not an address or host name", h.Host, host)
		}
		for what, v := range map[string]string{"host name": h.Host, "jump host": h.JumpHost} {
			if v != "" && !sshNameRE.MatchString(v) {
				return "", fmt.Errorf("%s %q is not a usable ssh host name", what, v)
			}
		}
		if !sshUserRE.MatchString(h.Target.User) {
			return "", fmt.Errorf("%s: user %q is not a valid user name", h.Host, h.Target.User)
		}
		fmt.Fprintf(&b, "\nHost %s\n    HostName %s\n", h.Host, host)
		if port != "22" {
			fmt.Fprintf(&b, "    Port %s\n", port)
		}
		fmt.Fprintf(&b, "    User %s\n", h.Target.User)
		if keyFile != "" {
			fmt.Fprintf(&b, "    IdentityFile %s\n    IdentitiesOnly yes\n", configQuote(keyFile))
		}
		fmt.Fprintf(&b, "    UserKnownHostsFile %s\n    GlobalKnownHostsFile /dev/null\n    StrictHostKeyChecking yes\n", configQuote(knownHosts))
		if controlDir != "" {
			fmt.Fprintf(&b, "    ControlMaster auto\n    ControlPath %s\n    ControlPersist 10m\n", configQuote(controlDir+"/%C"))
		}
		if h.JumpHost != "" {
			fmt.Fprintf(&b, "    ProxyJump %s\n", h.JumpHost)
		}
	}
	return b.String(), nil
}

// configQuote quotes a local path for ssh_config when it has spaces.
func configQuote(p string) string {
	if strings.ContainsAny(p, " \t") {
		return `"` + p + `"`
	}
	return p
}
