package sshtest

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Config describes a test server.
type Config struct {
	// Addr is where to listen; default "127.0.0.1:0".
	Addr string
	// HostKey is the server's key; an ed25519 key is generated when nil.
	HostKey ssh.Signer
	// AuthorizedKeys are the client keys accepted; nil accepts any key, an empty non-nil
	// slice rejects every key.
	AuthorizedKeys []ssh.PublicKey
	// Dir is the working directory of commands and of the SFTP server; default the test
	// process's working directory.
	Dir string
	// OnWindowChange is called for every window-change request (columns, rows).
	OnWindowChange func(cols, rows int)
	// MaxSessions, when positive, refuses session channels beyond that many open at once on
	// one connection, as sshd's MaxSessions does.
	MaxSessions int
	// SFTP, when set, serves the sftp subsystem from these handlers instead of the
	// filesystem: a server that reports whatever names, links and trees a test needs.
	SFTP *sftp.Handlers
	// ExecReplyDelay, when positive, delays the answer to an exec request after its command
	// started: the window in which a lost connection leaves the client not knowing whether
	// the command runs.
	ExecReplyDelay time.Duration
}

// Server is a running test server.
type Server struct {
	// Addr is the listening address, host:port.
	Addr string
	// HostKey is the server's host key.
	HostKey ssh.Signer

	cfg      Config
	config   *ssh.ServerConfig
	ln       net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
	closed   bool
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.HostKey == nil {
		cfg.HostKey = NewSigner(t, Ed25519)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatalf("sshtest listen on %s: %v", cfg.Addr, err)
	}
	s := &Server{Addr: ln.Addr().String(), HostKey: cfg.HostKey, cfg: cfg, ln: ln, conns: map[net.Conn]bool{}}
	s.config = &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	s.config.AddHostKey(cfg.HostKey)
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Accepted is the number of TCP connections accepted so far; tests use it to see whether a
// client retried.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// DropConnections closes every connection the server holds, as a node whose network blinked
// or whose sshd was restarted; the server goes on accepting new ones.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Close stops listening, drops every connection and waits for the handlers.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) checkKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if s.cfg.AuthorizedKeys == nil {
		return nil, nil
	}
	for _, k := range s.cfg.AuthorizedKeys {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("key %s not authorized", ssh.FingerprintSHA256(key))
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepted.Add(1)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handleConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) handleConn(c net.Conn) {
	defer c.Close()
	sconn, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		return
	}
	defer sconn.Close()
	go ssh.DiscardRequests(reqs) // answers keepalive@openssh.com with "failure", as sshd does
	var wg sync.WaitGroup
	defer wg.Wait()
	var open atomic.Int64
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			if n := open.Add(1); s.cfg.MaxSessions > 0 && n > int64(s.cfg.MaxSessions) {
				open.Add(-1)
				_ = nc.Reject(ssh.Prohibited, "too many sessions")
				continue
			}
			ch, chReqs, err := nc.Accept()
			if err != nil {
				open.Add(-1)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer open.Add(-1)
				s.handleSession(ch, chReqs)
			}()
		case "direct-tcpip":
			wg.Add(1)
			go func() {
				defer wg.Done()
				handleDirectTCPIP(nc)
			}()
		default:
			_ = nc.Reject(ssh.UnknownChannelType, "unsupported channel type")
		}
	}
}
