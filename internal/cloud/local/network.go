package local

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// clusterRange is where cluster subnets come from: one /24 per cluster. 10.213/16 is rarely used
// by anything else; a /24 that is found on any host interface is skipped anyway.
const clusterRange = "10.213.0.0/16"

// Within a cluster's /24 the bridge (the host, and the nodes' gateway) is .1 and instances get
// .10 upwards, leaving room below for anything a user wants to add by hand.
const (
	gatewayHost   = 1
	firstInstance = 10
	lastInstance  = 254
)

// maxInstancesPerCluster is how many instances one cluster's subnet holds.
const maxInstancesPerCluster = lastInstance - firstInstance + 1

// ErrAddressRangeInUse is returned when every /24 of the cluster range is taken.
var ErrAddressRangeInUse = errors.New("address range in use")

// allocateSubnet returns the first /24 of clusterRange that overlaps none of used (other
// clusters' subnets and every prefix on a host interface).
func allocateSubnet(used []netip.Prefix) (netip.Prefix, error) {
	base := netip.MustParsePrefix(clusterRange).Addr().As4()
	for n := 0; n < 256; n++ {
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{base[0], base[1], byte(n), 0}), 24)
		free := true
		for _, u := range used {
			if u.Overlaps(cand) {
				free = false
				break
			}
		}
		if free {
			return cand, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /24 in %s for a new cluster: %w (terminate a cluster, or free addresses on host interfaces)",
		clusterRange, ErrAddressRangeInUse)
}

// hostAddr is address number n (1..254) of a /24.
func hostAddr(subnet netip.Prefix, n int) netip.Addr {
	b := subnet.Masked().Addr().As4()
	b[3] = byte(n)
	return netip.AddrFrom4(b)
}

// gateway is the bridge's address in the subnet.
func gateway(subnet netip.Prefix) netip.Addr { return hostAddr(subnet, gatewayHost) }

// allocateAddresses returns n free instance addresses of subnet, lowest first, skipping used.
func allocateAddresses(subnet netip.Prefix, used []netip.Addr, n int) ([]netip.Addr, error) {
	taken := make(map[netip.Addr]bool, len(used))
	for _, a := range used {
		taken[a] = true
	}
	var out []netip.Addr
	for h := firstInstance; h <= lastInstance && len(out) < n; h++ {
		if a := hostAddr(subnet, h); !taken[a] {
			out = append(out, a)
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("subnet %s has room for %d more instances, %d asked: %w",
			subnet, len(out), n, ErrAddressRangeInUse)
	}
	return out, nil
}

// hostPrefixes lists the IPv4 networks on this host's interfaces (what `ip -4 -o addr` shows),
// so a cluster never takes a subnet the host already uses.
func hostPrefixes() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list host addresses: %w", err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok || !ip.Unmap().Is4() {
			continue
		}
		ones, _ := ipn.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones).Masked())
	}
	return out, nil
}

// networkFile is the systemd-networkd configuration giving host0 (the container's end of the
// veth) its static address. It is installed as 10-host0.network so it sorts before the image's
// 80-container-host0.network, which would otherwise configure host0 by DHCP/link-local.
func networkFile(addr netip.Addr, subnet netip.Prefix) string {
	var b strings.Builder
	b.WriteString("# Written by clusterctl (local provider) before first boot.\n")
	b.WriteString("[Match]\nName=host0\n\n[Network]\n")
	fmt.Fprintf(&b, "Address=%s/%d\n", addr, subnet.Bits())
	fmt.Fprintf(&b, "Gateway=%s\n", gateway(subnet))
	b.WriteString("LinkLocalAddressing=no\nIPv6AcceptRA=no\n")
	return b.String()
}

// hostsFile is the instance's initial /etc/hosts: localhost and its own name, so sudo and
// daemons resolve the host name before setup writes the cluster-wide file.
func hostsFile(alias string, addr netip.Addr) string {
	return fmt.Sprintf("127.0.0.1\tlocalhost\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n", addr, alias)
}
