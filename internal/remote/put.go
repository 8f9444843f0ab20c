package remote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"
)

// Put copies local files and directory trees to the node, keeping permission bits and
// recreating symlinks. Like scp -r, a single source is copied to remoteDest itself unless
// remoteDest is an existing directory or ends in "/"; several sources always go inside
// remoteDest, which is created when missing. Every file lands atomically (see Upload);
// directories get their final modes after their content is written.
func (c *Client) Put(ctx context.Context, localPaths []string, remoteDest string, opts TransferOpts) error {
	if len(localPaths) == 0 {
		return errors.New("put: no local paths given")
	}
	sc, err := c.SFTP(ctx)
	if err != nil {
		return err
	}
	intoDir := len(localPaths) > 1 || strings.HasSuffix(remoteDest, "/")
	if st, err := sc.Stat(remoteDest); err == nil && st.IsDir() {
		intoDir = true
	}
	plan := &treePlan{}
	for _, src := range localPaths {
		dst := remoteDest
		if intoDir {
			dst = path.Join(remoteDest, filepath.Base(src))
		}
		if err := planLocal(plan, src, dst); err != nil {
			return fmt.Errorf("put %s: %w", src, err)
		}
	}
	if err := c.putTree(ctx, sc, plan, remoteDest, intoDir, opts); err != nil {
		c.resetSFTP(sc, err)
		return fmt.Errorf("put to %s:%s: %w", c.target.Label(), remoteDest, err)
	}
	return nil
}

// putTree carries out a plan: directories first, then files in parallel, then modes.
func (c *Client) putTree(ctx context.Context, sc *sftp.Client, plan *treePlan, dest string, intoDir bool, opts TransferOpts) error {
	if intoDir {
		if err := c.remoteMkdir(ctx, sc, dest, true, opts); err != nil {
			return err
		}
	}
	for _, e := range plan.entries {
		if e.kind == kindDir {
			if err := c.remoteMkdir(ctx, sc, e.dst, false, opts); err != nil {
				return err
			}
		}
	}
	agg := &aggregateProgress{total: plan.total, progress: opts.Progress}
	err := forEachFile(ctx, plan, func(ctx context.Context, e treeEntry) error {
		if e.kind == kindSymlink {
			return c.remoteSymlink(ctx, sc, e, opts)
		}
		f, err := os.Open(e.src)
		if err != nil {
			return err
		}
		defer f.Close()
		return c.Upload(ctx, f, e.dst, FileOpts{Mode: e.mode, Owner: opts.Owner, Sudo: opts.Sudo,
			Size: e.size, Progress: agg.file()})
	})
	if err != nil {
		return err
	}
	for _, d := range plan.dirsDeepestFirst() {
		if err := c.remoteChmod(ctx, sc, d.dst, d.mode, opts); err != nil {
			return err
		}
	}
	return nil
}

// planLocal walks a local file or tree and records what to create at dst.
func planLocal(plan *treePlan, src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := path.Join(dst, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := treeEntry{src: p, dst: target, mode: permBits(info.Mode()), size: info.Size()}
		switch {
		case d.IsDir():
			e.kind = kindDir
		case info.Mode().IsRegular():
			e.kind = kindFile
		case info.Mode()&fs.ModeSymlink != 0:
			e.kind = kindSymlink
			if e.link, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: cannot copy %s files", p, info.Mode().Type())
		}
		plan.add(e)
		return nil
	})
}

// remoteMkdir creates dir, through sudo when the login user may not; an existing directory
// is fine. The destination itself (dest set) gets its parents created and keeps its owner,
// since it may be a system directory; copied directories are given opts.Owner.
func (c *Client) remoteMkdir(ctx context.Context, sc *sftp.Client, dir string, dest bool, opts TransferOpts) error {
	if dest && isDir(sc, dir) {
		return nil
	}
	chown := func() error {
		if dest {
			return nil
		}
		return c.remoteChown(ctx, dir, opts)
	}
	root := c.target.User == "root"
	if !opts.Sudo || root {
		mk := sc.Mkdir
		if dest {
			mk = sc.MkdirAll
		}
		err := mk(dir)
		if err == nil || isDir(sc, dir) {
			return chown()
		}
		if root || !errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("mkdir %s: %w", dir, err)
		}
	}
	if _, err := c.RunWith(ctx, QuoteArgs("mkdir", "-p", "--", dir), RunOpts{Sudo: true}); err != nil {
		return fmt.Errorf("mkdir %s with sudo: %w", dir, err)
	}
	return chown()
}

// remoteChmod sets a directory's final mode, through sudo when the login user may not.
func (c *Client) remoteChmod(ctx context.Context, sc *sftp.Client, p string, mode os.FileMode, opts TransferOpts) error {
	root := c.target.User == "root"
	if !opts.Sudo || root {
		err := sc.Chmod(p, mode)
		if err == nil {
			return nil
		}
		if root || !errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	if _, err := c.RunWith(ctx, QuoteArgs("chmod", "--", octalMode(mode), p), RunOpts{Sudo: true}); err != nil {
		return fmt.Errorf("chmod %s with sudo: %w", p, err)
	}
	return nil
}

// remoteChown gives p to opts.Owner when one is set.
func (c *Client) remoteChown(ctx context.Context, p string, opts TransferOpts) error {
	if opts.Owner == "" {
		return nil
	}
	if _, err := c.RunWith(ctx, QuoteArgs("chown", "-h", "--", opts.Owner, p), RunOpts{Sudo: true}); err != nil {
		return fmt.Errorf("chown %s: %w", p, err)
	}
	return nil
}

// remoteSymlink recreates a symlink, replacing whatever non-directory is at its path.
func (c *Client) remoteSymlink(ctx context.Context, sc *sftp.Client, e treeEntry, opts TransferOpts) error {
	if !opts.Sudo || c.target.User == "root" {
		if st, err := sc.Lstat(e.dst); err == nil && !st.IsDir() {
			_ = sc.Remove(e.dst)
		}
		err := sc.Symlink(e.link, e.dst)
		if err == nil {
			return c.remoteChown(ctx, e.dst, opts)
		}
		if c.target.User == "root" || !errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("symlink %s: %w", e.dst, err)
		}
	}
	if _, err := c.RunWith(ctx, QuoteArgs("ln", "-sfn", "--", e.link, e.dst), RunOpts{Sudo: true}); err != nil {
		return fmt.Errorf("symlink %s with sudo: %w", e.dst, err)
	}
	return c.remoteChown(ctx, e.dst, opts)
}

// isDir reports whether p exists on the node as a directory.
func isDir(sc *sftp.Client, p string) bool {
	st, err := sc.Stat(p)
	return err == nil && st.IsDir()
}
