package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// dialTimeout bounds each readiness probe: on the bridge a container answers in microseconds,
// or not at all while its network is still coming up.
const dialTimeout = 300 * time.Millisecond

// bannerTimeout bounds the wait for sshd's identification line once connected: sshd forks and
// re-executes itself for every connection before it sends it, which takes more than a second
// on a machine loaded with many booting containers.
const bannerTimeout = 3 * time.Second

// Wait polls until every instance in ids is in state and returns them sorted by alias.
// Running means usable: sshd sends its identification on PrivateIP:22, the container's systemd
// finished booting and logins are allowed (units that failed at boot are restarted once, see
// repairBoot), so the engine's first SSH login succeeds; stopped means the container process is
// gone and its root unmounted. A dead instance (its container died) is an error at once, naming it with the
// end of its console, never waited for. Without a ctx deadline it gives up after
// cloud.DefaultWaitTimeout.
func (p *Provider) Wait(ctx context.Context, tag string, ids []string, state string) ([]cloud.Instance, error) {
	if state != cloud.StateRunning && state != cloud.StateStopped {
		return nil, fmt.Errorf("wait: unsupported state %q (want running or stopped)", state)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cloud.DefaultWaitTimeout)
		defer cancel()
	}
	t := time.NewTicker(p.poll)
	defer t.Stop()
	repaired := map[string]bool{}
	var pending map[string]string // the last complete round's reasons
	for {
		ready, round, err := p.waitRound(ctx, tag, ids, state, repaired)
		if ctx.Err() != nil && pending != nil {
			// A round cut short by the deadline says less than the one before it.
			return nil, fmt.Errorf("wait for %d instances of %s to be %s: still waiting for %s: %w",
				len(ids), tag, state, describePending(pending), ctx.Err())
		}
		if err != nil {
			return nil, fmt.Errorf("wait for instances of %s to be %s: %w", tag, state, err)
		}
		pending = round
		p.reportWait(ctx, tag, len(ids), len(ready), pending)
		if len(pending) == 0 {
			cloud.SortInstances(ready)
			return ready, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %d instances of %s to be %s: still waiting for %s: %w",
				len(ids), tag, state, describePending(pending), ctx.Err())
		case <-t.C:
		}
	}
}

// waitRound checks every instance once. pending maps the ids not ready yet to why; repaired
// remembers the instances whose failed units were already restarted.
func (p *Provider) waitRound(ctx context.Context, tag string, ids []string, state string, repaired map[string]bool) ([]cloud.Instance, map[string]string, error) {
	insts, err := p.Instances(ctx, tag)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]cloud.Instance, len(insts))
	for _, in := range insts {
		byID[in.ID] = in
	}
	var (
		ready   []cloud.Instance
		probe   []cloud.Instance
		dead    []error
		pending = map[string]string{}
	)
	for _, id := range ids {
		in, ok := byID[id]
		switch {
		case !ok:
			dead = append(dead, fmt.Errorf("instance %s does not exist in cluster %s: %w", id, tag, cloud.ErrNotFound))
		case in.State == cloud.StateDead:
			dead = append(dead, fmt.Errorf("instance %s (%s) is dead: its container exited without being stopped; console: %s",
				id, in.Alias, orNothing(consoleTail(p.instanceDir(tag, id), 5))))
		case state == cloud.StateRunning && in.State == cloud.StateStopped:
			dead = append(dead, fmt.Errorf("instance %s (%s) is stopped while waiting for running: start it first", id, in.Alias))
		case in.State != state:
			pending[id] = in.State
		case state == cloud.StateRunning:
			probe = append(probe, in)
		default:
			ready = append(ready, in)
		}
	}
	if len(dead) > 0 {
		return nil, nil, errors.Join(dead...)
	}
	// The boot state is read whether or not sshd answers: it says why a node that never
	// answers is stuck (ssh.service failed at boot, which a restart mends) and why one that
	// answers refuses logins, even in a round where a busy sshd is slow to greet.
	answers := sshAnswers(ctx, probe)
	states := p.bootStates(ctx, probe)
	for i, in := range probe {
		st, sshOK := states[i], answers[i]
		switch {
		case st.err != nil && !sshOK:
			pending[in.ID] = "booting, sshd not answering yet"
		case st.err != nil:
			pending[in.ID] = "booting: " + st.err.Error()
		case st.usable() && sshOK:
			if len(st.Failed) > 0 {
				p.log.Warn("instance is up with failed units", "instance", in.ID, "alias", in.Alias, "state", st.String())
			}
			ready = append(ready, in)
		case st.booting():
			pending[in.ID] = "booting (" + st.String() + ")"
		case len(st.Failed) > 0 && !repaired[in.ID]:
			repaired[in.ID] = true
			p.log.Info("restarting units that failed at boot", "instance", in.ID, "alias", in.Alias, "state", st.String())
			if err := p.repairBoot(ctx, st.pid, st.bootState); err != nil {
				p.log.Warn("restart failed units", "instance", in.ID, "error", err)
			}
			pending[in.ID] = "not usable, failed units restarted (" + st.String() + ")"
		case !sshOK:
			pending[in.ID] = "sshd not answering (" + st.String() + ")"
		default:
			pending[in.ID] = "not usable (" + st.String() + ")"
		}
	}
	return ready, pending, nil
}

// probedBoot is one instance's boot state, or why it could not be read.
type probedBoot struct {
	bootState
	pid int
	err error
}

// bootStates reads the boot state of each instance in parallel.
func (p *Provider) bootStates(ctx context.Context, insts []cloud.Instance) []probedBoot {
	out := make([]probedBoot, len(insts))
	var wg sync.WaitGroup
	for i, in := range insts {
		wg.Go(func() {
			rec, err := p.findInstance(in.ID)
			if err != nil {
				out[i].err = err
				return
			}
			out[i].pid = rec.PID
			out[i].bootState, out[i].err = p.readBootState(ctx, rec.PID)
		})
	}
	wg.Wait()
	return out
}

// sshAnswers dials port 22 of each instance in parallel and reports which sent an SSH
// identification line.
func sshAnswers(ctx context.Context, insts []cloud.Instance) []bool {
	ok := make([]bool, len(insts))
	var wg sync.WaitGroup
	for i, in := range insts {
		wg.Go(func() {
			ip, err := netip.ParseAddr(in.PrivateIP)
			if err != nil {
				return
			}
			d := net.Dialer{Timeout: dialTimeout}
			if conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(ip, 22).String()); err == nil {
				// Accepting TCP is not enough: sshd must also send its identification line,
				// or a client connecting right away meets a closed handshake (EOF).
				_ = conn.SetReadDeadline(time.Now().Add(bannerTimeout))
				banner := make([]byte, 4)
				n, _ := io.ReadFull(conn, banner)
				ok[i] = n == 4 && string(banner) == "SSH-"
				// Reset rather than close: a probe must leave no half-closed socket in the
				// container, which would keep its network namespace (and veth) alive if
				// the container is killed right after.
				if tc, isTCP := conn.(*net.TCPConn); isTCP {
					_ = tc.SetLinger(0)
				}
				conn.Close()
			}
		})
	}
	wg.Wait()
	return ok
}

// reportWait tells the waiting command (cloud.ReportWait) how many instances are ready and
// why the others are not, by alias.
func (p *Provider) reportWait(ctx context.Context, tag string, total, ready int, pending map[string]string) {
	status := cloud.WaitStatus{Ready: ready, Total: total, Pending: make(map[string]string, len(pending))}
	aliases := map[string]string{}
	if insts, err := p.Instances(ctx, tag); err == nil {
		for _, in := range insts {
			aliases[in.ID] = in.Alias
		}
	}
	for id, why := range pending {
		name := aliases[id]
		if name == "" {
			name = id
		}
		status.Pending[name] = why
	}
	cloud.ReportWait(ctx, status)
}

// describePending lists the instances still awaited with their last seen state, at most ten.
func describePending(pending map[string]string) string {
	parts := make([]string, 0, len(pending))
	for id, st := range pending {
		parts = append(parts, id+" ("+st+")")
	}
	sort.Strings(parts)
	if len(parts) > 10 {
		parts = append(parts[:10], fmt.Sprintf("and %d more", len(parts)-10))
	}
	return strings.Join(parts, ", ")
}

func orNothing(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}
