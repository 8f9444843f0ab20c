package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// RunOpts adjust one command.
type RunOpts struct {
	// Sudo runs the command as root through "sudo -n" when the login user is not root
	// (for root it runs as is). The whole command line, pipes included, runs privileged.
	Sudo bool
	// Stdin, when set, is copied to the command's standard input.
	Stdin io.Reader
	// Stdout and Stderr, when set, also receive the output as it arrives, for live display;
	// the Result holds it either way.
	Stdout io.Writer
	Stderr io.Writer
}

// Result is what a finished command produced.
type Result struct {
	Stdout     string
	Stderr     string
	ExitStatus int
}

// Run runs cmd through the login shell on the node and waits for it. A non-zero exit is a
// *RemoteError carrying the output's tail; the Result is returned in every case where the
// command ran. When ctx ends, the command is sent SIGTERM, the session is closed and the
// wrapped ctx.Err() returned without waiting further.
func (c *Client) Run(ctx context.Context, cmd string) (Result, error) {
	return c.RunWith(ctx, cmd, RunOpts{})
}

// RunWith is Run with options: sudo, stdin, live output.
func (c *Client) RunWith(ctx context.Context, cmd string, opts RunOpts) (Result, error) {
	if c.observe == nil {
		return c.runWith(ctx, cmd, opts)
	}
	start := time.Now()
	res, err := c.runWith(ctx, cmd, opts)
	line, _ := c.line(cmd, opts)
	c.observe(Exchange{Target: c.target, Command: cmd, Sudo: opts.Sudo && c.target.User != "root", Line: line,
		Result: res, Err: err, Duration: time.Since(start)})
	return res, err
}

// MaxArgScript is the longest command sent as the remote shell's argument. Linux refuses a
// single argument over 128 KiB (MAX_ARG_STRLEN) and SSH servers a request over 256 KiB, and a
// master's configuration for a thousand hosts is longer: such a command goes on the shell's
// standard input instead, to ScriptOnStdin.
const MaxArgScript = 64 << 10

// ScriptOnStdin is the command that runs a long script sent on its standard input. The shell
// reads the whole script before running it, so its commands still find their standard input
// at its end, as those of a short script given as an argument do.
const ScriptOnStdin = `eval "$(cat)"`

// line is the command line RunWith sends for cmd, and the standard input that goes with it.
func (c *Client) line(cmd string, opts RunOpts) (string, io.Reader) {
	stdin := opts.Stdin
	if stdin == nil && len(cmd) > MaxArgScript {
		stdin, cmd = strings.NewReader(cmd), ScriptOnStdin
	}
	if opts.Sudo && c.target.User != "root" {
		return Sudo(cmd), stdin
	}
	return cmd, stdin
}

func (c *Client) runWith(ctx context.Context, cmd string, opts RunOpts) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("run on %s: %w", c.target.Label(), err)
	}
	sess, release, err := c.newSession(ctx)
	if err != nil {
		if !c.alive() && ctx.Err() == nil {
			return Result{}, c.lost(cmd, false, err)
		}
		return Result{}, err
	}
	defer release()
	defer sess.Close()

	var (
		mu             sync.Mutex
		tail           tailBuffer
		stdout, stderr bytes.Buffer
	)
	sess.Stdout = &captureWriter{mu: &mu, buf: &stdout, tail: &tail, live: opts.Stdout}
	sess.Stderr = &captureWriter{mu: &mu, buf: &stderr, tail: &tail, live: opts.Stderr}
	line, stdin := c.line(cmd, opts)
	sess.Stdin = stdin
	if err := sess.Start(line); err != nil {
		// The exec request was sent: unless the server answered it (a refusal, the connection
		// still up), it may have reached the server and the command may be running there.
		if c.awaitEnd() {
			return Result{}, c.lost(cmd, true, err)
		}
		return Result{}, c.connError("start command", err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- sess.Wait() }()

	select {
	case err = <-waitErr:
	case <-ctx.Done():
		// Best effort: servers that ignore "signal" still lose the channel, and the command
		// gets SIGPIPE on its next write.
		_ = sess.Signal(ssh.SIGTERM)
		sess.Close()
		return Result{}, fmt.Errorf("run on %s: %w", c.target.Label(), ctx.Err())
	}

	mu.Lock()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	tailText := tail.lines(TailLines)
	mu.Unlock()

	var exitErr *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &exitErr):
		res.ExitStatus = exitErr.ExitStatus()
		return res, &RemoteError{Host: c.target.Label(), Command: cmd, ExitStatus: res.ExitStatus,
			Signal: exitErr.Signal(), Tail: tailText}
	case errors.As(err, &missing):
		return res, c.lost(cmd, true, fmt.Errorf("command ended without an exit status: %w", err))
	default:
		return res, c.lost(cmd, true, err)
	}
}

// captureWriter records one output stream whole, feeds the shared tail buffer and copies to
// an optional live writer.
type captureWriter struct {
	mu   *sync.Mutex
	buf  *bytes.Buffer
	tail *tailBuffer
	live io.Writer
}

func (w *captureWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.tail.write(p)
	w.mu.Unlock()
	if w.live != nil {
		if _, err := w.live.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
