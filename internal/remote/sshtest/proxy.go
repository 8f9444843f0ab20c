package sshtest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy relays TCP connections to a target and can be frozen: it then stops delivering bytes
// in either direction without closing anything, like a node that lost power or a network
// that silently drops packets. Tests use it to exercise keepalives.
type Proxy struct {
	Addr string

	ln     net.Listener
	target string
	frozen chan struct{}
	once   sync.Once
	mu     sync.Mutex
	conns  []net.Conn
}

// NewProxy starts a proxy on 127.0.0.1 that forwards to target; it stops with the test.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), ln: ln, target: target, frozen: make(chan struct{})}
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Freeze stops all traffic through the proxy for good.
func (p *Proxy) Freeze() { p.once.Do(func() { close(p.frozen) }) }

// Close stops the proxy and closes every relayed connection.
func (p *Proxy) Close() {
	p.Freeze()
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go p.relay(in, out)
		go p.relay(out, in)
	}
}

// relay copies src to dst until frozen, then holds the data back.
func (p *Proxy) relay(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		select {
		case <-p.frozen:
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Blackhole listens on 127.0.0.1, accepts connections and never sends a byte: a server
// whose sshd is wedged. It returns the address; everything is closed with the test.
func Blackhole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("blackhole listen: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago, for servers
// that tests start late.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
