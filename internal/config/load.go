package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOptions says what to load and with which environment.
type LoadOptions struct {
	// Path is the main config file.
	Path string
	// Env provides environment variables, the home and working directories; zero means OSEnv.
	Env *Env
	// Catalog resolves plugin sections; nil accepts no [plugin] sections.
	Catalog PluginCatalog
	// InstanceTypes are the EC2 instance types known offline (the AWS SDK's list); a type
	// outside it is a warning with a suggestion. Empty skips the check.
	InstanceTypes []string
}

// NotFoundError is returned when the main config file does not exist, so the CLI can say where
// it looked and how to create one.
type NotFoundError struct{ Path string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("config file %s does not exist", e.Path) }

// Load reads a config and its includes, resolves every template and checks everything that can be
// checked without the cloud. Only problems of the file itself and of [global] are returned as
// an error (with the partly loaded Config): every other problem matters only to the templates
// that use its section, and is reported by Resolve and Check.
func Load(opts LoadOptions) (*Config, error) {
	env := OSEnv()
	if opts.Env != nil {
		env = *opts.Env
	}
	l := &loader{env: env, catalog: opts.Catalog, byKey: map[string]*rawSection{}, read: map[string]bool{},
		types: typeSet(opts.InstanceTypes)}
	abs, err := filepath.Abs(env.ExpandPath(opts.Path))
	if err != nil {
		return nil, fmt.Errorf("config path %s: %w", opts.Path, err)
	}
	if st, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Path: abs}
	} else if err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config %s exists but is not a regular file", abs)
	} else if _, err := readConfigFile(abs); err != nil {
		return nil, fmt.Errorf("config %s: %w", abs, err)
	}
	l.readFile(abs, nil, nil, false)
	cfg := l.build()
	cfg.Path = abs
	if global := cfg.problems.inScopes(map[string]bool{"": true, "global": true}); len(global) > 0 {
		return cfg, global
	}
	return cfg, nil
}

// loader holds one load's state: the sections read so far and the problems found.
type loader struct {
	env      Env
	catalog  PluginCatalog
	files    []string
	read     map[string]bool
	sections []*rawSection          // in first-seen order
	byKey    map[string]*rawSection // "kind name"
	probs    Problems
	warns    Problems
	// failed holds keys whose values did not parse, so later checks skip them instead of
	// reporting their zero values.
	failed map[string]bool
	// scope is the section being loaded, given to the problems found in it.
	scope string
	// types are the known EC2 instance types (empty: not checked).
	types map[string]bool
}

func (l *loader) problem(p Problem) {
	if p.Scope == "" {
		p.Scope = l.scope
	}
	l.probs = append(l.probs, p)
}

func (l *loader) warn(p Problem) {
	if p.Scope == "" {
		p.Scope = l.scope
	}
	l.warns = append(l.warns, p)
}

func (l *loader) show(path string) string { return displayPath(path, l.env.Cwd, l.env.Home) }

// readFile reads one file and, depth first, the files its [global] INCLUDE names. from is the
// INCLUDE setting that led here; stack holds the files being read, for cycle detection.
func (l *loader) readFile(path string, from *Pos, stack []string, included bool) {
	for i, p := range stack {
		if p == path {
			chain := make([]string, 0, len(stack)-i+1)
			for _, s := range stack[i:] {
				chain = append(chain, l.show(s))
			}
			chain = append(chain, l.show(path))
			l.problem(Problem{Pos: *from, Section: "global", Key: "include",
				Msg:  "include cycle: " + strings.Join(chain, " -> "),
				Hint: "remove one of these INCLUDE entries"})
			return
		}
	}
	if l.read[path] {
		return // included twice through different files: once is enough
	}
	data, err := readConfigFile(path)
	if err != nil {
		msg := fmt.Sprintf("cannot read include %s: %v", l.show(path), err)
		if errors.Is(err, fs.ErrNotExist) {
			msg = fmt.Sprintf("include %s not found", l.show(path))
		}
		l.problem(Problem{Pos: *from, Section: "global", Key: "include", Msg: msg})
		return
	}
	l.read[path] = true
	l.files = append(l.files, path)
	secs, probs, warns := parseFile(l.show(path), string(data))
	for _, w := range warns {
		l.warn(w)
	}
	for _, p := range probs {
		if p.Section != "" {
			p.Scope = headerScope(p.Section)
		}
		l.problem(p)
	}
	if included && isAWSSharedFile(secs) {
		l.mergeAWSShared(secs)
		return
	}
	var includes []rawValue
	for _, rs := range secs {
		warn, bad, ignored := classify(rs)
		if warn != nil {
			l.warn(*warn)
		}
		if bad != nil {
			l.problem(*bad)
		}
		if ignored {
			continue
		}
		l.merge(rs)
		if rs.Kind == KindGlobal {
			if v, ok := rs.Keys["include"]; ok {
				includes = append(includes, v)
			}
		}
	}
	for _, inc := range includes {
		for _, item := range splitList(inc.Value) {
			if strings.Contains(item, "://") {
				l.problem(Problem{Pos: inc.Pos, Section: "global", Key: "include",
					Msg:  fmt.Sprintf("include %s is a URL", item),
					Hint: "download it and include the local file; clusterctl reads configs from files only"})
				continue
			}
			p := l.env.ExpandPath(item)
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(path), p)
			}
			pos := inc.Pos
			l.readFile(filepath.Clean(p), &pos, append(stack, path), true)
		}
	}
}

// merge adds a classified section, merging keys into an earlier section of the same kind and
// name (later values win, as with ConfigParser).
func (l *loader) merge(rs *rawSection) {
	key := string(rs.Kind) + " " + rs.Name
	prev, ok := l.byKey[key]
	if !ok {
		l.byKey[key] = rs
		l.sections = append(l.sections, rs)
		return
	}
	for _, k := range rs.Order {
		prev.set(rs.Keys[k])
	}
}

// sectionLabel is how messages name a section: "cluster smallcluster", "global".
func sectionLabel(rs *rawSection) string {
	if rs.Kind.Named() {
		return string(rs.Kind) + " " + rs.Name
	}
	return string(rs.Kind)
}
