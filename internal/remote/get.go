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

// Get copies remote files and directory trees to the local machine, keeping permission bits
// and recreating symlinks. Patterns are expanded on the node (sftp glob: *, ?, [...]); a
// pattern matching nothing is an error, as in a shell without nullglob. A single match is
// copied to localDest itself unless localDest is an existing directory or ends in "/";
// several matches go inside localDest. Local files are written to a temporary file and
// renamed, so an interrupted Get never leaves a truncated file under the final name.
//
// What the login user may not read is read through sudo, as Put writes through sudo where the
// login user may not write (see getAsRoot): what put can write, get can read.
func (c *Client) Get(ctx context.Context, patterns []string, localDest string, opts TransferOpts) error {
	if len(patterns) == 0 {
		return errors.New("get: no remote paths given")
	}
	sc, err := c.SFTP(ctx)
	if err != nil {
		return err
	}
	err = c.get(ctx, sc, patterns, localDest, opts)
	if opts.Sudo || (errors.Is(err, os.ErrPermission) && c.target.User != "root") {
		return c.getAsRoot(ctx, patterns, localDest, opts)
	}
	return err
}

// get is Get over one SFTP client.
func (c *Client) get(ctx context.Context, sc *sftp.Client, patterns []string, localDest string, opts TransferOpts) error {
	var matches []string
	for _, p := range patterns {
		m, err := expandRemote(sc, p)
		if err != nil {
			return fmt.Errorf("get %s:%s: %w", c.target.Label(), p, err)
		}
		matches = append(matches, m...)
	}
	intoDir := len(matches) > 1 || strings.HasSuffix(localDest, string(filepath.Separator))
	if st, err := os.Stat(localDest); err == nil && st.IsDir() {
		intoDir = true
	}
	plan := &treePlan{}
	for _, m := range matches {
		dst := localDest
		if intoDir {
			dst = filepath.Join(localDest, path.Base(m))
		}
		if err := planRemote(sc, plan, m, dst); err != nil {
			c.resetSFTP(sc, err)
			return fmt.Errorf("get %s:%s: %w", c.target.Label(), m, err)
		}
	}
	if intoDir {
		if err := os.MkdirAll(localDest, 0o755); err != nil {
			return fmt.Errorf("get: %w", err)
		}
	}
	if err := c.getTree(ctx, sc, plan, opts); err != nil {
		return fmt.Errorf("get from %s: %w", c.target.Label(), err)
	}
	return nil
}

// expandRemote returns the paths a pattern names on the node.
func expandRemote(sc *sftp.Client, pattern string) ([]string, error) {
	if !hasGlobMeta(pattern) {
		if _, err := sc.Lstat(pattern); err != nil {
			return nil, err
		}
		return []string{pattern}, nil
	}
	m, err := sc.Glob(pattern)
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, errors.New("no remote files match")
	}
	return m, nil
}

// planRemote walks a remote file or tree and records what to create locally at dst.
func planRemote(sc *sftp.Client, plan *treePlan, src, dst string) error {
	w := sc.Walk(src)
	for w.Step() {
		if err := w.Err(); err != nil {
			return err
		}
		p, info := w.Path(), w.Stat()
		rel := strings.TrimPrefix(strings.TrimPrefix(p, src), "/")
		e := treeEntry{src: p, dst: filepath.Join(dst, filepath.FromSlash(rel)), mode: permBits(info.Mode()),
			size: info.Size()}
		switch {
		case info.IsDir():
			e.kind = kindDir
		case info.Mode().IsRegular():
			e.kind = kindFile
		case info.Mode()&fs.ModeSymlink != 0:
			e.kind = kindSymlink
			link, err := sc.ReadLink(p)
			if err != nil {
				return err
			}
			e.link = link
		default:
			return fmt.Errorf("%s: cannot copy %s files", p, info.Mode().Type())
		}
		plan.add(e)
	}
	return nil
}

// getTree carries out a download plan: directories, then files in parallel, then modes.
func (c *Client) getTree(ctx context.Context, sc *sftp.Client, plan *treePlan, opts TransferOpts) error {
	for _, e := range plan.entries {
		if e.kind == kindDir {
			if err := os.MkdirAll(e.dst, 0o700); err != nil {
				return err
			}
		}
	}
	agg := &aggregateProgress{total: plan.total, progress: opts.Progress}
	err := forEachFile(ctx, plan, func(ctx context.Context, e treeEntry) error {
		if e.kind == kindSymlink {
			if st, err := os.Lstat(e.dst); err == nil && !st.IsDir() {
				_ = os.Remove(e.dst)
			}
			return os.Symlink(e.link, e.dst)
		}
		return c.downloadFile(ctx, sc, e, agg.file())
	})
	if err != nil {
		return err
	}
	for _, d := range plan.dirsDeepestFirst() {
		if err := os.Chmod(d.dst, d.mode); err != nil {
			return err
		}
	}
	return nil
}

// downloadFile fetches one file into a temporary file beside its destination, then gives it
// the remote file's mode and renames it into place.
func (c *Client) downloadFile(ctx context.Context, sc *sftp.Client, e treeEntry, progress ProgressFunc) error {
	tmp, err := os.CreateTemp(filepath.Dir(e.dst), "."+filepath.Base(e.dst)+".clusterctl-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := c.download(ctx, sc, e.src, tmp, progress); err != nil {
		return err
	}
	if err := tmp.Chmod(e.mode); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), e.dst); err != nil {
		return err
	}
	ok = true
	return nil
}
