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
// because ini.v1 does not keep line numbers.
func parseFile(file, text string) ([]*rawSection, Problems) {
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
		return nil, append(probs, Problem{Pos: Pos{File: file}, Msg: fmt.Sprintf("cannot parse: %v", err)})
	}
	var out []*rawSection
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
		if interp[name] == nil {
			interp[name] = newInterpolator(sec)
		}
		val, err := interp[name].expand(strings.ToLower(sl.Key))
		if err != nil {
			ie := err.(*interpolationError)
			probs = append(probs, Problem{Pos: Pos{file, sl.Line}, Section: sl.Section, Key: sl.Key, Msg: ie.msg, Hint: ie.hint})
			continue
		}
		rs.set(rawValue{Name: sl.Key, Value: trimLines(val), Pos: Pos{file, sl.Line}})
	}
	return out, probs
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

// classify fills a section's Kind and Name from its header, or explains why it cannot.
func classify(rs *rawSection) *Problem {
	words := strings.Fields(rs.Header)
	first := strings.ToLower(words[0])
	var kind Kind
	nameWords := words[1:]
	switch {
	case first == "global":
		kind = KindGlobal
	case first == "aws" && len(words) >= 2 && strings.EqualFold(words[1], "info"):
		kind, nameWords = KindAWS, words[2:]
	case first == "vol" || first == "volume":
		kind = KindVolume
	case first == "key" || first == "cluster" || first == "plugin" || first == "permission":
		kind = Kind(first)
	default:
		p := &Problem{Pos: rs.Pos, Msg: fmt.Sprintf("unknown section [%s]", rs.Header),
			Hint: "sections are [global], [aws info], [key NAME], [cluster NAME], [volume NAME], [plugin NAME] and [permission NAME]"}
		cands := []string{"global", "aws info", "key", "cluster", "volume", "vol", "plugin", "permission"}
		if s := suggest(first, cands); s != "" {
			p.Hint = "did you mean [" + strings.TrimSpace(s+" "+strings.Join(words[1:], " ")) + "]?"
		}
		return p
	}
	rs.Kind = kind
	switch {
	case !kind.Named() && len(nameWords) > 0:
		return &Problem{Pos: rs.Pos, Msg: fmt.Sprintf("section [%s] takes no name", rs.Header),
			Hint: fmt.Sprintf("write [%s]", kind)}
	case kind.Named() && len(nameWords) == 0:
		return &Problem{Pos: rs.Pos, Msg: fmt.Sprintf("section [%s] needs a name", rs.Header),
			Hint: fmt.Sprintf("write [%s NAME]", kind)}
	case kind.Named() && len(nameWords) > 1:
		return &Problem{Pos: rs.Pos, Msg: fmt.Sprintf("section name %q has spaces", strings.Join(nameWords, " ")),
			Hint: fmt.Sprintf("names are one word, e.g. [%s %s]", kind, strings.Join(nameWords, "-"))}
	}
	if kind.Named() {
		rs.Name = nameWords[0]
	}
	return nil
}

// trimLines trims every line of a multi-line value, as ConfigParser did with continuations.
func trimLines(v string) string {
	lines := strings.Split(v, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "\n")
}
