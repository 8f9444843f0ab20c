package ui

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress counts the bytes of a transfer (an upload to the master, a volume copy) and, on a
// terminal, draws a progress bar on ErrOut. Elsewhere it only counts, so logs and CI output
// are not flooded with redraws. Write to it alongside the destination, for example with
// io.MultiWriter or io.TeeReader, and Close it when the transfer ends.
//
// Do not run a Progress while a Status step spinner is active: both redraw the same row.
type Progress struct {
	mu       sync.Mutex
	bar      *progressbar.ProgressBar // nil when not on a terminal
	w        io.Writer
	written  int64
	pending  int64 // counted but not yet drawn
	lastDraw time.Time
	closed   bool
}

// progressRedraw is how often the bar is redrawn at most. The throttling is done here rather
// than by the library, whose throttle would drop the final update and leave a stale count.
const progressRedraw = 65 * time.Millisecond

// NewProgress returns a Progress for a transfer of total bytes; total <= 0 means unknown and
// shows a byte counter instead of a bar.
func NewProgress(s *Streams, total int64, description string) *Progress {
	p := &Progress{w: s.SafeErrOut()}
	if !s.IsTerminal() {
		return p
	}
	limit := total
	if limit <= 0 {
		limit = -1 // the library's "unknown length"
	}
	p.bar = progressbar.NewOptions64(limit,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(20),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionEnableColorCodes(false),
		// The library animates unknown totals from a goroutine that only stops when the bar
		// completes, which an unknown total never does; redraw on writes only.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionSetRenderBlankState(true),
	)
	return p
}

// Write counts len(b) bytes and redraws the bar. It never fails before Close: a display
// problem must not abort the transfer it describes.
func (p *Progress) Write(b []byte) (int, error) {
	if err := p.Add(int64(len(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Add counts n more bytes, for transfers that report progress as numbers rather than through a
// writer.
func (p *Progress) Add(n int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("write progress: %w", os.ErrClosed)
	}
	p.written += n
	p.pending += n
	if now := time.Now(); now.Sub(p.lastDraw) >= progressRedraw {
		p.lastDraw = now
		p.drawLocked()
	}
	return nil
}

// drawLocked hands the bytes counted since the last draw to the bar, which redraws. Its errors
// only concern drawing (such as exceeding the total) and are ignored.
func (p *Progress) drawLocked() {
	if p.bar != nil && p.pending > 0 {
		_ = p.bar.Add64(p.pending)
	}
	p.pending = 0
}

// Written returns the number of bytes counted so far, for a summary line or the debug log.
func (p *Progress) Written() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written
}

// Close stops drawing and ends the bar's line, leaving it showing how far the transfer got.
// Closing twice is harmless.
func (p *Progress) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.bar == nil {
		return nil
	}
	p.drawLocked()
	if err := p.bar.Exit(); err != nil {
		return fmt.Errorf("close progress: %w", err)
	}
	if _, err := io.WriteString(p.w, "\n"); err != nil {
		return fmt.Errorf("close progress: %w", err)
	}
	return nil
}
