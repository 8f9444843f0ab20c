package config

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Pos is where a setting or section was written. Line 0 means "not from a file" (a default, a
// command-line override or the environment), and File then says which.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Problem is one thing wrong with a config (or, as a warning, worth knowing). It names the file,
// line, section and key so the user can go straight to it.
type Problem struct {
	Pos     Pos    `json:"pos"`
	Section string `json:"section,omitempty"`
	Key     string `json:"key,omitempty"`
	Msg     string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	// Scope is the section whose use makes the problem matter ("cluster small", "plugin web");
	// a problem in a section no template being used refers to stops nothing and is reported
	// as a warning. "" and "global" are the file and [global]: they always matter.
	Scope string `json:"scope,omitempty"`
	// Placeholder marks a value still as `config init` wrote it (the example image, key).
	Placeholder bool `json:"placeholder,omitempty"`
}

// Error renders "MSG in [SECTION] at FILE:LINE; HINT".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Msg)
	if p.Section != "" {
		fmt.Fprintf(&b, " in [%s]", p.Section)
	}
	if p.Pos.File != "" {
		fmt.Fprintf(&b, " at %s", p.Pos)
	}
	if p.Hint != "" {
		b.WriteString("; ")
		b.WriteString(p.Hint)
	}
	return b.String()
}

// Problems is every error found in one load; the loader reports them all at once so a user fixes
// a config in one pass instead of one error per run.
type Problems []Problem

func (ps Problems) Error() string {
	if len(ps) == 1 {
		return ps[0].Error()
	}
	lines := make([]string, 0, len(ps)+1)
	lines = append(lines, fmt.Sprintf("%d problems in config:", len(ps)))
	for _, p := range ps {
		lines = append(lines, "  - "+p.Error())
	}
	return strings.Join(lines, "\n")
}

// sorted orders problems by file, line and message, and drops duplicates (a parent's bad
// value is reported once, not once per child template, whatever scope each was found in).
func (ps Problems) sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		return a.Error() < b.Error()
	})
	out := ps[:0]
	for i, p := range ps {
		if i > 0 && p.Pos == ps[i-1].Pos && p.Error() == ps[i-1].Error() {
			continue
		}
		out = append(out, p)
	}
	return out
}

// displayPath shortens a path for messages: relative to the working directory when below it,
// else with the home directory as ~.
func displayPath(path, cwd, home string) string {
	if cwd != "" {
		if rel, err := filepath.Rel(cwd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	if home != "" && strings.HasPrefix(path, home+string(filepath.Separator)) {
		return "~" + path[len(home):]
	}
	return path
}

// suggest returns the candidate closest to word (case-insensitive edit distance), or "" when
// none is close enough to be a plausible typo.
func suggest(word string, candidates []string) string {
	word = strings.ToLower(word)
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(word, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(1, len(word)/3)
	if bestD > limit {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b: insertions,
// deletions, substitutions and swaps of neighbours each cost 1, so "mykye" is one step from
// "mykey".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
