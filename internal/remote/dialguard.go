package remote

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// DialAllowEnv, when set, lists the address prefixes SSH connections may go to
// (comma-separated CIDRs, e.g. 127.0.0.0/8,10.213.0.0/16); any other address is refused before a
// packet is sent. The test suites set it to loopback and the local clusters' range, so no test
// can reach an address outside this machine (a moto instance's made-up public address, say).
const DialAllowEnv = "CLUSTERCTL_DIAL_ALLOW"

// checkDialAllowed refuses addr (host:port) when DialAllowEnv is set and does not cover it.
// Host names are refused too: every address clusterctl dials is an IP it read from a provider.
func checkDialAllowed(addr string) error {
	allow := os.Getenv(DialAllowEnv)
	if allow == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("dial %s: refused: %s allows only addresses (%s)", addr, DialAllowEnv, allow)
	}
	for _, s := range strings.Split(allow, ",") {
		if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil && p.Contains(ip.Unmap()) {
			return nil
		}
	}
	return fmt.Errorf("dial %s: refused: outside %s (%s)", addr, DialAllowEnv, allow)
}
