package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Retryable reports whether a connection error is the kind a booting node produces and may
// go away by itself: connection refused, reset or timed out, no route to host, EOF during
// the handshake, the jump host failing to reach the node, and authentication failure (the
// key is installed by cloud-init after sshd starts). Host key problems, key file problems
// and anything unrecognised are final, so they are reported at once instead of after the
// whole ReadyTimeout.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var mismatch *HostKeyMismatchError
	var unknown *UnknownHostKeyError
	if errors.As(err, &mismatch) || errors.As(err, &unknown) || errors.Is(err, ErrKeyNotInAgent) {
		return false
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.ENETDOWN, syscall.EPIPE,
		syscall.ETIMEDOUT} {
		if errors.Is(err, errno) {
			return true
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	var chanErr *ssh.OpenChannelError
	if errors.As(err, &chanErr) {
		return chanErr.Reason == ssh.ConnectionFailed
	}
	// x/crypto/ssh reports authentication failure as a plain string error.
	return strings.Contains(err.Error(), "ssh: unable to authenticate")
}

// retry calls attempt until it succeeds, fails with a non-retryable error, ctx ends, or
// o.ReadyTimeout has passed since the first attempt. Each attempt gets a context ending at
// that deadline, so nested waits (a jump host still booting) cannot outlast it.
func retry[T any](ctx context.Context, t Target, o Options, attempt func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	deadline := start.Add(o.ReadyTimeout)
	backoff := o.MinBackoff
	var prevErr error
	for n := 1; ; n++ {
		actx, cancel := context.WithDeadline(ctx, deadline)
		if o.ReadyTimeout <= 0 {
			actx, cancel = context.WithCancel(ctx)
		}
		v, err := attempt(actx)
		// The clock, not actx.Err(): a dial reaching the deadline can return before the
		// context's own timer has marked it done.
		cutShort := o.ReadyTimeout > 0 && !time.Now().Before(deadline)
		cancel()
		if err == nil {
			return v, nil
		}
		var zero T
		if ctx.Err() != nil {
			return zero, fmt.Errorf("connect to %s: %w (last attempt: %v)", t, ctx.Err(), err)
		}
		if !Retryable(err) {
			return zero, fmt.Errorf("connect to %s: %w", t, err)
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			if n == 1 {
				return zero, fmt.Errorf("connect to %s: %w", t, err)
			}
			if cutShort && prevErr != nil {
				// The deadline interrupted the last attempt; the one before says more.
				err = prevErr
			}
			return zero, fmt.Errorf("connect to %s: not ready after %d attempts in %s: %w",
				t, n, time.Since(start).Round(time.Millisecond), err)
		}
		prevErr = err
		if o.OnRetry != nil {
			o.OnRetry(t, n, err)
		}
		// Full jitter keeps hundreds of nodes from retrying in lockstep.
		wait := min(backoff/2+rand.N(backoff/2+1), remaining)
		select {
		case <-ctx.Done():
			return zero, fmt.Errorf("connect to %s: %w (last attempt: %v)", t, ctx.Err(), err)
		case <-time.After(wait):
		}
		backoff = min(backoff*2, o.MaxBackoff)
	}
}
