package ui

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/creack/pty"
)

// openTTY returns the terminal end of a pseudo-terminal and its controlling side, skipping
// the test where the sandbox has no ptys.
func openTTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal available: %v", err)
	}
	t.Cleanup(func() {
		_ = tty.Close()
		_ = ptmx.Close()
	})
	return ptmx, tty
}

func TestStreamsTerminalDetection(t *testing.T) {
	_, tty := openTTY(t)
	tests := []struct {
		name      string
		errOut    io.Writer
		mode      TerminalMode
		env       map[string]string
		wantTerm  bool
		wantColor bool
	}{
		{name: "tty", errOut: tty, env: map[string]string{"TERM": "xterm-256color"}, wantTerm: true, wantColor: true},
		{name: "tty without TERM", errOut: tty, wantTerm: true, wantColor: true},
		{name: "tty dumb", errOut: tty, env: map[string]string{"TERM": "dumb"}},
		{name: "tty NO_COLOR", errOut: tty, env: map[string]string{"NO_COLOR": "1"}, wantTerm: true},
		{name: "tty empty NO_COLOR", errOut: tty, env: map[string]string{"NO_COLOR": ""}, wantTerm: true, wantColor: true},
		{name: "buffer", errOut: &bytes.Buffer{}},
		{name: "buffer forced", errOut: &bytes.Buffer{}, mode: TerminalAlways, env: map[string]string{"TERM": "dumb"}, wantTerm: true, wantColor: true},
		{name: "buffer forced NO_COLOR", errOut: &bytes.Buffer{}, mode: TerminalAlways, env: map[string]string{"NO_COLOR": "1"}, wantTerm: true},
		{name: "tty disabled", errOut: tty, mode: TerminalNever},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Streams{ErrOut: tt.errOut, Out: &bytes.Buffer{}, Terminal: tt.mode, LookupEnv: mapEnv(tt.env)}
			if got := s.IsTerminal(); got != tt.wantTerm {
				t.Errorf("IsTerminal() = %v, want %v", got, tt.wantTerm)
			}
			if got := s.ColorEnabled(); got != tt.wantColor {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.wantColor)
			}
		})
	}
}

func TestStreamsOutIsTerminal(t *testing.T) {
	_, tty := openTTY(t)
	tests := []struct {
		name string
		out  io.Writer
		mode TerminalMode
		want bool
	}{
		{"tty", tty, TerminalAuto, true},
		{"buffer", &bytes.Buffer{}, TerminalAuto, false},
		{"buffer forced", &bytes.Buffer{}, TerminalAlways, true},
		{"tty disabled", tty, TerminalNever, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Streams{Out: tt.out, ErrOut: &bytes.Buffer{}, Terminal: tt.mode, LookupEnv: mapEnv(nil)}
			if got := s.OutIsTerminal(); got != tt.want {
				t.Errorf("OutIsTerminal() = %v, want %v", got, tt.want)
			}
			if s.IsTerminal() != (tt.mode == TerminalAlways) {
				t.Error("IsTerminal must look at ErrOut, not Out")
			}
		})
	}
}

func TestStreamsWidth(t *testing.T) {
	ptmx, tty := openTTY(t)
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 123}); err != nil {
		t.Fatalf("set pty size: %v", err)
	}
	tests := []struct {
		name   string
		errOut io.Writer
		env    map[string]string
		want   int
	}{
		{"tty size wins", tty, map[string]string{"COLUMNS": "99"}, 123},
		{"COLUMNS", &bytes.Buffer{}, map[string]string{"COLUMNS": "99"}, 99},
		{"bad COLUMNS", &bytes.Buffer{}, map[string]string{"COLUMNS": "wide"}, defaultWidth},
		{"default", &bytes.Buffer{}, nil, defaultWidth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Streams{ErrOut: tt.errOut, LookupEnv: mapEnv(tt.env)}
			if got := s.width(); got != tt.want {
				t.Errorf("width() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestStreamsConstructors(t *testing.T) {
	s, in, out, errOut := TestStreams()
	if s.In != in || s.Out != out || s.ErrOut != errOut {
		t.Fatal("TestStreams must return the buffers it installed")
	}
	if _, ok := s.LookupEnv("HOME"); ok {
		t.Error("TestStreams must not see the real environment")
	}
	st1, out1, r1 := s.Status(), s.SafeOut(), s.Redactor()
	if st1 != s.Status() || out1 != s.SafeOut() || r1 != s.Redactor() {
		t.Error("Status, SafeOut and Redactor must be shared, not rebuilt per call")
	}
	if _, err := io.WriteString(s.SafeOut(), "data AKIAIOSFODNN7EXAMPLE\n"); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "data ****\n" {
		t.Errorf("SafeOut wrote %q", got)
	}

	std := StandardStreams()
	if std.In != os.Stdin || std.Out != os.Stdout || std.ErrOut != os.Stderr {
		t.Error("StandardStreams must use the process's standard streams")
	}
	var w bytes.Buffer
	if n := NewStreams(nil, &w, nil); n.Out != &w || n.SafeErrOut() == nil {
		t.Error("NewStreams must keep its writers and tolerate a nil one")
	}
}
