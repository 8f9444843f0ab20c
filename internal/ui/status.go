package ui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Symbols and ANSI sequences of the status lines.
const (
	symbolOK      = "✓"
	symbolFail    = "✗"
	symbolPending = "•"
	symbolWarn    = "!"
	ansiGreen     = "\033[32m"
	ansiRed       = "\033[31m"
	ansiYellow    = "\033[33m"
	ansiCyan      = "\033[36m"
	ansiReset     = "\033[0m"
	clearLine     = "\r\033[K"
)

// defaultUnit names what Step.Count counts unless SetUnit says otherwise; most clusterctl
// steps fan out over nodes.
const defaultUnit = "nodes"

// Status prints kind-style step lines on ErrOut: a spinner while a step runs on a terminal,
// one "•" line per step otherwise, and a ✓ or ✗ line with counts and elapsed time at the end.
// Get it from Streams.Status; it is safe for concurrent use.
type Status struct {
	streams  *Streams
	w        io.Writer
	now      func() time.Time
	interval time.Duration

	mu      sync.Mutex
	running []*Step  // terminal steps in start order; the last one owns the spinner line
	drawn   bool     // a spinner line is on screen and must be cleared before printing
	frame   int      // spinner animation frame
	spin    *spinner // redraw goroutine, running while any terminal step is
}

// newStatus returns the Status of s, printing through w (s's redacted ErrOut).
func newStatus(s *Streams, w io.Writer) *Status {
	return &Status{streams: s, w: w, now: time.Now, interval: 100 * time.Millisecond}
}

// Step is one running unit of work shown by a Status. End it exactly once; further calls
// are ignored, so a deferred End after an explicit one is harmless.
type Step struct {
	st    *Status
	name  string
	start time.Time
	term  bool
	color bool

	// guarded by st.mu
	unit    string
	done    int
	total   int
	counted bool
	ended   bool
	detail  string
	// reported is when Report last printed a line (without a terminal).
	reported time.Time
}

// ReportInterval is how often Report prints a progress line when there is no terminal.
const ReportInterval = 30 * time.Second

// Start begins a step and shows it: a spinner line on a terminal, "• name ..." otherwise.
func (st *Status) Start(name string) *Step {
	term, color := st.streams.IsTerminal(), st.streams.ColorEnabled()
	st.log(slog.LevelInfo, "step started", "step", name)

	st.mu.Lock()
	defer st.mu.Unlock()
	step := &Step{st: st, name: name, start: st.now(), term: term, color: color, unit: defaultUnit}
	if !term {
		st.print(symbolPending + " " + name + " ...\n")
		return step
	}
	st.running = append(st.running, step)
	st.startSpinnerLocked()
	st.drawLocked()
	return step
}

// Run wraps fn in a step, ending it with fn's error, which it returns unchanged. A panic in
// fn ends the step as failed before propagating, so the terminal is never left mid-spinner.
func (st *Status) Run(ctx context.Context, name string, fn func(context.Context, *Step) error) error {
	step := st.Start(name)
	defer func() {
		if r := recover(); r != nil {
			step.End(fmt.Errorf("panic: %v", r))
			panic(r)
		}
	}()
	err := fn(ctx, step)
	step.End(err)
	return err
}

// Warnf prints "! message" on ErrOut, in yellow when color is enabled. Warnings go through the
// Status so they clear an active spinner line first instead of garbling it.
func (st *Status) Warnf(format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	st.log(slog.LevelWarn, msg)
	st.printLine(paint(st.streams.ColorEnabled(), ansiYellow, symbolWarn+" "+msg))
}

// Infof prints a plain line on ErrOut without disturbing an active spinner.
func (st *Status) Infof(format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	st.log(slog.LevelInfo, msg)
	st.printLine(msg)
}

// Donef prints a finished outcome that took no noticeable time ("✓ wrote config ..."), where
// a Start/End pair would print a pointless "•" line and "(0.0s)".
func (st *Status) Donef(format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	st.log(slog.LevelInfo, msg)
	st.printLine(paint(st.streams.ColorEnabled(), ansiGreen, symbolOK) + " " + msg)
}

// Failf prints a failed outcome that took no noticeable time ("✗ config has 2 errors").
func (st *Status) Failf(format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	st.log(slog.LevelError, msg)
	st.printLine(paint(st.streams.ColorEnabled(), ansiRed, symbolFail) + " " + msg)
}

// printLine prints a whole line above the spinner, which is redrawn right after it.
func (st *Status) printLine(line string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.clearLocked()
	st.print(line + "\n")
	st.drawLocked()
}

// Name returns the step's name as shown.
func (sp *Step) Name() string { return sp.name }

// Count updates the step's counter, shown as "done/total unit" in the spinner and final line.
func (sp *Step) Count(done, total int) {
	sp.st.mu.Lock()
	defer sp.st.mu.Unlock()
	sp.done, sp.total, sp.counted = done, total, true
}

// Detail shows text after the step on a terminal's spinner line (the last line of a plugin's
// output, say) until the next call; without a terminal it shows nothing, the debug log having
// the whole output.
func (sp *Step) Detail(text string) {
	sp.st.mu.Lock()
	defer sp.st.mu.Unlock()
	sp.detail = strings.TrimSpace(text)
}

// Report shows how a long step stands ("20/32 ready; not ready: node003 (booting)"): on a
// terminal's spinner line like Detail, and without a terminal as a plain line at most every
// ReportInterval, so a log of a long wait shows it progressing and what it waits for.
func (sp *Step) Report(text string) {
	st := sp.st
	st.mu.Lock()
	defer st.mu.Unlock()
	sp.detail = strings.TrimSpace(text)
	if sp.term || sp.ended {
		return
	}
	now := st.now()
	last := sp.reported
	if last.IsZero() {
		last = sp.start
	}
	if now.Sub(last) < ReportInterval {
		return
	}
	sp.reported = now
	line := "  " + sp.name + ": "
	if sp.counted {
		line += fmt.Sprintf("%d/%d %s; ", sp.done, sp.total, sp.unit)
	}
	st.print(line + sp.detail + "\n")
	st.log(slog.LevelInfo, "step progress", "step", sp.name, "progress", sp.detail)
}

// SetUnit changes the counter's unit word ("nodes" by default), such as "volumes".
func (sp *Step) SetUnit(unit string) {
	sp.st.mu.Lock()
	defer sp.st.mu.Unlock()
	sp.unit = unit
}

// End finishes the step with "✓ name (done/total unit, 3.1s)" when err is nil and "✗ ..."
// otherwise. The error itself is left to the caller, which knows how to present it. When End
// returns, the spinner goroutine of the last running step has exited and will not write again.
func (sp *Step) End(err error) {
	st := sp.st
	st.mu.Lock()
	if sp.ended {
		st.mu.Unlock()
		return
	}
	sp.ended = true
	elapsed := st.now().Sub(sp.start)
	symbol := paint(sp.color, ansiGreen, symbolOK)
	if err != nil {
		symbol = paint(sp.color, ansiRed, symbolFail)
	}
	line := symbol + " " + sp.name + " (" + sp.detailsLocked(elapsed) + ")"
	attrs := []any{"step", sp.name, "elapsed", elapsed.Round(time.Millisecond).String()}
	if sp.counted {
		attrs = append(attrs, "done", sp.done, "total", sp.total)
	}

	var stopped *spinner
	st.clearLocked()
	if sp.term {
		st.running = slices.DeleteFunc(st.running, func(s *Step) bool { return s == sp })
		if len(st.running) == 0 {
			stopped = st.stopSpinnerLocked()
		}
	}
	st.print(line + "\n")
	st.drawLocked()
	st.mu.Unlock()

	if stopped != nil {
		<-stopped.done
	}
	if err != nil {
		st.log(slog.LevelError, "step failed", append(attrs, "error", err.Error())...)
		return
	}
	st.log(slog.LevelInfo, "step done", attrs...)
}

// detailsLocked renders "done/total unit, 3.1s", the elapsed time rounded to 0.1s.
func (sp *Step) detailsLocked(elapsed time.Duration) string {
	secs := fmt.Sprintf("%.1fs", elapsed.Round(100*time.Millisecond).Seconds())
	if !sp.counted {
		return secs
	}
	return fmt.Sprintf("%d/%d %s, %s", sp.done, sp.total, sp.unit, secs)
}

// print writes to ErrOut. Status output is best effort: a closed stderr must not fail the
// operation it describes, and the debug log still records it.
func (st *Status) print(s string) {
	_, _ = io.WriteString(st.w, s)
}

// log mirrors status events into Streams.Logger when one is set.
func (st *Status) log(level slog.Level, msg string, args ...any) {
	if l := st.streams.Logger; l != nil {
		l.Log(context.Background(), level, msg, args...)
	}
}

// paint wraps s in an ANSI color when on is set.
func paint(on bool, color, s string) string {
	if !on {
		return s
	}
	return color + s + ansiReset
}
