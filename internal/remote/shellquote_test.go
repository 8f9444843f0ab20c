package remote_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "''"},
		{"plain", "plain"},
		{"/etc/hosts", "/etc/hosts"},
		{"user@host:1.2,3+4", "user@host:1.2,3+4"},
		{"two words", "'two words'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{"a=b", "'a=b'"},
		{"~", "'~'"},
		{"semi;colon", "'semi;colon'"},
		{"new\nline", "'new\nline'"},
	}
	for _, tt := range tests {
		if got := remote.Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestQuoteRoundTripsThroughShell checks that sh turns the quoted words back into exactly
// the original arguments, including hostile ones.
func TestQuoteRoundTripsThroughShell(t *testing.T) {
	args := []string{"", "a b", "it's", `"double"`, "$(touch /tmp/pwned)", "`id`", "back\\slash", "*", "-n",
		"tab\there", "new\nline", "!bang", "semi;colon|pipe&amp", "ünïcode", "'", "''", "a=b"}
	script := `for a in "$@"; do printf '%s\0' "$a"; done`
	out, err := exec.Command("sh", "-c", "set -- "+remote.QuoteArgs(args...)+"; "+script).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(args) {
		t.Fatalf("got %d args %q, want %d", len(got), got, len(args))
	}
	for i := range args {
		if got[i] != args[i] {
			t.Errorf("arg %d: got %q, want %q", i, got[i], args[i])
		}
	}
}

func TestSudoWrapsWholeCommandLine(t *testing.T) {
	got := remote.Sudo("echo 'a b' > /etc/x")
	want := `sudo -n -- sh -c 'echo '\''a b'\'' > /etc/x'`
	if got != want {
		t.Fatalf("Sudo = %s, want %s", got, want)
	}
	// Executed with a fake sudo that just runs its arguments, the command survives intact.
	fake := t.TempDir()
	script := "#!/bin/sh\nshift 2\nexec \"$@\"\n" // drop -n and --
	if err := writeExecutable(fake+"/sudo", script); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", remote.Sudo("printf '%s|' \"$0\" 'x y'"))
	cmd.Env = append(cmd.Environ(), "PATH="+fake+":/usr/bin:/bin")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "sh|x y|" {
		t.Fatalf("output %q", out)
	}
}
