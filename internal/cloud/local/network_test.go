package local

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestAllocateSubnet(t *testing.T) {
	var all []string
	for n := 0; n < 256; n++ {
		all = append(all, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, byte(n), 0}), 24).String())
	}
	cases := []struct {
		name    string
		used    []netip.Prefix
		want    string
		wantErr bool
	}{
		{name: "nothing used", want: "10.213.0.0/24"},
		{name: "skips clusters", used: prefixes("10.213.0.0/24", "10.213.1.0/24"), want: "10.213.2.0/24"},
		{name: "fills a gap", used: prefixes("10.213.0.0/24", "10.213.2.0/24"), want: "10.213.1.0/24"},
		{name: "host address inside a /24", used: prefixes("10.213.0.128/25"), want: "10.213.1.0/24"},
		{name: "unrelated host networks", used: prefixes("192.0.2.0/24", "127.0.0.0/8", "10.214.0.0/16"), want: "10.213.0.0/24"},
		{name: "host owns the whole range", used: prefixes("10.0.0.0/8"), wantErr: true},
		{name: "every /24 taken", used: prefixes(all...), wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := allocateSubnet(c.used)
			if c.wantErr {
				if !errors.Is(err, ErrAddressRangeInUse) || !strings.Contains(err.Error(), "address range in use") {
					t.Fatalf("got %v, %v; want an address range in use error", got, err)
				}
				return
			}
			if err != nil || got.String() != c.want {
				t.Fatalf("got %v, %v; want %s", got, err, c.want)
			}
		})
	}
}

func TestAllocateAddresses(t *testing.T) {
	subnet := netip.MustParsePrefix("10.213.7.0/24")
	addrs := func(ss ...string) []netip.Addr {
		out := make([]netip.Addr, len(ss))
		for i, s := range ss {
			out[i] = netip.MustParseAddr(s)
		}
		return out
	}
	var full []netip.Addr
	for h := firstInstance; h <= lastInstance; h++ {
		full = append(full, hostAddr(subnet, h))
	}
	cases := []struct {
		name    string
		used    []netip.Addr
		n       int
		want    []netip.Addr
		wantErr bool
	}{
		{name: "first three", n: 3, want: addrs("10.213.7.10", "10.213.7.11", "10.213.7.12")},
		{name: "reuses a freed address", used: addrs("10.213.7.10", "10.213.7.12"), n: 2, want: addrs("10.213.7.11", "10.213.7.13")},
		{name: "full subnet", used: full, n: 1, wantErr: true},
		{name: "more than fits", n: maxInstancesPerCluster + 1, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := allocateAddresses(subnet, c.used, c.n)
			if c.wantErr != (err != nil) {
				t.Fatalf("got %v, %v; want error %v", got, err, c.wantErr)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
	if g := gateway(subnet); g.String() != "10.213.7.1" {
		t.Errorf("gateway = %s, want 10.213.7.1", g)
	}
}

func TestNetworkFile(t *testing.T) {
	got := networkFile(netip.MustParseAddr("10.213.4.12"), netip.MustParsePrefix("10.213.4.0/24"))
	for _, want := range []string{"[Match]\nName=host0\n", "Address=10.213.4.12/24\n", "Gateway=10.213.4.1\n", "LinkLocalAddressing=no\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("network file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "DHCP") {
		t.Errorf("static network file asks for DHCP:\n%s", got)
	}
	hosts := hostsFile("node001", netip.MustParseAddr("10.213.4.12"))
	if !strings.Contains(hosts, "10.213.4.12\tnode001\n") || !strings.Contains(hosts, "127.0.0.1\tlocalhost\n") {
		t.Errorf("hosts file:\n%s", hosts)
	}
}

func TestBridgeAndMachineNames(t *testing.T) {
	tags := []string{"democluster", "democluster2", "a", strings.Repeat("x", 200)}
	seen := map[string]string{}
	for _, tag := range tags {
		for attempt := range 3 {
			name := bridgeName(tag, attempt)
			if len(name) > maxIfName || !strings.HasPrefix(name, "cc") {
				t.Errorf("bridgeName(%q, %d) = %q: want cc..., at most %d chars", tag, attempt, name, maxIfName)
			}
			if name != bridgeName(tag, attempt) {
				t.Errorf("bridgeName(%q, %d) is not stable", tag, attempt)
			}
			if prev, ok := seen[name]; ok {
				t.Errorf("bridgeName collision: %q for %s and %s/%d", name, prev, tag, attempt)
			}
			seen[name] = tag
		}
	}
	// nspawn names the host side of the veth "vb-" + the machine name cut to 15 characters:
	// machine names must differ within their first 12 characters.
	vethNames := map[string]bool{}
	for range 1000 {
		id := newID("i-")
		if !instanceIDPattern.MatchString(id) {
			t.Fatalf("newID = %q, not an instance id", id)
		}
		veth := ("vb-" + machineName(id))[:maxIfName]
		if vethNames[veth] {
			t.Fatalf("veth name %s repeats among 1000 instances", veth)
		}
		vethNames[veth] = true
	}
}
