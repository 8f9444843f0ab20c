package remote

import (
	"fmt"
	"strings"
)

// TailLines is how many lines of a failed command's output a RemoteError keeps: enough to
// show the error a tool printed before exiting, small enough for a terminal.
const TailLines = 20

// maxCommandInError caps the command text in error messages; generated scripts can be long.
const maxCommandInError = 200

// RemoteError is a command that ran on a node and failed. Tail holds the last TailLines
// lines of its combined output, since that is almost always where the reason is.
type RemoteError struct {
	// Host is the node's alias (or address).
	Host string
	// Command is the command as the caller gave it, before any sudo wrapping.
	Command string
	// ExitStatus is the exit code; a command killed by a signal gets 128+signal, as in a shell.
	ExitStatus int
	// Signal names the signal that killed the command ("KILL"), if any.
	Signal string
	// Tail is the end of the command's interleaved stdout and stderr.
	Tail string
}

// Error renders one block: the host, the command and its status, then the output's tail
// indented beneath.
func (e *RemoteError) Error() string {
	var b strings.Builder
	cmd := e.Command
	if len(cmd) > maxCommandInError {
		cmd = cmd[:maxCommandInError] + "..."
	}
	cmd = strings.ReplaceAll(cmd, "\n", "; ")
	if e.Signal != "" {
		fmt.Fprintf(&b, "%s: command killed by signal %s: %s", e.Host, e.Signal, cmd)
	} else {
		fmt.Fprintf(&b, "%s: command exited with status %d: %s", e.Host, e.ExitStatus, cmd)
	}
	tail := strings.TrimRight(e.Tail, "\n")
	if tail == "" {
		b.WriteString("\n  (no output)")
		return b.String()
	}
	for _, line := range strings.Split(tail, "\n") {
		b.WriteString("\n  | ")
		b.WriteString(strings.TrimRight(line, "\r"))
	}
	return b.String()
}

// tailBuffer keeps the end of a stream, bounded in memory whatever the output's size. It is
// written by the stdout and stderr copiers at once, so it is guarded by the caller's lock.
type tailBuffer struct {
	buf   []byte
	limit int
}

// tailBytesLimit bounds what the tail buffer holds: 20 long lines fit comfortably.
const tailBytesLimit = 16 * 1024

// write appends p, discarding the oldest bytes beyond the limit.
func (t *tailBuffer) write(p []byte) {
	if t.limit == 0 {
		t.limit = tailBytesLimit
	}
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
}

// lines returns the last n lines held.
func (t *tailBuffer) lines(n int) string {
	s := strings.TrimRight(string(t.buf), "\n")
	if s == "" {
		return ""
	}
	parts := strings.Split(s, "\n")
	if len(parts) > n {
		parts = parts[len(parts)-n:]
	}
	return strings.Join(parts, "\n")
}
