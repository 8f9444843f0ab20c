package ui

import (
	"time"
)

// spinner is the goroutine redrawing the active step's line. stop asks it to exit; done is
// closed once it has, which is what lets End promise that nothing is written afterwards.
type spinner struct {
	stop chan struct{}
	done chan struct{}
}

// startSpinnerLocked starts the redraw goroutine unless one is already running.
func (st *Status) startSpinnerLocked() {
	if st.spin != nil {
		return
	}
	sp := &spinner{stop: make(chan struct{}), done: make(chan struct{})}
	st.spin = sp
	go st.spinLoop(sp, st.interval)
}

// stopSpinnerLocked signals the redraw goroutine to exit and returns it, so the caller can wait
// for done after releasing the lock (the goroutine may be blocked on that lock).
func (st *Status) stopSpinnerLocked() *spinner {
	sp := st.spin
	if sp == nil {
		return nil
	}
	close(sp.stop)
	st.spin = nil
	return sp
}

// spinLoop advances the animation and redraws on every tick until stopped. It re-checks stop
// under the lock: a tick that raced with End must not draw a line End has already replaced.
func (st *Status) spinLoop(sp *spinner, interval time.Duration) {
	defer close(sp.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-sp.stop:
			return
		case <-ticker.C:
		}
		st.mu.Lock()
		select {
		case <-sp.stop:
			st.mu.Unlock()
			return
		default:
		}
		st.frame++
		st.drawLocked()
		st.mu.Unlock()
	}
}

// drawLocked redraws the spinner line of the most recently started running step, kept to one
// terminal row so the next carriage return can overwrite it.
func (st *Status) drawLocked() {
	if len(st.running) == 0 {
		return
	}
	step := st.running[len(st.running)-1]
	text := step.name + " (" + step.detailsLocked(st.now().Sub(step.start)) + ")"
	if step.detail != "" {
		text += ": " + step.detail
	}
	text = truncate(text, st.streams.width()-3) // frame, space, and a spare column
	st.print(clearLine + paint(step.color, ansiCyan, spinnerFrame(st.frame)) + " " + text)
	st.drawn = true
}

// clearLocked erases the spinner line, if one is shown, before other output takes the row.
func (st *Status) clearLocked() {
	if !st.drawn {
		return
	}
	st.print(clearLine)
	st.drawn = false
}

// spinnerFrame returns the i-th animation frame.
func spinnerFrame(i int) string {
	frames := [...]string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	return frames[i%len(frames)]
}

// truncate shortens s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if n < 1 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
