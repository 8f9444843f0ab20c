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
// and recreating symlinks that point inside what is copied. Patterns are expanded on the
// node (sftp glob: *, ?, [...]); a pattern matching nothing is an error, as in a shell
// without nullglob. A single match is copied to localDest itself unless localDest is an
// existing directory or ends in "/"; several matches go inside localDest. Local files are
// written to a temporary file and renamed, so an interrupted Get never leaves a truncated
// file under the final name.
//
// The node is not trusted (its users control what files it has and an SFTP server names
// them): every name must be a plain file name, and everything is written through an os.Root
// at the destination, so nothing lands outside it, whatever the names or links (getsafe.go).
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
	base, single := localDest, ""
	if !intoDir {
		base, single = filepath.Dir(localDest), filepath.Base(localDest)
	}
	plan := &treePlan{}
	for _, m := range matches {
		dst := single
		if intoDir {
			dst = path.Base(m)
			if err := checkRemoteName(dst); err != nil {
				return fmt.Errorf("get %s:%s: %w", c.target.Label(), m, err)
			}
		}
		if err := planRemote(sc, plan, m, dst, opts.OnSkip); err != nil {
			c.resetSFTP(sc, err)
			return fmt.Errorf("get %s:%s: %w", c.target.Label(), m, err)
		}
	}
	if intoDir {
		if err := os.MkdirAll(localDest, 0o755); err != nil {
			return fmt.Errorf("get: %w", err)
		}
	}
	root, err := os.OpenRoot(base)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	defer root.Close()
	if err := c.getTree(ctx, sc, root, plan, opts); err != nil {
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

// planRemote walks a remote file or tree and records what to create locally at dst, a path
// relative to the destination root. Names the node reports are checked (checkRemoteName), the
// tree's depth is bounded, and symlinks leading out of what is copied are skipped.
func planRemote(sc *sftp.Client, plan *treePlan, src, dst string, onSkip func(path, reason string)) error {
	w := sc.Walk(src)
	for first := true; w.Step(); first = false {
		if err := w.Err(); err != nil {
			return err
		}
		p, info := w.Path(), w.Stat()
		rel, err := relBelow(src, p)
		if err != nil {
			return err
		}
		if rel == "" && !first {
			// A listing naming its own directory (an entry called "/") would be walked
			// again and again.
			return fmt.Errorf("%s lists an entry that is the directory itself; refusing it", src)
		}
		e := treeEntry{src: p, dst: path.Join(dst, rel), mode: permBits(info.Mode()), size: info.Size()}
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
			if reason := linkLeavesTree(e.dst, link); reason != "" {
				if onSkip != nil {
					onSkip(p, reason)
				}
				continue
			}
			e.link = link
		default:
			return fmt.Errorf("%s: cannot copy %s files", p, info.Mode().Type())
		}
		plan.add(e)
	}
	return nil
}

// getTree carries out a download plan inside root: directories, then files in parallel,
// then modes.
func (c *Client) getTree(ctx context.Context, sc *sftp.Client, root *os.Root, plan *treePlan, opts TransferOpts) error {
	for _, e := range plan.entries {
		if e.kind == kindDir {
			if err := root.MkdirAll(filepath.FromSlash(e.dst), 0o700); err != nil {
				return err
			}
		}
	}
	agg := &aggregateProgress{total: plan.total, progress: opts.Progress}
	err := forEachFile(ctx, plan, func(ctx context.Context, e treeEntry) error {
		dst := filepath.FromSlash(e.dst)
		if e.kind == kindSymlink {
			if st, err := root.Lstat(dst); err == nil && !st.IsDir() {
				_ = root.Remove(dst)
			}
			return root.Symlink(e.link, dst)
		}
		return c.downloadFile(ctx, sc, root, e, agg.file())
	})
	if err != nil {
		return err
	}
	for _, d := range plan.dirsDeepestFirst() {
		if err := root.Chmod(filepath.FromSlash(d.dst), d.mode); err != nil {
			return err
		}
	}
	return nil
}

// downloadFile fetches one file into a temporary file beside its destination, then gives it
// the remote file's mode and renames it into place, all inside root.
func (c *Client) downloadFile(ctx context.Context, sc *sftp.Client, root *os.Root, e treeEntry, progress ProgressFunc) error {
	dst := filepath.FromSlash(e.dst)
	tmpName := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".clusterctl-"+randomSuffix())
	tmp, err := root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			_ = root.Remove(tmpName)
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
	if err := root.Rename(tmpName, dst); err != nil {
		return err
	}
	ok = true
	return nil
}
