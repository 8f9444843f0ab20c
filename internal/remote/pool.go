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
	// jumpSlots assigns each target reached through a jump host to one of the jump host's
	// connections (slot 0 is the one every other caller shares), at most MaxForwards each.
	jumpSlots map[string]map[string]int
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
	return &Pool{opts: opts, conns: map[string]*poolEntry{}, jumpSlots: map[string]map[string]int{}}
}

// Get returns the pooled connection to t, connecting (with Connect's retries) when there is
// none or the previous one has died. The returned client belongs to the pool: its Close
// does nothing.
func (p *Pool) Get(ctx context.Context, t Target) (*Client, error) {
	return p.get(ctx, t, t.key())
}

// get is Get with the pool's key for the connection: a jump host has one key per slot.
func (p *Pool) get(ctx context.Context, t Target, key string) (*Client, error) {
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
			j, err := p.get(actx, *t.Jump, p.jumpKey(t))
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

// jumpKey is the pool key of the jump connection t goes through: the first MaxForwards
// targets share the jump host's own connection, the next ones a second connection, and so on.
// Each connection forwarded through is an open file of the jump host's sshd process for that
// connection, which systemd starts with a limit of 1024; a thousand nodes behind one master
// therefore take two connections to it, not one.
func (p *Pool) jumpKey(t Target) string {
	base := t.Jump.key()
	p.mu.Lock()
	defer p.mu.Unlock()
	slots := p.jumpSlots[base]
	if slots == nil {
		slots = map[string]int{}
		p.jumpSlots[base] = slots
	}
	k, ok := slots[t.key()]
	if !ok {
		used := map[int]int{}
		for _, s := range slots {
			used[s]++
		}
		for used[k] >= p.opts.maxForwards() {
			k++
		}
		slots[t.key()] = k
	}
	if k == 0 {
		return base
	}
	return fmt.Sprintf("%s#%d", base, k)
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
