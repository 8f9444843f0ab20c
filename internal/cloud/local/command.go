package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// tailLines is how much of a failed command's output its error carries: enough to see the
// cause, short enough for a status line's detail.
const tailLines = 15

// command is one host command. Every command the provider runs goes through run, so each is
// logged and each failure names the command, its exit status and the end of its output.
type command struct {
	name  string
	args  []string
	stdin io.Reader
	// log, when set, receives the combined output as it comes (the image build log); the
	// returned output then holds only the tail.
	log io.Writer
}

// cmd builds a command without stdin or log.
func cmd(name string, args ...string) command { return command{name: name, args: args} }

// String is the command line as a user would type it, for logs and errors.
func (c command) String() string {
	parts := make([]string, 0, len(c.args)+1)
	for _, a := range append([]string{c.name}, c.args...) {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$;&|<>*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// CommandError is a host command that failed. It keeps the pieces separate so callers can test
// the exit status while users read one line with the cause.
type CommandError struct {
	Command string
	// Status is the exit status, or -1 when the command did not run or was killed.
	Status int
	// Tail is the last lines of the combined output.
	Tail string
	Err  error
}

// Error reads "CMD: exit status N: TAIL", the form every failed step reports.
func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: exit status %d", e.Command, e.Status)
	if e.Status < 0 {
		msg = fmt.Sprintf("%s: %v", e.Command, e.Err)
	}
	if e.Tail != "" {
		msg += ": " + e.Tail
	}
	return msg
}

// Unwrap exposes the underlying exec error (context cancellation, missing binary).
func (e *CommandError) Unwrap() error { return e.Err }

// run executes c and returns its combined output (only the tail when c.log is set).
func (p *Provider) run(ctx context.Context, c command) ([]byte, error) {
	start := time.Now()
	x := exec.CommandContext(ctx, c.name, c.args...)
	x.WaitDelay = 5 * time.Second
	x.Stdin = c.stdin
	var out bytes.Buffer
	tail := &tailBuffer{max: 16 << 10}
	if c.log != nil {
		x.Stdout = io.MultiWriter(c.log, tail)
	} else {
		x.Stdout = &out
	}
	x.Stderr = x.Stdout
	err := x.Run()
	p.log.Debug("command", "cmd", c.String(), "elapsed", time.Since(start).Round(time.Millisecond), "error", err)
	result := out.Bytes()
	if c.log != nil {
		result = tail.Bytes()
	}
	if err == nil {
		return result, nil
	}
	ce := &CommandError{Command: c.String(), Status: -1, Tail: lastLines(string(result), tailLines), Err: err}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		ce.Status = ee.ExitCode()
	}
	if ctx.Err() != nil {
		ce.Err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return result, ce
}

// lastLines returns the last n non-empty lines of s: the part of a failed command's output
// that usually says why.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			keep = append(keep, l)
		}
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	return strings.Join(keep, "\n")
}

// tailBuffer keeps the last max bytes written to it: a build's output runs to megabytes, its
// error needs the end.
type tailBuffer struct {
	max int
	buf []byte
}

// Write keeps b's end within the buffer's limit; it never fails.
func (t *tailBuffer) Write(b []byte) (int, error) {
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// Bytes returns what the buffer holds.
func (t *tailBuffer) Bytes() []byte { return t.buf }
