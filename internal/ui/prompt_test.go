package ui

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestConfirm(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  bool
	}{
		{"y", "y\n", true},
		{"yes any case", "YeS\n", true},
		{"spaces and CRLF", "  y \r\n", true},
		{"n", "n\n", false},
		{"empty line", "\n", false},
		{"other word", "yep\n", false},
		{"end of input", "", false},
		{"yes without newline", "yes", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, in, out, errOut := TestStreams()
			s.Terminal = TerminalAlways
			in.WriteString(tt.input)
			got, err := Confirm(s, "Terminate cluster dev?")
			if err != nil || got != tt.want {
				t.Fatalf("Confirm = %v, %v; want %v, nil", got, err, tt.want)
			}
			if errOut.String() != "Terminate cluster dev? [y/N]: " {
				t.Errorf("prompt = %q", errOut.String())
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, prompts belong on stderr", out.String())
			}
		})
	}
}

func TestConfirmReadsOneLineAtATime(t *testing.T) {
	s, in, _, _ := TestStreams()
	s.Terminal = TerminalAlways
	in.WriteString("y\nn\n")
	for i, want := range []bool{true, false} {
		if got, err := Confirm(s, "again?"); err != nil || got != want {
			t.Errorf("answer %d = %v, %v; want %v", i, got, err, want)
		}
	}
}

func TestConfirmNotTerminal(t *testing.T) {
	_, tty := openTTY(t)
	tests := []struct {
		name   string
		in     io.Reader
		errOut io.Writer
	}{
		{"both pipes", strings.NewReader("y\n"), &strings.Builder{}},
		{"stderr terminal, stdin piped", strings.NewReader("y\n"), tty},
		{"stdin terminal, stderr piped", tty, &strings.Builder{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Streams{In: tt.in, Out: io.Discard, ErrOut: tt.errOut, LookupEnv: mapEnv(nil)}
			got, err := Confirm(s, "Terminate?")
			if got || !errors.Is(err, ErrNotTerminal) {
				t.Fatalf("Confirm = %v, %v; want false, ErrNotTerminal", got, err)
			}
			for _, hint := range []string{"--confirm", "-y"} {
				if !strings.Contains(err.Error(), hint) {
					t.Errorf("error %q does not mention %s", err, hint)
				}
			}
		})
	}
}

// errReader fails every read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestConfirmReadError(t *testing.T) {
	errIO := errors.New("input/output error")
	s := &Streams{In: errReader{errIO}, Out: io.Discard, ErrOut: io.Discard, Terminal: TerminalAlways}
	got, err := Confirm(s, "Terminate?")
	if got || !errors.Is(err, errIO) || !strings.HasPrefix(err.Error(), "read confirmation: ") {
		t.Errorf("Confirm = %v, %v; want false and a wrapped read error", got, err)
	}
}
