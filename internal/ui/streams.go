// Package ui is clusterctl's user-facing output: data on stdout, status on stderr, an always
// written debug log, and a redactor every one of those passes through so that credentials
// never reach any output.
package ui

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// TerminalMode overrides terminal detection. Tests force a terminal to exercise the spinner
// against a buffer; the CLI can force one off (for example under CI) without lying about
// the environment.
type TerminalMode int

const (
	// TerminalAuto detects a terminal from the file descriptor and TERM.
	TerminalAuto TerminalMode = iota
	// TerminalAlways treats every stream as an interactive terminal.
	TerminalAlways
	// TerminalNever treats every stream as a pipe or file.
	TerminalNever
)

// defaultWidth is assumed when the terminal width cannot be measured.
const defaultWidth = 80

// Streams bundles the process's standard streams with the policy around them, so commands
// never reach for os.Stdout directly and tests can capture everything they print.
//
// Set the fields before first use: the redacting writers and the Status are built from them
// on the first call that needs them. Use a Streams by pointer; it must not be copied.
type Streams struct {
	// In is where prompts read answers.
	In io.Reader
	// Out receives data (tables, JSON); keep it machine readable.
	Out io.Writer
	// ErrOut receives status lines, warnings, spinners and prompts.
	ErrOut io.Writer
	// LookupEnv reads the environment (TERM, NO_COLOR, COLUMNS); nil means os.LookupEnv.
	// Injected so tests do not depend on the developer's shell.
	LookupEnv func(string) (string, bool)
	// Terminal overrides terminal detection for every stream.
	Terminal TerminalMode
	// Logger, when set, mirrors status steps and warnings into the debug log.
	Logger *slog.Logger

	once     sync.Once
	redactor *Redactor
	safeOut  io.Writer
	safeErr  io.Writer
	status   *Status
}

// NewStreams builds Streams over arbitrary reader and writers, for embedding clusterctl's
// commands in another program.
func NewStreams(in io.Reader, out, errOut io.Writer) *Streams {
	return &Streams{In: in, Out: out, ErrOut: errOut}
}

// StandardStreams returns the process's stdin, stdout and stderr with the real environment,
// which is what the CLI's main uses.
func StandardStreams() *Streams {
	return &Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, LookupEnv: os.LookupEnv}
}

// TestStreams returns Streams backed by buffers, with an empty environment so results do not
// depend on the caller's shell. Set Terminal to TerminalAlways to exercise terminal output.
func TestStreams() (s *Streams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	s = &Streams{
		In:        in,
		Out:       out,
		ErrOut:    errOut,
		LookupEnv: func(string) (string, bool) { return "", false },
	}
	return s, in, out, errOut
}

// init builds the redactor and the writers wrapped by it exactly once, so every caller shares
// one writer per stream (one lock, one PEM state) and one Status.
func (s *Streams) init() {
	s.once.Do(func() {
		s.redactor = NewRedactor()
		s.safeOut = s.redactor.Writer(orDiscard(s.Out))
		s.safeErr = s.redactor.Writer(orDiscard(s.ErrOut))
		s.status = newStatus(s, s.safeErr)
	})
}

// Redactor returns the redactor guarding every output of these streams. Register credentials
// with it as soon as they are loaded, and hand it to OpenLog so the debug log masks them too.
func (s *Streams) Redactor() *Redactor {
	s.init()
	return s.redactor
}

// SafeOut is Out wrapped by the redactor; print all data through it.
func (s *Streams) SafeOut() io.Writer {
	s.init()
	return s.safeOut
}

// SafeErrOut is ErrOut wrapped by the redactor; print all diagnostics through it.
func (s *Streams) SafeErrOut() io.Writer {
	s.init()
	return s.safeErr
}

// Status returns the one status printer of these streams. There is exactly one so that
// spinners, warnings and step lines share a lock and never garble each other.
func (s *Streams) Status() *Status {
	s.init()
	return s.status
}

// IsTerminal reports whether ErrOut is a smart terminal (a TTY whose TERM is not "dumb"),
// which decides between redrawn spinners and one line per event.
func (s *Streams) IsTerminal() bool {
	return s.smartTerminal(s.ErrOut)
}

// OutIsTerminal reports whether Out is a smart terminal, for commands that choose a
// human-friendly default format only when nobody is parsing their output.
func (s *Streams) OutIsTerminal() bool {
	return s.smartTerminal(s.Out)
}

// inIsTerminal reports whether In can be answered by a person at a keyboard.
func (s *Streams) inIsTerminal() bool {
	return s.smartTerminal(s.In)
}

// ColorEnabled reports whether ErrOut may carry ANSI colors: it must be a terminal and the
// user must not have opted out with NO_COLOR (https://no-color.org).
func (s *Streams) ColorEnabled() bool {
	if !s.IsTerminal() {
		return false
	}
	v, ok := s.env("NO_COLOR")
	return !ok || v == ""
}

// smartTerminal applies the Terminal override, then TERM, then the file descriptor.
func (s *Streams) smartTerminal(stream any) bool {
	switch s.Terminal {
	case TerminalAlways:
		return true
	case TerminalNever:
		return false
	}
	if t, ok := s.env("TERM"); ok && t == "dumb" {
		return false
	}
	fd, ok := fileDescriptor(stream)
	return ok && (isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd))
}

// width returns ErrOut's width in columns so spinner lines can be kept to one row, which is
// what lets a carriage return redraw them.
func (s *Streams) width() int {
	if fd, ok := fileDescriptor(s.ErrOut); ok {
		if w, _, err := term.GetSize(int(fd)); err == nil && w > 0 {
			return w
		}
	}
	if v, ok := s.env("COLUMNS"); ok {
		if w, err := strconv.Atoi(v); err == nil && w > 0 {
			return w
		}
	}
	return defaultWidth
}

// env looks a variable up through LookupEnv, defaulting to the process environment.
func (s *Streams) env(key string) (string, bool) {
	if s.LookupEnv == nil {
		return os.LookupEnv(key)
	}
	return s.LookupEnv(key)
}

// fileDescriptor returns the descriptor behind a stream, when it has one.
func fileDescriptor(stream any) (uintptr, bool) {
	f, ok := stream.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	return f.Fd(), true
}

// orDiscard turns a missing writer into io.Discard so a partly filled Streams cannot panic.
func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
