package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// isolationPref is the priority of the policy rule that keeps clusters apart. It sits before the
// main table (32766), so it decides before any route does.
const isolationPref = "32000"

// ensureBridge makes sure the cluster's bridge exists, carries the subnet's first address, is up
// and is isolated from other clusters. It is idempotent: CreateCluster creates the bridge,
// Launch and Start re-create it after a host reboot took it away.
func (p *Provider) ensureBridge(ctx context.Context, c clusterRecord) error {
	br, gw := c.Bridge, gateway(c.Subnet)
	iface, err := net.InterfaceByName(br)
	if err != nil {
		if _, err := p.run(ctx, cmd("ip", "link", "add", "name", br, "type", "bridge")); err != nil {
			return fmt.Errorf("create bridge %s for cluster %s: %w", br, c.Tag, err)
		}
		if iface, err = net.InterfaceByName(br); err != nil {
			return fmt.Errorf("bridge %s for cluster %s: %w", br, c.Tag, err)
		}
	}
	has, err := interfaceHas(iface, gw.String())
	if err != nil {
		return fmt.Errorf("bridge %s: %w", br, err)
	}
	if !has {
		addr := fmt.Sprintf("%s/%d", gw, c.Subnet.Bits())
		if _, err := p.run(ctx, cmd("ip", "addr", "add", addr, "dev", br)); err != nil {
			return fmt.Errorf("address bridge %s for cluster %s: %w", br, c.Tag, err)
		}
	}
	// ARP on the bridge retries every 100 ms instead of every second: a readiness probe sent
	// before a container has its address would otherwise delay noticing it by a second.
	arp := "/proc/sys/net/ipv4/neigh/" + br + "/retrans_time_ms"
	if err := os.WriteFile(arp, []byte("100\n"), 0o644); err != nil {
		p.log.Debug("could not shorten ARP retries on the bridge", "bridge", br, "error", err)
	}
	if iface.Flags&net.FlagUp == 0 {
		if _, err := p.run(ctx, cmd("ip", "link", "set", br, "up")); err != nil {
			return fmt.Errorf("bring up bridge %s for cluster %s: %w", br, c.Tag, err)
		}
	}
	return p.ensureIsolation(ctx, br)
}

// interfaceHas reports whether iface carries the address ip.
func interfaceHas(iface *net.Interface, ip string) (bool, error) {
	addrs, err := iface.Addrs()
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.String() == ip {
			return true, nil
		}
	}
	return false, nil
}

// ensureIsolation adds a policy rule refusing to route anything arriving on the bridge towards
// the cluster range. Nodes reach their own cluster through the bridge (switched, never routed)
// and the host directly; with IP forwarding on (a host running Docker has it) the host would
// otherwise route one cluster's packets into another's bridge.
func (p *Provider) ensureIsolation(ctx context.Context, br string) error {
	out, err := p.run(ctx, cmd("ip", "-4", "rule", "show", "iif", br))
	if err != nil {
		return fmt.Errorf("check isolation of bridge %s: %w", br, err)
	}
	if strings.Contains(string(out), "prohibit") {
		return nil
	}
	if _, err := p.run(ctx, cmd("ip", "-4", "rule", "add", "iif", br, "to", clusterRange, "prohibit", "pref", isolationPref)); err != nil {
		return fmt.Errorf("isolate bridge %s: %w", br, err)
	}
	return nil
}

// deleteBridge removes the cluster's isolation rule and bridge; either being gone already is
// fine, so a DeleteCluster interrupted half way can run again.
func (p *Provider) deleteBridge(ctx context.Context, br string) error {
	var errs []error
	for range 8 { // duplicates can only come from manual meddling; never loop forever
		_, err := p.run(ctx, cmd("ip", "-4", "rule", "del", "iif", br, "to", clusterRange, "prohibit", "pref", isolationPref))
		if err != nil {
			break
		}
	}
	if _, err := net.InterfaceByName(br); err == nil {
		if _, err := p.run(ctx, cmd("ip", "link", "del", br)); err != nil {
			errs = append(errs, fmt.Errorf("delete bridge %s: %w", br, err))
		}
	}
	return errors.Join(errs...)
}

// removeVeth deletes the host side of an instance's veth if it outlived its container. nspawn
// removes it on a clean exit; after a kill, a socket of the dead container that still waits for
// its peer can keep the container's network namespace, and with it the veth, alive for minutes.
// nspawn gives the veth the altname "vb-" + the full machine name, which ip accepts.
func (p *Provider) removeVeth(ctx context.Context, machine string) error {
	name := "vb-" + machine
	if _, err := p.run(ctx, cmd("ip", "link", "show", "dev", name)); err != nil {
		return nil // no such link: the usual case
	}
	if _, err := p.run(ctx, cmd("ip", "link", "del", "dev", name)); err != nil {
		// The kernel removes the pair when the container's network namespace goes away,
		// which can happen between the check and the delete: gone is what we wanted.
		if _, gone := p.run(ctx, cmd("ip", "link", "show", "dev", name)); gone != nil {
			return nil
		}
		return fmt.Errorf("remove veth %s: %w", name, err)
	}
	return nil
}
