package sim

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// link is one direction of a simulated connection: bytes written at one end arrive at the
// other after the one-way delay, no sooner than the link's bandwidth allows, in order.
type link struct {
	delay     time.Duration
	bandwidth float64 // bytes per second; 0 is unlimited
	count     func(int)
	// shared, when set, is the bandwidth this link shares with others (this machine's uplink).
	shared *uplink

	mu       sync.Mutex
	cond     *sync.Cond
	chunks   []chunk
	busy     time.Time // when the link finishes sending what it was given
	closed   bool      // the writer closed: readers get EOF after the last chunk
	broken   bool      // the reader closed: writes fail
	deadline time.Time
}

// chunk is data in flight and when it arrives.
type chunk struct {
	data []byte
	at   time.Time
}

func newLink(delay time.Duration, bandwidth float64, count func(int)) *link {
	l := &link{delay: delay, bandwidth: bandwidth, count: count}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// write queues p for delivery after the transmission time and the delay.
func (l *link) write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.broken {
		return 0, net.ErrClosed
	}
	now := time.Now()
	start := l.busy
	if start.Before(now) {
		start = now
	}
	if l.bandwidth > 0 {
		start = start.Add(time.Duration(float64(len(p)) / l.bandwidth * float64(time.Second)))
	}
	if l.shared != nil {
		if done := l.shared.send(len(p)); done.After(start) {
			start = done
		}
	}
	l.busy = start
	l.chunks = append(l.chunks, chunk{data: append([]byte(nil), p...), at: start.Add(l.delay)})
	if l.count != nil {
		l.count(len(p))
	}
	l.cond.Broadcast()
	return len(p), nil
}

// read waits for the next chunk to arrive.
func (l *link) read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.broken {
			return 0, net.ErrClosed
		}
		if !l.deadline.IsZero() && !time.Now().Before(l.deadline) {
			return 0, os.ErrDeadlineExceeded
		}
		if len(l.chunks) > 0 {
			wait := time.Until(l.chunks[0].at)
			if wait <= 0 {
				c := &l.chunks[0]
				n := copy(p, c.data)
				c.data = c.data[n:]
				if len(c.data) == 0 {
					l.chunks[0] = chunk{}
					l.chunks = l.chunks[1:]
				}
				return n, nil
			}
			l.sleep(wait)
			continue
		}
		if l.closed {
			return 0, io.EOF
		}
		l.sleep(0)
	}
}

// sleep waits for a change, or for d (or the read deadline) to pass when d > 0; the caller
// holds l.mu.
func (l *link) sleep(d time.Duration) {
	if !l.deadline.IsZero() {
		if until := time.Until(l.deadline); d <= 0 || until < d {
			d = max(until, time.Nanosecond)
		}
	}
	if d <= 0 {
		l.cond.Wait()
		return
	}
	t := time.AfterFunc(d, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	l.cond.Wait()
	t.Stop()
}

func (l *link) setDeadline(t time.Time) {
	l.mu.Lock()
	l.deadline = t
	l.cond.Broadcast()
	l.mu.Unlock()
}

// closeWrite ends the stream after what is in flight.
func (l *link) closeWrite() {
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
}

// closeRead drops what is in flight and fails later writes.
func (l *link) closeRead() {
	l.mu.Lock()
	l.broken = true
	l.chunks = nil
	l.cond.Broadcast()
	l.mu.Unlock()
}

// uplink is bandwidth several links share: the bytes of all of them pass it one after another.
type uplink struct {
	bandwidth float64
	mu        sync.Mutex
	busy      time.Time
}

// send takes n bytes through the uplink and returns when they are through.
func (u *uplink) send(n int) time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if u.busy.Before(now) {
		u.busy = now
	}
	u.busy = u.busy.Add(time.Duration(float64(n) / u.bandwidth * float64(time.Second)))
	return u.busy
}

// conn is one end of a simulated connection.
type conn struct {
	in, out       *link
	local, remote net.Addr
	once          sync.Once
	onClose       func()
}

// pipe returns the two ends of a connection whose directions have the given delay and
// bandwidth; sent counts the bytes a writes, received those b writes.
func pipe(delay time.Duration, bandwidth float64, aAddr, bAddr net.Addr, sent, received func(int)) (a, b *conn) {
	ab := newLink(delay, bandwidth, sent)
	ba := newLink(delay, bandwidth, received)
	return &conn{in: ba, out: ab, local: aAddr, remote: bAddr}, &conn{in: ab, out: ba, local: bAddr, remote: aAddr}
}

func (c *conn) Read(p []byte) (int, error)  { return c.in.read(p) }
func (c *conn) Write(p []byte) (int, error) { return c.out.write(p) }

// Close ends both directions, as closing a socket does.
func (c *conn) Close() error {
	c.once.Do(func() {
		c.out.closeWrite()
		c.in.closeRead()
		if c.onClose != nil {
			c.onClose()
		}
	})
	return nil
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }
func (c *conn) SetDeadline(t time.Time) error {
	c.in.setDeadline(t)
	return nil
}
func (c *conn) SetReadDeadline(t time.Time) error {
	c.in.setDeadline(t)
	return nil
}

// SetWriteDeadline does nothing: writes never block.
func (c *conn) SetWriteDeadline(time.Time) error { return nil }
