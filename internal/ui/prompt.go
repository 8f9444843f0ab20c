package ui

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Error is a constant error type, so sentinel errors of this package are immutable values
// that still work with errors.Is.
type Error string

// Error returns the message.
func (e Error) Error() string { return string(e) }

// ErrNotTerminal is returned by Confirm when nobody can answer: destructive commands run from
// scripts or CI must say so explicitly instead of hanging on a prompt or assuming yes.
const ErrNotTerminal Error = "cannot ask for confirmation: not running in a terminal; pass --confirm (-y) to proceed"

// maxAnswerLen bounds how much of a line Confirm reads, so a stream without newlines cannot
// make it buffer without limit.
const maxAnswerLen = 1024

// Confirm asks question on ErrOut and reads a one-line answer from In; "y" and "yes" (any case)
// mean yes, anything else, including end of input, means no. It only asks when both ErrOut and
// In are terminals and returns ErrNotTerminal otherwise.
func Confirm(s *Streams, question string) (bool, error) {
	if !s.IsTerminal() || !s.inIsTerminal() {
		return false, ErrNotTerminal
	}
	if _, err := fmt.Fprintf(s.SafeErrOut(), "%s [y/N]: ", question); err != nil {
		return false, fmt.Errorf("ask confirmation: %w", err)
	}
	line, err := readLine(s.In)
	if err != nil {
		return false, fmt.Errorf("read confirmation: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	default:
		return false, nil
	}
}

// readLine reads up to a newline one byte at a time, so nothing after the answer is consumed
// from In and a later prompt or reader still sees it. End of input ends the line.
func readLine(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	var sb strings.Builder
	buf := make([]byte, 1)
	for sb.Len() < maxAnswerLen {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			sb.WriteByte(buf[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return sb.String(), nil
}
