package config

import (
	"fmt"
	"strings"
)

// TemplateNotFoundError is returned for a template name the config does not define.
type TemplateNotFoundError struct {
	Name      string
	Templates []string
}

func (e *TemplateNotFoundError) Error() string {
	msg := fmt.Sprintf("no cluster template %q in config", e.Name)
	if s := suggest(e.Name, e.Templates); s != "" {
		return msg + fmt.Sprintf("; did you mean %s?", s)
	}
	if len(e.Templates) > 0 {
		return msg + "; templates: " + strings.Join(e.Templates, ", ")
	}
	return msg + "; the config defines no [cluster NAME] section"
}

// NoDefaultTemplateError is returned when no template is named and [global] has no
// DEFAULT_TEMPLATE.
type NoDefaultTemplateError struct{ Templates []string }

func (e *NoDefaultTemplateError) Error() string {
	msg := "no template given and no DEFAULT_TEMPLATE in [global]"
	if len(e.Templates) > 0 {
		msg += fmt.Sprintf("; pass -c TEMPLATE (one of: %s)", strings.Join(e.Templates, ", "))
	}
	return msg
}

// TemplateNames lists the config's cluster templates, sorted.
func (c *Config) TemplateNames() []string { return sortedKeys(c.raw) }

// Template resolves a template with command-line overrides (key → text, parsed exactly like the
// file's values). An empty name means DEFAULT_TEMPLATE. It fails with the problems that stop
// this template (see Resolve); a plugin or volume it uses that did not load is one of them,
// so a template is never returned without part of what it asks for.
func (c *Config) Template(name string, overrides map[string]string) (*Template, error) {
	t, rep, err := c.Resolve(name, overrides)
	if err != nil {
		return nil, err
	}
	if err := rep.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// resolve merges the EXTENDS chain root first (a child's value replaces the parent's whole),
// applies overrides, types the result and checks it against the rest of the config.
func (c *Config) resolve(name string, overrides map[string]string) (*Template, resolution) {
	l := &loader{env: c.env, catalog: c.catalog, types: c.types, scope: "cluster " + name}
	chain, p := c.chain(name)
	if p != nil {
		p.Scope = l.scope
		return nil, resolution{errs: Problems{*p}, uses: map[string]bool{l.scope: true}}
	}
	child := chain[len(chain)-1]
	merged := &rawSection{Kind: KindCluster, Name: name, Header: child.Header, Pos: child.Pos, Keys: map[string]rawValue{}}
	for _, rs := range chain {
		for _, k := range rs.Order {
			v := rs.Keys[k]
			if rs != child {
				v.Section = sectionLabel(rs)
			}
			merged.set(v)
		}
	}
	for _, k := range sortedKeys(overrides) {
		merged.set(rawValue{Name: k, Value: overrides[k], Pos: Pos{File: "command line"}})
	}
	t := &Template{Name: name, Sources: map[string]Pos{}}
	l.decode(merged, SchemaFor(KindCluster), t, t.Sources)
	l.checkTemplate(c, merged, t)
	return t, resolution{errs: l.probs, warns: l.warns, uses: usesOf(chain, t)}
}

// chain returns the EXTENDS chain of a template, root first. A cycle is reported the same way
// from whichever template meets it (starting at its alphabetically first member), so it is
// listed once.
func (c *Config) chain(name string) ([]*rawSection, *Problem) {
	var walk []*rawSection // name first, then its parent, ...
	for cur := name; ; {
		for i, rs := range walk {
			if rs.Name == cur {
				return nil, cycleProblem(walk[i:])
			}
		}
		rs := c.raw[cur]
		walk = append(walk, rs)
		ext, ok := rs.Keys["extends"]
		if !ok {
			break
		}
		parent := strings.TrimSpace(ext.Value)
		if c.raw[parent] == nil {
			return nil, &Problem{Pos: ext.Pos, Section: sectionLabel(rs), Key: "extends",
				Msg:  fmt.Sprintf("EXTENDS names template %s, which has no [cluster %s] section", parent, parent),
				Hint: didYouMean("%s", parent, c.TemplateNames())}
		}
		cur = parent
	}
	chain := make([]*rawSection, len(walk))
	for i, rs := range walk {
		chain[len(walk)-1-i] = rs
	}
	return chain, nil
}

func cycleProblem(cyc []*rawSection) *Problem {
	first := 0
	for i, rs := range cyc {
		if rs.Name < cyc[first].Name {
			first = i
		}
	}
	cyc = append(append([]*rawSection{}, cyc[first:]...), cyc[:first]...)
	names := make([]string, 0, len(cyc)+1)
	for _, rs := range cyc {
		names = append(names, rs.Name)
	}
	names = append(names, cyc[0].Name)
	closing := cyc[len(cyc)-1]
	return &Problem{Pos: closing.Keys["extends"].Pos, Section: sectionLabel(closing), Key: "extends",
		Msg:  "EXTENDS cycle: " + strings.Join(names, " -> "),
		Hint: "a template cannot inherit from itself, directly or through others"}
}
