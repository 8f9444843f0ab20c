package remote_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
	"golang.org/x/crypto/ssh"
)

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{"no route", fmt.Errorf("dial: %w", syscall.EHOSTUNREACH), true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"timeout", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, true},
		{"eof in handshake", fmt.Errorf("ssh: handshake failed: %w", io.EOF), true},
		{"auth", errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey]"), true},
		{"jump cannot reach node", &ssh.OpenChannelError{Reason: ssh.ConnectionFailed, Message: "refused"}, true},
		{"jump prohibits", &ssh.OpenChannelError{Reason: ssh.Prohibited}, false},
		{"mismatch", fmt.Errorf("ssh: handshake failed: %w", &remote.HostKeyMismatchError{Host: "n"}), false},
		{"unknown host", &remote.UnknownHostKeyError{Host: "n"}, false},
		{"agent", fmt.Errorf("key: %w", remote.ErrKeyNotInAgent), false},
		{"dns not found", &net.DNSError{Err: "no such host", IsNotFound: true}, false},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", IsTemporary: true}, true},
		{"protocol", errors.New("ssh: no common algorithm for key exchange"), false},
		{"caller context", context.Canceled, false},
	}
	for _, tt := range tests {
		if got := remote.Retryable(tt.err); got != tt.want {
			t.Errorf("%s: Retryable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestRemoteErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  remote.RemoteError
		want string
	}{
		{
			name: "status with tail",
			err:  remote.RemoteError{Host: "node003", Command: "apt-get install -y foo", ExitStatus: 100, Tail: "E: Unable to locate package foo\n"},
			want: "node003: command exited with status 100: apt-get install -y foo\n  | E: Unable to locate package foo",
		},
		{
			name: "signal, no output",
			err:  remote.RemoteError{Host: "master", Command: "sleep 9", ExitStatus: 137, Signal: "KILL"},
			want: "master: command killed by signal KILL: sleep 9\n  (no output)",
		},
		{
			name: "long multi-line command is shortened",
			err:  remote.RemoteError{Host: "m", Command: "a\nb" + strings.Repeat("x", 300), ExitStatus: 1, Tail: "x\r\ny"},
			want: "m: command exited with status 1: a; b" + strings.Repeat("x", 197) + "...\n  | x\n  | y",
		},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestTargetFormatting(t *testing.T) {
	master := &remote.Target{Name: "master", Addr: "54.1.2.3", User: "admin"}
	tests := []struct {
		target   remote.Target
		hostPort string
		str      string
	}{
		{*master, "54.1.2.3:22", "master (admin@54.1.2.3:22)"},
		{remote.Target{Name: "node001", Addr: "10.0.0.6:2200", User: "root", Jump: master}, "10.0.0.6:2200",
			"node001 (root@10.0.0.6:2200 via master)"},
		{remote.Target{Addr: "fd00::1"}, "[fd00::1]:22", "fd00::1 ([fd00::1]:22)"},
	}
	for _, tt := range tests {
		if got := tt.target.HostPort(); got != tt.hostPort {
			t.Errorf("HostPort(%v) = %s, want %s", tt.target.Addr, got, tt.hostPort)
		}
		if got := tt.target.String(); got != tt.str {
			t.Errorf("String() = %s, want %s", got, tt.str)
		}
	}
}
