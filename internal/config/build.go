package config

import (
	"cmp"
	"fmt"
	"sort"
	"strings"
)

// build types every section, resolves templates and runs the checks, collecting problems.
func (l *loader) build() *Config {
	cfg := &Config{
		Files: l.files, Keys: map[string]*Key{}, Clusters: map[string]*Template{},
		Volumes: map[string]*Volume{}, Plugins: map[string]*Plugin{}, Permissions: map[string]*Permission{},
		raw: map[string]*rawSection{}, catalog: l.catalog, env: l.env,
	}
	cfg.AWS.Sources = map[string]Pos{}
	cfg.sections = map[string]bool{}
	for key := range l.byKey {
		cfg.sections[key] = true
	}
	sawGlobal, sawAWS := false, false
	for _, rs := range l.sections {
		switch rs.Kind {
		case KindGlobal:
			sawGlobal = true
			l.decode(rs, SchemaFor(KindGlobal), &cfg.Global, nil)
		case KindAWS:
			sawAWS = true
			l.applyAWSEnv(rs)
			l.decode(rs, SchemaFor(KindAWS), &cfg.AWS, cfg.AWS.Sources)
		case KindKey:
			k := &Key{Name: rs.Name, Sources: map[string]Pos{}}
			l.decode(rs, SchemaFor(KindKey), k, k.Sources)
			cfg.Keys[rs.Name] = k
		case KindVolume:
			v := &Volume{Name: rs.Name, Sources: map[string]Pos{}}
			l.decode(rs, SchemaFor(KindVolume), v, v.Sources)
			l.checkVolume(rs, v)
			cfg.Volumes[rs.Name] = v
		case KindPermission:
			p := &Permission{Name: rs.Name, Sources: map[string]Pos{}}
			if l.decodeOK(rs, SchemaFor(KindPermission), p, p.Sources) {
				l.checkPermission(rs, p)
			}
			cfg.Permissions[rs.Name] = p
		case KindPlugin:
			if p := l.plugin(rs); p != nil {
				cfg.Plugins[rs.Name] = p
			}
		case KindCluster:
			cfg.raw[rs.Name] = rs
		}
	}
	if !sawGlobal {
		l.decode(&rawSection{Kind: KindGlobal, Keys: map[string]rawValue{}}, SchemaFor(KindGlobal), &cfg.Global, nil)
	}
	if !sawAWS {
		rs := &rawSection{Kind: KindAWS, Header: "aws info", Keys: map[string]rawValue{}}
		l.applyAWSEnv(rs)
		l.decode(rs, SchemaFor(KindAWS), &cfg.AWS, cfg.AWS.Sources)
	}
	l.checkAWS(cfg)
	for _, name := range sortedKeys(cfg.raw) {
		t, probs, warns := cfg.resolveWarn(name, nil)
		l.probs = append(l.probs, probs...)
		l.warns = append(l.warns, warns...)
		if t != nil {
			cfg.Clusters[name] = t
		}
	}
	if d := cfg.Global.DefaultTemplate; d != "" && cfg.raw[d] == nil {
		pos := l.byKey["global "].Keys["default_template"].Pos
		l.problem(Problem{Pos: pos, Section: "global", Key: "default_template",
			Msg:  fmt.Sprintf("DEFAULT_TEMPLATE names template %s, which has no [cluster %s] section", d, d),
			Hint: didYouMean("[cluster %s]", d, sortedKeys(cfg.raw))})
	}
	cfg.Warnings = l.warns.sorted()
	return cfg
}

// decode types a section's settings into dst by schema: unknown keys are errors (with the
// nearest known key as a suggestion), ignored StarCluster keys are warnings, defaults fill what is
// unset, and missing required keys are errors. sources, when given, records each value's origin.
func (l *loader) decode(rs *rawSection, schema Schema, dst any, sources map[string]Pos) {
	label := sectionLabel(rs)
	for _, k := range rs.Order {
		v := rs.Keys[k]
		st, ok := schema.Lookup(k)
		if !ok {
			p := unknownKey(rs, schema, v)
			p.Section = cmp.Or(v.Section, p.Section)
			l.problem(p)
			continue
		}
		if st.Ignored != "" {
			l.warn(Problem{Pos: v.Pos, Section: cmp.Or(v.Section, label), Key: k, Msg: st.Upper() + " is ignored", Hint: st.Ignored})
			continue
		}
		val, msg := parseValue(st, v.Value, l.env)
		if msg != "" {
			if l.failed == nil {
				l.failed = map[string]bool{}
			}
			l.failed[st.Name] = true
			where := label
			if v.Section != "" {
				where = v.Section
			}
			l.problem(Problem{Pos: v.Pos, Section: where, Key: k, Msg: msg})
			continue
		}
		setField(dst, st.Name, val)
		if sources != nil {
			sources[st.Name] = v.Pos
		}
	}
	l.defaults(rs, schema, dst, sources)
}

// decodeOK is decode, reporting whether the section typed without problems (further checks of
// its values only make sense then).
func (l *loader) decodeOK(rs *rawSection, schema Schema, dst any, sources map[string]Pos) bool {
	before := len(l.probs)
	l.decode(rs, schema, dst, sources)
	return len(l.probs) == before
}

// defaults fills unset settings with their defaults and reports missing required ones.
func (l *loader) defaults(rs *rawSection, schema Schema, dst any, sources map[string]Pos) {
	for _, st := range schema.Settings {
		if _, set := rs.Keys[st.Name]; set || st.Ignored != "" {
			continue
		}
		if st.Required {
			hint := ""
			if st.Example != "" {
				hint = fmt.Sprintf("add %s = %s", st.Upper(), st.Example)
			}
			l.problem(Problem{Pos: rs.Pos, Section: sectionLabel(rs), Key: st.Name,
				Msg: "missing required key " + st.Upper(), Hint: hint})
			continue
		}
		if st.Default == "" {
			continue
		}
		val, _ := parseValue(st, st.Default, l.env)
		setField(dst, st.Name, val)
		if sources != nil {
			sources[st.Name] = Pos{File: "default"}
		}
	}
}

// unknownKey explains an undeclared key: the nearest key of this section kind, or the kind of
// section the key belongs to.
func unknownKey(rs *rawSection, schema Schema, v rawValue) Problem {
	p := Problem{Pos: v.Pos, Section: sectionLabel(rs), Key: strings.ToLower(v.Name),
		Msg: "unknown key " + strings.ToUpper(v.Name)}
	if s := suggest(v.Name, schema.Names()); s != "" {
		p.Hint = "did you mean " + strings.ToUpper(s) + "?"
		return p
	}
	for _, k := range Kinds() {
		if k == schema.Kind {
			continue
		}
		if _, ok := SchemaFor(k).Lookup(v.Name); ok {
			where := "[" + string(k) + "]"
			if k.Named() {
				where = "a [" + string(k) + " NAME] section"
			}
			p.Hint = fmt.Sprintf("%s belongs in %s", strings.ToUpper(v.Name), where)
			return p
		}
	}
	if len(schema.Settings) > 0 {
		p.Hint = "known keys here: " + strings.ToUpper(strings.Join(schema.Names(), ", "))
	}
	return p
}

// didYouMean formats "did you mean X?" for the closest candidate, or "" when none is close.
func didYouMean(format, word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return "did you mean " + fmt.Sprintf(format, s) + "?"
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
