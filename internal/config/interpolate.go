package config

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/ini.v1"
)

// Limits on %(name)s interpolation. Python's ConfigParser stops at a nesting depth of 10
// (MAX_INTERPOLATION_DEPTH); the length cap stops chains that double at every level
// (a = %(b)s%(b)s, b = %(c)s%(c)s, ...) long before they exhaust memory.
const (
	maxInterpolationDepth = 10
	maxValueLength        = 64 << 10
)

// refRE is a %(name)s reference, as ConfigParser's BasicInterpolation writes them.
var refRE = regexp.MustCompile(`%\(([^)]+)\)s`)

// interpolator expands the references of one section's values, each key once (memoized, so
// repeated references cost nothing), refusing cycles, deep nesting and oversized results
// instead of recursing without end as ini.v1 does (a %(a)s / %(b)s cycle there overflows the
// stack, which no recover can catch).
type interpolator struct {
	raw      map[string]string // lower-case key -> value as written
	done     map[string]string
	visiting []string
}

// newInterpolator takes a section's values as written.
func newInterpolator(sec *ini.Section) *interpolator {
	in := &interpolator{raw: map[string]string{}}
	for _, k := range sec.Keys() {
		in.raw[strings.ToLower(k.Name())] = k.Value()
	}
	return in
}

// interpolationError is why a value could not be expanded; the caller places it in a Problem.
type interpolationError struct{ msg, hint string }

func (e *interpolationError) Error() string { return e.msg }

// expand returns key's value with every reference to a key of the same section replaced;
// references to keys the section does not have stay as written.
func (in *interpolator) expand(key string) (string, error) {
	if v, ok := in.done[key]; ok {
		return v, nil
	}
	for i, k := range in.visiting {
		if k == key {
			chain := append(append([]string{}, in.visiting[i:]...), key)
			for j := range chain {
				chain[j] = "%(" + chain[j] + ")s"
			}
			return "", &interpolationError{msg: "interpolation cycle: " + strings.Join(chain, " -> "),
				hint: "a value cannot refer to itself, directly or through other keys"}
		}
	}
	if len(in.visiting) >= maxInterpolationDepth {
		return "", &interpolationError{msg: fmt.Sprintf("interpolation nested more than %d deep: %s", maxInterpolationDepth, strings.Join(in.visiting, " -> ")),
			hint: "refer to fewer keys in a chain"}
	}
	in.visiting = append(in.visiting, key)
	defer func() { in.visiting = in.visiting[:len(in.visiting)-1] }()
	val := in.raw[key]
	var b strings.Builder
	last := 0
	for _, m := range refRE.FindAllStringSubmatchIndex(val, -1) {
		name := strings.ToLower(strings.TrimSpace(val[m[2]:m[3]]))
		b.WriteString(val[last:m[0]])
		last = m[1]
		if _, ok := in.raw[name]; !ok {
			b.WriteString(val[m[0]:m[1]])
			continue
		}
		sub, err := in.expand(name)
		if err != nil {
			return "", err
		}
		if b.Len()+len(sub) > maxValueLength {
			return "", &interpolationError{msg: fmt.Sprintf("interpolation makes a value longer than %d KB", maxValueLength>>10),
				hint: "a chain of %(name)s references grows with every level; write the value out"}
		}
		b.WriteString(sub)
	}
	b.WriteString(val[last:])
	if b.Len() > maxValueLength {
		return "", &interpolationError{msg: fmt.Sprintf("value is longer than %d KB", maxValueLength>>10)}
	}
	if in.done == nil {
		in.done = map[string]string{}
	}
	in.done[key] = b.String()
	return in.done[key], nil
}
