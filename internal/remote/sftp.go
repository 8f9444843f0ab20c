package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// maxConcurrentRequests is how many SFTP reads or writes of one file are in flight at once;
// overlapping round trips is what makes SFTP fast over a high-latency link.
const maxConcurrentRequests = 64

// SFTP returns the connection's SFTP client, starting the subsystem on first use and reusing
// it afterwards. It is safe for concurrent use.
func (c *Client) SFTP(ctx context.Context) (*sftp.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sftp on %s: %w", c.target.Label(), err)
	}
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	// The subsystem runs in a session of its own, which holds one MaxSessions slot for as
	// long as the SFTP client lives.
	sess, release, err := c.newSession(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := startSFTP(sess)
	if err != nil {
		sess.Close()
		release()
		return nil, c.connError("start sftp", err)
	}
	c.sftp = sc
	c.sftpClose = func() {
		sc.Close()
		sess.Close()
		release()
	}
	return sc, nil
}

// startSFTP starts the sftp subsystem on sess and speaks SFTP over its pipes.
func startSFTP(sess *ssh.Session) (*sftp.Client, error) {
	w, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		return nil, err
	}
	return sftp.NewClientPipe(r, w,
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.MaxConcurrentRequestsPerFile(maxConcurrentRequests))
}

// closeSFTP ends the cached SFTP client and its session; the caller holds sftpMu.
func (c *Client) closeSFTP() {
	if c.sftpClose != nil {
		c.sftpClose()
	}
	c.sftp, c.sftpClose = nil, nil
}

// resetSFTP drops a cached SFTP client whose subsystem has gone away, so the next call
// starts a new one.
func (c *Client) resetSFTP(sc *sftp.Client, err error) {
	if !errors.Is(err, sftp.ErrSSHFxConnectionLost) {
		return
	}
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp == sc {
		c.closeSFTP()
	}
}

// ProgressFunc is told how many bytes of a transfer are done and the total, -1 when the
// total is unknown. It is called from the transferring goroutine, often; throttle drawing.
type ProgressFunc func(done, total int64)

// progressReader counts bytes read, reports progress and stops the copy once ctx ends.
type progressReader struct {
	ctx      context.Context
	r        io.Reader
	done     int64
	total    int64
	progress ProgressFunc
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.done += int64(n)
		if p.progress != nil {
			p.progress(p.done, p.total)
		}
	}
	return n, err
}

// progressWriter is progressReader's counterpart for downloads.
type progressWriter struct {
	ctx      context.Context
	w        io.Writer
	done     int64
	total    int64
	progress ProgressFunc
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.w.Write(b)
	if n > 0 {
		p.done += int64(n)
		if p.progress != nil {
			p.progress(p.done, p.total)
		}
	}
	return n, err
}

// Download copies the remote file at remotePath to w, reporting progress.
func (c *Client) Download(ctx context.Context, remotePath string, w io.Writer, progress ProgressFunc) error {
	sc, err := c.SFTP(ctx)
	if err != nil {
		return err
	}
	return c.download(ctx, sc, remotePath, w, progress)
}

// download is Download over one SFTP client.
func (c *Client) download(ctx context.Context, sc *sftp.Client, remotePath string, w io.Writer, progress ProgressFunc) error {
	f, err := sc.Open(remotePath)
	if err != nil {
		c.resetSFTP(sc, err)
		return fmt.Errorf("download %s:%s: %w", c.target.Label(), remotePath, err)
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	total := int64(-1)
	if st, err := f.Stat(); err == nil {
		total = st.Size()
	}
	if _, err := f.WriteTo(&progressWriter{ctx: ctx, w: w, total: total, progress: progress}); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		c.resetSFTP(sc, err)
		return fmt.Errorf("download %s:%s: %w", c.target.Label(), remotePath, err)
	}
	return nil
}

// ReadFile returns the content of a (small) remote file.
func (c *Client) ReadFile(ctx context.Context, remotePath string) ([]byte, error) {
	var buf bytes.Buffer
	if err := c.Download(ctx, remotePath, &buf, nil); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// randomSuffix names temporary files; collisions with concurrent uploads are avoided by
// O_EXCL anyway, randomness just makes retries unnecessary.
func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// permBits keeps the bits chmod understands: permissions plus setuid, setgid and sticky.
func permBits(m os.FileMode) os.FileMode {
	return m & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
}

// octalMode renders m for chmod(1), including setuid, setgid and sticky.
func octalMode(m os.FileMode) string {
	n := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", n)
}
