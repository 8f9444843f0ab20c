package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// ShellOpts adjust an interactive session.
type ShellOpts struct {
	// Command runs instead of the login shell when set.
	Command string
	// Term is the TERM value for the remote pty; default $TERM, else xterm-256color.
	Term string
	// ForcePTY requests a pty even when stdin is not a terminal (size 80x24).
	ForcePTY bool
}

// Shell runs an interactive session on the node, for when the system ssh client is not
// available. When stdin is a terminal it is put in raw mode (and restored on return), a pty
// of the terminal's size is requested, and window-size changes (SIGWINCH) are forwarded.
// It returns the remote exit status; a non-zero status is not an error here, since the
// user's last command decides it. When ctx ends the session is closed.
//
// Reading stdin happens in a goroutine that may stay blocked in Read after Shell returns,
// as with any terminal program that does not own its input; it ends at stdin's next input
// or EOF.
func (c *Client) Shell(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, opts ShellOpts) (int, error) {
	sess, release, err := c.newSession(ctx)
	if err != nil {
		return -1, err
	}
	defer release()
	defer sess.Close()

	fd, isTTY := terminalFd(stdin)
	if isTTY || opts.ForcePTY {
		width, height := 80, 24
		if isTTY {
			if w, h, err := term.GetSize(fd); err == nil && w > 0 && h > 0 {
				width, height = w, h
			}
		}
		termName := opts.Term
		if termName == "" {
			termName = os.Getenv("TERM")
		}
		if termName == "" {
			termName = "xterm-256color"
		}
		modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
		if err := sess.RequestPty(termName, height, width, modes); err != nil {
			return -1, c.connError("request pty", err)
		}
	}
	if isTTY {
		state, err := term.MakeRaw(fd)
		if err != nil {
			return -1, fmt.Errorf("put terminal in raw mode: %w", err)
		}
		defer term.Restore(fd, state)
		stopResize := forwardWindowSize(fd, sess)
		defer stopResize()
	}

	in, err := sess.StdinPipe()
	if err != nil {
		return -1, fmt.Errorf("shell stdin: %w", err)
	}
	go func() {
		_, _ = io.Copy(in, stdin)
		in.Close()
	}()
	sess.Stdout = stdout
	sess.Stderr = stderr

	if opts.Command != "" {
		err = sess.Start(opts.Command)
	} else {
		err = sess.Shell()
	}
	if err != nil {
		return -1, c.connError("start shell", err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- sess.Wait() }()
	select {
	case err = <-waitErr:
	case <-ctx.Done():
		sess.Close()
		return -1, fmt.Errorf("shell on %s: %w", c.target.Label(), ctx.Err())
	}
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exitErr):
		return exitErr.ExitStatus(), nil
	default:
		return -1, c.connError("shell", err)
	}
}

// terminalFd returns r's file descriptor when r is a terminal.
func terminalFd(r io.Reader) (int, bool) {
	f, ok := r.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// forwardWindowSize sends the terminal's size to the session on every SIGWINCH until the
// returned stop function is called.
func forwardWindowSize(fd int, sess *ssh.Session) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-sigs:
				if w, h, err := term.GetSize(fd); err == nil {
					_ = sess.WindowChange(h, w)
				}
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
