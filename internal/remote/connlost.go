package remote

import (
	"fmt"
	"strings"
)

// ConnectionLostError is a command whose connection to its node ended before the command did,
// or before it started: the node went away, the network dropped, keepalives went unanswered.
// Whether the command ran is unknown once it started, so only a command that can run twice
// with the same result (every setup step) is run again; the others fail with this error.
type ConnectionLostError struct {
	Host    string
	Command string
	// Started is true when the command may have run, in part or whole.
	Started bool
	Err     error
}

func (e *ConnectionLostError) Error() string {
	cmd := e.Command
	if len(cmd) > maxCommandInError {
		cmd = cmd[:maxCommandInError] + "..."
	}
	cmd = strings.ReplaceAll(cmd, "\n", "; ")
	if e.Started {
		return fmt.Sprintf("connection to %s lost while it ran `%s`: %v; the command may or may not have finished there", e.Host, cmd, e.Err)
	}
	return fmt.Sprintf("connection to %s lost before `%s` started: %v", e.Host, cmd, e.Err)
}

func (e *ConnectionLostError) Unwrap() error { return e.Err }

// lost wraps a failure of cmd on a connection that ended (or, with started, any failure that
// is not the command's own exit status) as a *ConnectionLostError.
func (c *Client) lost(cmd string, started bool, err error) error {
	if reason := c.Err(); reason != nil && !c.alive() {
		err = fmt.Errorf("%w (%v)", err, reason)
	}
	return &ConnectionLostError{Host: c.target.Label(), Command: cmd, Started: started, Err: err}
}
