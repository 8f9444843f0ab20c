package ui

import (
	"strings"
	"testing"
)

func TestDonef(t *testing.T) {
	s, _, _, errOut := TestStreams()
	s.Status().Donef("wrote %s", "config")
	if got := errOut.String(); got != "✓ wrote config\n" {
		t.Fatalf("got %q", got)
	}
	s, _, _, errOut = TestStreams()
	s.Terminal = TerminalAlways
	s.Status().Donef("colored")
	if got := errOut.String(); !strings.Contains(got, "\033[32m✓\033[0m colored") {
		t.Fatalf("no color on a terminal: %q", got)
	}
}
