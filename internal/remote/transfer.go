package remote

import (
	"context"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// transferConcurrency is how many files of one tree move at once. Small files cost several
// round trips each (create, write, chmod, rename), so overlapping them matters more than
// bandwidth; the SFTP connection is shared.
const transferConcurrency = 8

// TransferOpts apply to Put and Get of files and directory trees.
type TransferOpts struct {
	// Owner ("user" or "user:group") is given to every file and directory Put creates.
	Owner string
	// Sudo makes Put place everything through sudo (see FileOpts.Sudo) and Get read
	// everything through sudo; without it sudo is used only where the login user is refused.
	Sudo bool
	// Progress is told the bytes done and total over the whole transfer.
	Progress ProgressFunc
	// OnSkip is told about each remote entry Get leaves out (a symlink pointing outside
	// what is copied) and why.
	OnSkip func(path, reason string)
}

// treeEntry is one item of a planned transfer: a directory, a regular file or a symlink,
// with where it comes from and where it goes.
type treeEntry struct {
	src, dst string
	mode     os.FileMode
	size     int64
	kind     entryKind
	link     string
}

// entryKind distinguishes what a treeEntry is.
type entryKind int

const (
	kindDir entryKind = iota
	kindFile
	kindSymlink
)

// treePlan is the flattened list of everything to transfer.
type treePlan struct {
	entries []treeEntry
	total   int64
}

// add appends e, accounting file sizes into the total.
func (p *treePlan) add(e treeEntry) {
	p.entries = append(p.entries, e)
	if e.kind == kindFile {
		p.total += e.size
	}
}

// dirsDeepestFirst returns the directories, children before parents, so final (possibly
// read-only) modes are applied only after everything inside was written.
func (p *treePlan) dirsDeepestFirst() []treeEntry {
	var dirs []treeEntry
	for _, e := range p.entries {
		if e.kind == kindDir {
			dirs = append(dirs, e)
		}
	}
	sort.SliceStable(dirs, func(i, j int) bool {
		return strings.Count(dirs[i].dst, "/") > strings.Count(dirs[j].dst, "/")
	})
	return dirs
}

// aggregateProgress turns per-file byte counts into one running total for the whole tree.
type aggregateProgress struct {
	total    int64
	done     atomic.Int64
	mu       sync.Mutex
	progress ProgressFunc
}

// file returns the ProgressFunc for one file; it adds the file's increments to the total.
func (a *aggregateProgress) file() ProgressFunc {
	if a.progress == nil {
		return nil
	}
	var last int64
	return func(done, _ int64) {
		n := a.done.Add(done - last)
		last = done
		a.mu.Lock()
		a.progress(n, a.total)
		a.mu.Unlock()
	}
}

// forEachFile runs fn on every non-directory entry with bounded concurrency, stopping new
// work after the first error.
func forEachFile(ctx context.Context, p *treePlan, fn func(context.Context, treeEntry) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(transferConcurrency)
	for _, e := range p.entries {
		if e.kind == kindDir {
			continue
		}
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, e) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// hasGlobMeta reports whether pattern uses glob syntax and so needs expanding.
func hasGlobMeta(pattern string) bool {
	return strings.ContainsAny(pattern, `*?[\`)
}
