package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
)

// handshakeTimeoutError reports a server that accepted the TCP connection but did not finish
// the SSH handshake in time, typically sshd still starting or an overloaded node. It is a
// net.Error with Timeout() true, so it is retried like other timeouts.
type handshakeTimeoutError struct {
	addr    string
	timeout time.Duration
}

// Error names the address and the limit that ran out.
func (e *handshakeTimeoutError) Error() string {
	return fmt.Sprintf("ssh handshake with %s did not finish within %s", e.addr, e.timeout)
}

// Timeout and Temporary make the error a retryable timeout for net.Error checks.
func (e *handshakeTimeoutError) Timeout() bool   { return true }
func (e *handshakeTimeoutError) Temporary() bool { return true }

var _ net.Error = (*handshakeTimeoutError)(nil)

// dialOnce makes a single connection attempt to t, through jump when it is not nil. The TCP
// connect is bounded by DialTimeout, the SSH handshake by HandshakeTimeout, and both end at
// once when ctx does.
func dialOnce(ctx context.Context, t Target, o Options, id *identity, jump *ssh.Client) (*ssh.Client, error) {
	addr := t.HostPort()
	if o.Dial == nil {
		if err := checkDialAllowed(addr); err != nil {
			return nil, err
		}
	}
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	var (
		conn net.Conn
		err  error
	)
	switch {
	case jump != nil:
		conn, err = jump.DialContext(dctx, "tcp", addr)
	case o.Dial != nil:
		conn, err = o.Dial(dctx, "tcp", addr)
	default:
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", addr)
	}
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) && jump != nil {
			// The ssh package reports a cancelled channel open as a plain ctx error.
			err = &handshakeTimeoutError{addr: addr, timeout: o.DialTimeout}
		}
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}

	signers, release, err := id.signers()
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer release()

	cfg := &ssh.ClientConfig{
		User: t.User,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyCallback: o.KnownHosts.HostKeyCallback(HostKeyPolicy{
			Alias:           t.Name,
			TrustOnFirstUse: o.TrustOnFirstUse,
			OnPin:           o.OnPin,
		}),
		HostKeyAlgorithms: o.KnownHosts.knownKeyTypes(addr),
	}

	// Deadlines on the connection itself do not work for channels through a jump host, so
	// a timer closes the connection instead; that works for both kinds. Stop reporting
	// false means the closer has run or is about to, so the connection is unusable.
	timer := time.AfterFunc(o.HandshakeTimeout, func() { conn.Close() })
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	sconn, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	timedOut := !timer.Stop()
	cancelled := !stop()
	if err == nil && !timedOut && !cancelled {
		return ssh.NewClient(sconn, chans, reqs), nil
	}
	if err == nil {
		sconn.Close()
	}
	if cancelled {
		return nil, fmt.Errorf("ssh handshake with %s: %w", addr, ctx.Err())
	}
	if timedOut {
		return nil, &handshakeTimeoutError{addr: addr, timeout: o.HandshakeTimeout}
	}
	return nil, err
}
