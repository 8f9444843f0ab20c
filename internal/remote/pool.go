package remote

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Pool keeps one connection per target and hands it to every caller, so a step that runs
// many commands on many nodes pays for each handshake once. Nodes behind a jump host share
// the jump host's pooled connection. A Pool is safe for concurrent use; concurrent Gets of
// the same target wait for a single dial.
type Pool struct {
	opts Options

	mu     sync.Mutex
	conns  map[string]*poolEntry
	closed bool
}

// poolEntry is one target's connection, or the dial in progress for it.
type poolEntry struct {
	ready  chan struct{}
	client *Client
	err    error
	// abandoned is set when the dial ended because its caller's context did, which says
	// nothing about the node, so waiters with live contexts dial again.
	abandoned bool
}

// NewPool returns an empty pool whose connections are made with opts.
func NewPool(opts Options) *Pool {
	return &Pool{opts: opts, conns: map[string]*poolEntry{}}
}

// Get returns the pooled connection to t, connecting (with Connect's retries) when there is
// none or the previous one has died. The returned client belongs to the pool: its Close
// does nothing.
func (p *Pool) Get(ctx context.Context, t Target) (*Client, error) {
	key := t.key()
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errors.New("connection pool is closed")
		}
		e, ok := p.conns[key]
		if ok {
			p.mu.Unlock()
			select {
			case <-e.ready:
			case <-ctx.Done():
				return nil, fmt.Errorf("connect to %s: %w", t, ctx.Err())
			}
			if e.err == nil && e.client.alive() {
				return e.client, nil
			}
			// A dead connection or a dial abandoned by another caller's context: drop it
			// and dial again. Other failures are returned to every waiter.
			p.drop(key, e)
			if e.err != nil && !e.abandoned {
				return nil, e.err
			}
			continue
		}
		e = &poolEntry{ready: make(chan struct{})}
		p.conns[key] = e
		p.mu.Unlock()

		e.client, e.err = p.dial(ctx, t)
		e.abandoned = ctx.Err() != nil
		if e.err != nil {
			p.drop(key, e)
		}
		close(e.ready)
		if e.err == nil && !p.adopt(e.client) {
			return nil, errors.New("connection pool is closed")
		}
		return e.client, e.err
	}
}

// dial connects to t, getting the jump connection from the pool on every attempt so that
// a jump host that died meanwhile is reconnected.
func (p *Pool) dial(ctx context.Context, t Target) (*Client, error) {
	o, id, err := prepare(p.opts)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t, err)
	}
	conn, err := retry(ctx, t, o, func(actx context.Context) (*ssh.Client, error) {
		var jump *ssh.Client
		if t.Jump != nil {
			j, err := p.Get(actx, *t.Jump)
			if err != nil {
				return nil, fmt.Errorf("jump host: %w", err)
			}
			jump = j.conn
		}
		return dialOnce(actx, t, o, id, jump)
	})
	if err != nil {
		return nil, err
	}
	c := newClient(t, conn, o, nil)
	c.pooled = true
	return c, nil
}

// adopt keeps c unless the pool was closed while it was being dialled.
func (p *Pool) adopt(c *Client) bool {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		c.shutdown()
	}
	return !closed
}

// drop forgets e if it is still the entry for key.
func (p *Pool) drop(key string, e *poolEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[key] == e {
		delete(p.conns, key)
	}
}

// Close closes every pooled connection; later Gets fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	entries := p.conns
	p.conns = map[string]*poolEntry{}
	p.mu.Unlock()
	// Closing waits for each connection's end, a round trip through a jump host: a thousand
	// of them close at once, not one after another.
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for _, e := range entries {
		select {
		case <-e.ready:
		default:
			continue // still dialling: Get's adopt closes it when the dial finishes
		}
		if e.client == nil {
			continue
		}
		wg.Go(func() {
			if err := e.client.shutdown(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
