package remote_test

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
	"github.com/creack/pty"
)

// terminal is a pseudo-terminal whose slave side plays the user's terminal: Shell gets the
// slave as stdin/stdout, the test types into and reads from the master.
type terminal struct {
	ptmx, tty *os.File
	mu        sync.Mutex
	out       bytes.Buffer
}

func openTerminal(t *testing.T, rows, cols uint16) *terminal {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals available: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	term := &terminal{ptmx: ptmx, tty: tty}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		ptmx.Close()
	})
	return term
}

// waitFor waits until the terminal's output matches re.
func (term *terminal) waitFor(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		ok := re.Match(term.out.Bytes())
		term.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	t.Fatalf("terminal output never matched %s:\n%q", re, term.out.String())
}

// runShell starts c.Shell on the terminal and returns a channel with its result.
func runShell(t *testing.T, c *remote.Client, term *terminal) <-chan [2]any {
	done := make(chan [2]any, 1)
	go func() {
		status, err := c.Shell(t.Context(), term.tty, term.tty, term.tty, remote.ShellOpts{})
		done <- [2]any{status, err}
	}()
	return done
}

// awaitShell returns Shell's exit status, failing the test on error or timeout.
func awaitShell(t *testing.T, done <-chan [2]any) int {
	t.Helper()
	select {
	case r := <-done:
		if r[1] != nil {
			t.Fatalf("shell: %v", r[1])
		}
		return r[0].(int)
	case <-time.After(10 * time.Second):
		t.Fatal("shell did not return")
		return 0
	}
}

func TestShellOnPTYForwardsSizeAndExitStatus(t *testing.T) {
	e := newEnv(t)
	sizes := make(chan [2]int, 4)
	s := e.server(t, sshtest.Config{OnWindowChange: func(cols, rows int) { sizes <- [2]int{cols, rows} }})
	c := e.connect(t, target("node001", s.Addr))
	term := openTerminal(t, 30, 100)
	done := runShell(t, c, term)

	io.WriteString(term.ptmx, "stty size\n")
	term.waitFor(t, regexp.MustCompile(`30 100\r?\n`))

	if err := pty.Setsize(term.ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sizes:
		if got != [2]int{120, 40} {
			t.Errorf("window change %v, want 120x40", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no window-change request after SIGWINCH")
	}
	io.WriteString(term.ptmx, "stty size; echo hi; exit 3\n")
	term.waitFor(t, regexp.MustCompile(`40 120\r?\nhi\r?\n`))
	if status := awaitShell(t, done); status != 3 {
		t.Errorf("exit status %d, want 3", status)
	}
	// Raw mode is undone when Shell returns.
	if st, err := termios(term.tty); err == nil && st.Lflag&syscall.ECHO == 0 {
		t.Error("terminal left in raw mode")
	}
}

func TestShellWithoutTerminal(t *testing.T) {
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	c := e.connect(t, target("node001", s.Addr))
	var out bytes.Buffer
	var errOut bytes.Buffer
	status, err := c.Shell(t.Context(), bytes.NewBufferString("echo piped; exit 5\n"), &out, &errOut, remote.ShellOpts{})
	if err != nil || status != 5 || out.String() != "piped\n" {
		t.Fatalf("status %d, err %v, output %q", status, err, out.String())
	}
}
