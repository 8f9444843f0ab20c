package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// errClientClosed is the reason recorded when a client is closed on purpose.
var errClientClosed = errors.New("client closed")

// Client is one SSH connection to a node, shared by any number of concurrent sessions
// (commands, SFTP transfers, shells): opening a session on an existing connection costs one
// round trip, while a new connection costs a handshake.
type Client struct {
	target Target
	conn   *ssh.Client
	// jump is the connection this one tunnels through when the client owns it (Connect);
	// clients from a Pool leave their jump connection to the pool.
	jump   *Client
	pooled bool

	// sessions holds one token per open session, bounding them to Options.MaxSessions.
	sessions chan struct{}
	// observe is Options.Observe.
	observe func(Exchange)

	done      chan struct{}
	closeOnce sync.Once
	errMu     sync.Mutex
	err       error

	sftpMu    sync.Mutex
	sftp      *sftp.Client
	sftpClose func()
}

// Connect opens a connection to t, tunnelling through t.Jump when set (verifying the jump
// host's key and the target's against opts.KnownHosts). Transient failures are retried with
// backoff until opts.ReadyTimeout (see Retryable); a host key mismatch returns at once. The
// caller closes the client, which also closes the jump connection Connect opened for it.
func Connect(ctx context.Context, t Target, opts Options) (*Client, error) {
	o, id, err := prepare(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t, err)
	}
	var jump *Client
	var jumpConn *ssh.Client
	if t.Jump != nil {
		jump, err = Connect(ctx, *t.Jump, opts)
		if err != nil {
			return nil, fmt.Errorf("connect to %s through jump host: %w", t.Label(), err)
		}
		jumpConn = jump.conn
	}
	conn, err := retry(ctx, t, o, func(actx context.Context) (*ssh.Client, error) {
		return dialOnce(actx, t, o, id, jumpConn)
	})
	if err != nil {
		if jump != nil {
			jump.Close()
		}
		return nil, err
	}
	return newClient(t, conn, o, jump), nil
}

// prepare validates opts and loads the key once for all attempts.
func prepare(opts Options) (Options, *identity, error) {
	o := opts.withDefaults()
	if o.KnownHosts == nil {
		return o, nil, errors.New("no known_hosts store given; host keys are always verified")
	}
	id, err := loadIdentity(o.KeyFile, o.AgentSocket)
	if err != nil {
		return o, nil, err
	}
	return o, id, nil
}

// newClient wraps an established connection and starts its keepalive and its watcher.
func newClient(t Target, conn *ssh.Client, o Options, jump *Client) *Client {
	c := &Client{target: t, conn: conn, jump: jump, done: make(chan struct{}),
		sessions: make(chan struct{}, o.MaxSessions), observe: o.Observe}
	stopKeepalive := make(chan struct{})
	if o.KeepaliveInterval > 0 {
		go keepalive(conn, o.KeepaliveInterval, o.KeepaliveMaxMissed, stopKeepalive, func(err error) {
			c.setErr(err)
			conn.Close()
		})
	}
	go func() {
		err := conn.Wait()
		close(stopKeepalive)
		if err == nil {
			err = errors.New("connection closed by the remote host")
		}
		c.setErr(err)
		close(c.done)
	}()
	return c
}

// setErr records why the connection ended; the first reason wins.
func (c *Client) setErr(err error) {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

// Target is the node this client is connected to.
func (c *Client) Target() Target { return c.target }

// SSH exposes the underlying connection for what this package does not wrap (port
// forwarding, custom channels). Do not close it; close the Client.
func (c *Client) SSH() *ssh.Client { return c.conn }

// Done is closed when the connection has ended, whatever the reason.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why the connection ended (for example missed keepalives), or nil while it is up.
func (c *Client) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// alive reports whether the connection is still up.
func (c *Client) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// Close closes the connection and any jump connection Connect opened for it. Clients
// handed out by a Pool belong to the pool: their Close does nothing and Pool.Close closes
// them, so shared connections survive a caller's deferred Close.
func (c *Client) Close() error {
	if c.pooled {
		return nil
	}
	return c.shutdown()
}

// shutdown closes the connection for real.
func (c *Client) shutdown() error {
	var err error
	c.closeOnce.Do(func() {
		c.setErr(errClientClosed)
		c.sftpMu.Lock()
		c.closeSFTP()
		c.sftpMu.Unlock()
		err = c.conn.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		if c.jump != nil {
			c.jump.shutdown()
		}
	})
	return err
}

// newSession opens a session once a slot under MaxSessions is free, waiting for one while
// ctx allows. A server may still count a just-closed session for a moment (the close
// handshake is asynchronous) or have a lower limit than ours, so an "administratively
// prohibited" refusal is retried with backoff for a while. The returned release must be
// called after the session is closed.
func (c *Client) newSession(ctx context.Context) (*ssh.Session, func(), error) {
	select {
	case c.sessions <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("open session on %s: %w", c.target.Label(), ctx.Err())
	case <-c.done:
		return nil, nil, c.connError("open session", net.ErrClosed)
	}
	release := func() { <-c.sessions }
	wait := 10 * time.Millisecond
	deadline := time.Now().Add(sessionRefusedPatience)
	for {
		sess, err := c.conn.NewSession()
		if err == nil {
			return sess, release, nil
		}
		var refused *ssh.OpenChannelError
		if !errors.As(err, &refused) {
			// Not a refusal: the transport is gone (EOF).
			c.awaitEnd()
		}
		if !errors.As(err, &refused) || (refused.Reason != ssh.Prohibited && refused.Reason != ssh.ResourceShortage) ||
			time.Now().After(deadline) {
			release()
			return nil, nil, c.connError("open session", err)
		}
		select {
		case <-ctx.Done():
			release()
			return nil, nil, fmt.Errorf("open session on %s: %w", c.target.Label(), ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Second)
	}
}

// awaitEnd waits up to transportGoneGrace for the connection's reader to notice that the
// transport is gone, which it does a moment after a write fails, so the caller and the pool
// see a dead connection rather than a bare EOF. It reports whether the connection ended.
func (c *Client) awaitEnd() bool {
	select {
	case <-c.done:
		return true
	case <-time.After(transportGoneGrace):
		return false
	}
}

// transportGoneGrace is how long a failed session open or command start waits for the
// connection's end to be noticed, so the failure is reported as a lost connection rather than
// a bare EOF.
const transportGoneGrace = 2 * time.Second

// sessionRefusedPatience is how long session refusals are retried before they are reported.
const sessionRefusedPatience = 30 * time.Second

// connError explains a failure to open a session: the connection's end reason when it is
// gone, which is more useful than "EOF".
func (c *Client) connError(what string, err error) error {
	if !c.alive() {
		if reason := c.Err(); reason != nil {
			return fmt.Errorf("%s on %s: connection lost: %w", what, c.target.Label(), reason)
		}
	}
	return fmt.Errorf("%s on %s: %w", what, c.target.Label(), err)
}
