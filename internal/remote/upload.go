package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/pkg/sftp"
)

// FileOpts describe how an uploaded file lands on the node.
type FileOpts struct {
	// Mode is the file's permission bits (setuid, setgid and sticky included); 0 means 0644.
	Mode os.FileMode
	// Owner is "user" or "user:group" to chown the file to; empty leaves the owner to the
	// login user (or root when the file had to be placed through sudo).
	Owner string
	// Sudo places the file through sudo even if the login user could write the directory.
	// Without it, sudo is used only when the login user is not root and writing into the
	// directory is refused.
	Sudo bool
	// Size is the number of bytes the reader will yield, for progress; 0 means look at
	// the reader (Len, Size or Stat) or report an unknown total (-1).
	Size int64
	// Progress, when set, is told about the bytes sent.
	Progress ProgressFunc
}

// errCreateTemp marks a failure to create the temporary file next to the target, before
// anything was read from the source, so the upload can still switch to sudo.
var errCreateTemp = errors.New("cannot create a temporary file in the target directory")

// Upload writes r to remotePath atomically: the content goes to a temporary file in the same
// directory, which gets its mode (and owner) and is then renamed over the target, so a
// reader of remotePath sees the old content or the new, never part of it, and a failed
// upload leaves the target alone and no temporary file behind. When the login user is not
// root and cannot write the directory (or opts.Sudo is set), the file is staged in the
// user's home directory and moved into place with sudo, again through a same-directory
// temporary file and rename.
func (c *Client) Upload(ctx context.Context, r io.Reader, remotePath string, opts FileOpts) error {
	sc, err := c.SFTP(ctx)
	if err != nil {
		return err
	}
	if opts.Mode == 0 {
		opts.Mode = 0o644
	}
	opts.Mode = permBits(opts.Mode)
	if opts.Size == 0 {
		opts.Size = readerSize(r)
	}
	root := c.target.User == "root"
	if !opts.Sudo || root {
		err = c.uploadDirect(ctx, sc, r, remotePath, opts)
		if err == nil || root || !errors.Is(err, errCreateTemp) || !errors.Is(err, os.ErrPermission) {
			c.resetSFTP(sc, err)
			return wrapUpload(c, remotePath, err)
		}
	}
	err = c.uploadSudo(ctx, sc, r, remotePath, opts)
	c.resetSFTP(sc, err)
	return wrapUpload(c, remotePath, err)
}

// WriteFile uploads data to remotePath atomically with the given mode.
func (c *Client) WriteFile(ctx context.Context, remotePath string, data []byte, mode os.FileMode) error {
	return c.Upload(ctx, bytes.NewReader(data), remotePath, FileOpts{Mode: mode, Size: int64(len(data))})
}

// wrapUpload names the destination in an upload error.
func wrapUpload(c *Client, remotePath string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("upload to %s:%s: %w", c.target.Label(), remotePath, err)
}

// uploadDirect writes a temporary file beside remotePath and renames it over the target.
func (c *Client) uploadDirect(ctx context.Context, sc *sftp.Client, r io.Reader, remotePath string, opts FileOpts) error {
	dir, base := path.Split(remotePath)
	if base == "" {
		return errors.New("destination is a directory path")
	}
	tmp := path.Join(dir, "."+base+".clusterctl-"+randomSuffix()+".tmp")
	if err := c.writeTemp(ctx, sc, r, tmp, opts); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = sc.Remove(tmp)
		}
	}()
	if err := sc.Chmod(tmp, opts.Mode); err != nil {
		return fmt.Errorf("chmod temporary file: %w", err)
	}
	if opts.Owner != "" {
		if _, err := c.RunWith(ctx, QuoteArgs("chown", "-h", "--", opts.Owner, tmp), RunOpts{Sudo: true}); err != nil {
			return fmt.Errorf("chown temporary file: %w", err)
		}
	}
	if err := sc.PosixRename(tmp, remotePath); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	ok = true
	return nil
}

// uploadSudo stages the content in the login user's home directory, then has root copy it
// to a temporary file beside the target, set mode and owner, and rename it into place.
func (c *Client) uploadSudo(ctx context.Context, sc *sftp.Client, r io.Reader, remotePath string, opts FileOpts) error {
	home, err := sc.Getwd()
	if err != nil {
		return fmt.Errorf("find home directory for staging: %w", err)
	}
	stage := path.Join(home, ".clusterctl-upload-"+randomSuffix())
	if err := c.writeTemp(ctx, sc, r, stage, opts); err != nil {
		return err
	}
	defer func() { _ = sc.Remove(stage) }()

	dir, base := path.Split(remotePath)
	if dir == "" {
		dir = "."
	}
	template := path.Join(dir, "."+base+".clusterctl-XXXXXXXXXX")
	script := []string{
		"set -e",
		"t=$(mktemp -- " + Quote(template) + ")",
		`trap 'rm -f -- "$t"' EXIT`,
		"cat -- " + Quote(stage) + ` > "$t"`,
		"chmod -- " + octalMode(opts.Mode) + ` "$t"`,
	}
	if opts.Owner != "" {
		script = append(script, "chown -h -- "+Quote(opts.Owner)+` "$t"`)
	}
	script = append(script, `mv -f -- "$t" `+Quote(remotePath))
	if _, err := c.RunWith(ctx, strings.Join(script, "\n"), RunOpts{Sudo: true}); err != nil {
		return fmt.Errorf("move into place with sudo: %w", err)
	}
	return nil
}

// writeTemp creates path exclusively with mode 0600 (so secrets are never readable by
// others while in transit) and copies r into it, removing it again on failure.
func (c *Client) writeTemp(ctx context.Context, sc *sftp.Client, r io.Reader, tmp string, opts FileOpts) error {
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errCreateTemp, path.Dir(tmp), err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			_ = sc.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod temporary file: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	pr := &progressReader{ctx: ctx, r: r, total: opts.Size, progress: opts.Progress}
	if _, err := f.ReadFromWithConcurrency(pr, maxConcurrentRequests); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("write: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	ok = true
	return nil
}

// readerSize guesses how many bytes r holds, -1 when it cannot tell.
func readerSize(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case interface{ Size() int64 }:
		return v.Size()
	case interface{ Stat() (os.FileInfo, error) }:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			return st.Size()
		}
	}
	return -1
}
