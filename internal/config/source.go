package config

import (
	"fmt"
	"strings"
	"unicode"

	"gopkg.in/ini.v1"
)

// rawValue is one setting as written, before it is typed.
type rawValue struct {
	Name  string // the key as written (any case)
	Value string
	Pos   Pos
	// Section is the section the value was written in, when it differs from the one holding
	// it (a template inheriting through EXTENDS).
	Section string
}

// rawSection is one section as written, merged across files when a header repeats (a later file
// or a later duplicate wins per key, as with Python's ConfigParser).
type rawSection struct {
	Kind   Kind
	Name   string // the second word of the header; "" for [global] and [aws info]
	Header string // the header as written, whitespace-normalized
	Pos    Pos
	Keys   map[string]rawValue // by lower-case key
	Order  []string            // lower-case keys in first-seen order
}

func (s *rawSection) set(v rawValue) {
	k := strings.ToLower(v.Name)
	if _, ok := s.Keys[k]; !ok {
		s.Order = append(s.Order, k)
	}
	s.Keys[k] = v
}

// lookup finds a setting's value, written under its name or one of its aliases.
func (s *rawSection) lookup(st Setting) (rawValue, bool) {
	if v, ok := s.Keys[st.Name]; ok {
		return v, true
	}
	for _, a := range st.Aliases {
		if v, ok := s.Keys[a]; ok {
			return v, true
		}
	}
	return rawValue{}, false
}

// has reports whether a setting is written with a value (an empty value leaves it unset).
func (s *rawSection) has(st Setting) bool {
	v, ok := s.lookup(st)
	return ok && strings.TrimSpace(v.Value) != ""
}

// scannedLine is a key or section header found by scan, with its line number.
type scannedLine struct {
	Line    int
	Header  string // set for a section header
	Key     string // set for a key line
	Section string // the header the key belongs to
}

// scan reads a file's lines the way StarCluster's parser did: `;` and `#` start comment lines, a
// `#` preceded by whitespace starts an inline comment, a line starting with whitespace continues
// the previous value. It returns the text with inline `#` comments removed (what ini.v1 parses),
// where each section and key is, and lines that cannot be read.
func scan(file, text string) (clean string, found []scannedLine, probs Problems) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	header, lastKey := "", ""
	for i, line := range lines {
		n := i + 1
		if p := strings.IndexByte(line, '#'); p > 0 && unicode.IsSpace(rune(line[p-1])) {
			line = strings.TrimRightFunc(line[:p], unicode.IsSpace)
			lines[i] = line
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || line[0] == '#' || line[0] == ';':
			continue
		case unicode.IsSpace(rune(line[0])) && lastKey != "":
			continue // continuation of lastKey's value
		case strings.HasPrefix(trimmed, "["):
			end := strings.IndexByte(trimmed, ']')
			h := ""
			if end > 0 {
				h = strings.Join(strings.Fields(trimmed[1:end]), " ")
			}
			if h == "" {
				probs = append(probs, Problem{Pos: Pos{file, n}, Msg: fmt.Sprintf("malformed section header %q", trimmed),
					Hint: "write it as [kind NAME], e.g. [cluster smallcluster]"})
				header, lastKey = "", ""
				lines[i] = ""
				continue
			}
			header, lastKey = h, ""
			found = append(found, scannedLine{Line: n, Header: h})
		default:
			d := strings.IndexAny(trimmed, "=:")
			if d <= 0 {
				probs = append(probs, Problem{Pos: Pos{file, n}, Section: header,
					Msg: fmt.Sprintf("cannot read line %q", trimmed), Hint: "settings are written KEY = VALUE"})
				lines[i] = ""
				continue
			}
			if header == "" {
				probs = append(probs, Problem{Pos: Pos{file, n},
					Msg:  fmt.Sprintf("setting %s comes before any [section]", strings.TrimSpace(trimmed[:d])),
					Hint: "put it under the section it belongs to, e.g. [global]"})
				lines[i] = ""
				continue
			}
			lastKey = strings.ToLower(strings.TrimSpace(trimmed[:d]))
			lines[i] = trimmed // ini.v1 would take an indented key for a continuation
			found = append(found, scannedLine{Line: n, Key: lastKey, Section: header})
		}
	}
	return strings.Join(lines, "\n"), found, probs
}

// parseFile turns one file's text into raw sections. Values come from ini.v1 (continuations,
// `;` inline comments after whitespace, as Python's ConfigParser did), %(name)s references are
// expanded by interpolator (bounded, unlike ini.v1's own), and positions come from scan,
// because ini.v1 does not keep line numbers. A key written twice in one section is a warning:
// the later value counts, as it did for ConfigParser, which is seldom what the writer meant.
func parseFile(file, text string) ([]*rawSection, Problems, Problems) {
	clean, found, probs := scan(file, text)
	f, err := ini.LoadSources(ini.LoadOptions{
		InsensitiveKeys:            true,
		AllowPythonMultilineValues: true,
		SpaceBeforeInlineComment:   true,
		PreserveSurroundedQuote:    true,
		KeyValueDelimiters:         "=:",
		ChildSectionDelimiter:      "\x00",
		AllowBooleanKeys:           false,
	}, []byte(clean))
	if err != nil {
		return nil, append(probs, Problem{Pos: Pos{File: file}, Msg: fmt.Sprintf("cannot parse: %v", err)}), nil
	}
	var out []*rawSection
	var warns Problems
	byHeader := map[string]*rawSection{}
	interp := map[string]*interpolator{}
	for _, sl := range found {
		if sl.Header != "" {
			if _, ok := byHeader[sl.Header]; !ok {
				rs := &rawSection{Header: sl.Header, Pos: Pos{file, sl.Line}, Keys: map[string]rawValue{}}
				byHeader[sl.Header] = rs
				out = append(out, rs)
			}
			continue
		}
		rs := byHeader[sl.Section]
		name := iniSectionName(f, sl.Section)
		sec, err := f.GetSection(name)
		if err != nil || !sec.HasKey(sl.Key) {
			continue
		}
		if prev, ok := rs.Keys[sl.Key]; ok {
			warns = append(warns, Problem{Pos: Pos{file, sl.Line}, Section: sl.Section, Key: sl.Key, Scope: headerScope(sl.Section),
				Msg:  fmt.Sprintf("%s is set again (first at line %d)", strings.ToUpper(sl.Key), prev.Pos.Line),
				Hint: "this later value is used; remove one of the two lines"})
		}
		if interp[name] == nil {
			interp[name] = newInterpolator(sec)
		}
		val, err := interp[name].expand(strings.ToLower(sl.Key))
		if err != nil {
			ie := err.(*interpolationError)
			probs = append(probs, Problem{Pos: Pos{file, sl.Line}, Section: sl.Section, Key: sl.Key, Scope: headerScope(sl.Section),
				Msg: ie.msg, Hint: ie.hint})
			continue
		}
		rs.set(rawValue{Name: sl.Key, Value: trimLines(val), Pos: Pos{file, sl.Line}})
	}
	return out, probs, warns
}

// iniSectionName maps a whitespace-normalized header back to the name ini.v1 stored.
func iniSectionName(f *ini.File, header string) string {
	for _, name := range f.SectionStrings() {
		if strings.Join(strings.Fields(name), " ") == header {
			return name
		}
	}
	return header
}

// classify fills a section's Kind and Name from its header the way StarCluster matched
// sections: by the prefix of the header ([keypair NAME] and [keys NAME] are key sections,
// [vol NAME] and [volumes NAME] volume sections, [plugins NAME] a plugin section), the name
// being the second word. It returns a warning for a section that loads but not as written (a
// name of several words) or that is ignored (an unknown kind, which StarCluster skipped too),
// and an error for a header no section can be read from; ignored reports the section is not
// loaded.
func classify(rs *rawSection) (warn, err *Problem, ignored bool) {
	words := strings.Fields(rs.Header)
	first := strings.ToLower(words[0])
	var kind Kind
	nameWords := words[1:]
	switch {
	case first == "global":
		kind = KindGlobal
	case first == "aws" && len(words) >= 2 && strings.EqualFold(words[1], "info"):
		kind, nameWords = KindAWS, words[2:]
	case strings.HasPrefix(first, "vol"):
		kind = KindVolume
	default:
		for _, k := range []Kind{KindKey, KindCluster, KindPlugin, KindPermission} {
			if strings.HasPrefix(first, string(k)) {
				kind = k
			}
		}
	}
	if kind == "" {
		p := &Problem{Pos: rs.Pos, Scope: "unknown section " + rs.Header,
			Msg:  fmt.Sprintf("unknown section [%s] is ignored", rs.Header),
			Hint: "sections are [global], [aws info], [key NAME], [cluster NAME], [volume NAME], [plugin NAME] and [permission NAME]"}
		cands := []string{"global", "aws info", "key", "cluster", "volume", "vol", "plugin", "permission"}
		if s := suggest(first, cands); s != "" {
			p.Hint = "did you mean [" + strings.TrimSpace(s+" "+strings.Join(words[1:], " ")) + "]?"
		}
		return p, nil, true
	}
	rs.Kind = kind
	switch {
	case !kind.Named() && len(nameWords) > 0:
		return &Problem{Pos: rs.Pos, Scope: "unknown section " + rs.Header,
			Msg:  fmt.Sprintf("section [%s] is ignored: [%s] takes no name", rs.Header, kind),
			Hint: fmt.Sprintf("write [%s]", kind)}, nil, true
	case kind.Named() && len(nameWords) == 0:
		return nil, &Problem{Pos: rs.Pos, Msg: fmt.Sprintf("section [%s] needs a name", rs.Header),
			Hint: fmt.Sprintf("write [%s NAME]", kind)}, true
	}
	if kind.Named() {
		rs.Name = nameWords[0]
	}
	if len(nameWords) > 1 {
		label := string(kind) + " " + rs.Name
		return &Problem{Pos: rs.Pos, Scope: label,
			Msg:  fmt.Sprintf("section [%s] is read as [%s]: names are one word", rs.Header, label),
			Hint: fmt.Sprintf("write [%s %s] to keep the whole name", kind, strings.Join(nameWords, "-"))}, nil, false
	}
	return nil, nil, false
}

// headerScope is the scope of a problem found on a line of the section with this header.
func headerScope(header string) string {
	probe := &rawSection{Header: header}
	if _, _, ignored := classify(probe); ignored {
		return "unknown section " + header
	}
	return sectionLabel(probe)
}

// trimLines trims every line of a multi-line value, as ConfigParser did with continuations.
func trimLines(v string) string {
	lines := strings.Split(v, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "\n")
}
