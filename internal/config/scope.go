package config

import (
	"fmt"
	"sort"
	"strings"
)

// scopeDefault is the scope of a problem with DEFAULT_TEMPLATE: it matters when a command
// takes the default template, and to `config validate`.
const scopeDefault = "default template"

// resolution is what resolving one template found: its own problems and warnings and the
// sections it uses.
type resolution struct {
	errs, warns Problems
	uses        map[string]bool
}

// Report is what a config's problems mean for a command: Errors stop it, Warnings are worth a
// look. Elsewhere counts the problems of sections the checked template does not use, which
// stop nothing and are listed by `config validate` without -c.
type Report struct {
	Errors    Problems `json:"errors"`
	Warnings  Problems `json:"warnings"`
	Elsewhere int      `json:"elsewhere,omitempty"`
}

// Err returns the errors as an error, or nil.
func (r Report) Err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	return r.Errors
}

// Resolve resolves a template with command-line overrides (key → text, parsed like the file's
// values; an empty name means DEFAULT_TEMPLATE) and reports what stops it: its own problems,
// those of every section it uses (its EXTENDS chain, key, volumes, plugins, permissions,
// [aws info] unless it is local) and of the file and [global]. Problems of other sections are
// only counted. The template is nil when it cannot be resolved at all.
func (c *Config) Resolve(name string, overrides map[string]string) (*Template, Report, error) {
	if name == "" {
		name = c.Global.DefaultTemplate
		if name == "" {
			return nil, Report{}, &NoDefaultTemplateError{Templates: c.TemplateNames()}
		}
	}
	if c.raw[name] == nil {
		return nil, Report{}, &TemplateNotFoundError{Name: name, Templates: c.TemplateNames()}
	}
	t, res := c.resolve(name, overrides)
	rep := c.report(res.uses, false, res.errs, res.warns)
	rep.Elsewhere += c.othersProblems(name, rep)
	return t, rep, nil
}

// othersProblems counts the problems of the other templates that this report does not hold
// already (an inherited one is reported with the template that inherits it).
func (c *Config) othersProblems(name string, rep Report) int {
	reported := map[string]bool{}
	for _, list := range []Problems{rep.Errors, rep.Warnings} {
		for _, p := range list {
			reported[p.Error()] = true
		}
	}
	others := map[string]bool{}
	for n, res := range c.resolved {
		if n == name {
			continue
		}
		for _, list := range []Problems{res.errs, res.warns} {
			for _, p := range list {
				if !reported[p.Error()] {
					others[p.Error()] = true
				}
			}
		}
	}
	return len(others)
}

// Check reports the problems of one template (see Resolve), or with name "" of the whole
// config as `config validate` lists them: errors for every section some template uses, for
// every template, [global], DEFAULT_TEMPLATE and (unless every template is local) [aws info];
// warnings for the rest.
func (c *Config) Check(name string) Report {
	if name != "" {
		_, rep, err := c.Resolve(name, nil)
		if err != nil {
			p := Problem{Pos: Pos{File: c.displayPath(c.Path)}, Msg: err.Error(), Scope: "cluster " + name}
			rep.Errors = append(rep.Errors, p)
		}
		return rep
	}
	uses := map[string]bool{scopeDefault: true}
	var errs, warns Problems
	allLocal := len(c.resolved) > 0
	for _, n := range sortedKeys(c.resolved) {
		res := c.resolved[n]
		for s := range res.uses {
			uses[s] = true
		}
		errs = append(errs, res.errs...)
		warns = append(warns, res.warns...)
		if t := c.Clusters[n]; t == nil || t.Provider != "local" {
			allLocal = false
		}
	}
	if !allLocal {
		uses["aws info"] = true
	}
	return c.report(uses, true, errs, warns)
}

// report splits the load's problems by the scopes in use and adds a resolution's own. For the
// whole config (all) the problems of unused sections are listed as warnings; for one template
// they are only counted.
func (c *Config) report(uses map[string]bool, all bool, errs, warns Problems) Report {
	used := func(scope string) bool { return scope == "" || scope == "global" || uses[scope] }
	var r Report
	r.Errors = append(r.Errors, errs...)
	r.Warnings = append(r.Warnings, warns...)
	for _, p := range c.problems {
		switch {
		case used(p.Scope):
			r.Errors = append(r.Errors, p)
		case all:
			p.Hint = joinHint(p.Hint, unusedNote(p.Scope))
			r.Warnings = append(r.Warnings, p)
		default:
			r.Elsewhere++
		}
	}
	for _, p := range c.warnings {
		switch {
		case used(p.Scope) || all:
			r.Warnings = append(r.Warnings, p)
		default:
			r.Elsewhere++
		}
	}
	r.Errors, r.Warnings = r.Errors.sorted(), r.Warnings.sorted()
	return r
}

// unusedNote says why a problem of an unused section stops nothing.
func unusedNote(scope string) string {
	if strings.HasPrefix(scope, "unknown section ") {
		return "the section is not read"
	}
	return fmt.Sprintf("no template uses [%s], so this stops nothing", scope)
}

func joinHint(hint, more string) string {
	if hint == "" {
		return more
	}
	return hint + "; " + more
}

// AWSProblems are the errors of [aws info], which stop every command that talks to EC2.
func (c *Config) AWSProblems() Problems {
	return c.problems.inScopes(map[string]bool{"aws info": true})
}

// GlobalWarnings are the warnings about the file itself and [global], which every command
// shows; a template's own warnings come with Resolve.
func (c *Config) GlobalWarnings() Problems {
	return c.warnings.inScopes(map[string]bool{"": true, "global": true})
}

// inScopes keeps the problems of the given scopes.
func (ps Problems) inScopes(scopes map[string]bool) Problems {
	var out Problems
	for _, p := range ps {
		if scopes[p.Scope] {
			out = append(out, p)
		}
	}
	return out
}

// usesOf lists the scopes a resolved template depends on.
func usesOf(chain []*rawSection, t *Template) map[string]bool {
	uses := map[string]bool{}
	for _, rs := range chain {
		uses[sectionLabel(rs)] = true
	}
	if t == nil {
		return uses
	}
	if t.Provider != "local" {
		uses["aws info"] = true
	}
	if t.KeyName != "" {
		uses["key "+t.KeyName] = true
	}
	for kind, names := range map[Kind][]string{KindVolume: t.VolumeNames, KindPlugin: t.PluginNames, KindPermission: t.PermissionNames} {
		for _, n := range names {
			uses[string(kind)+" "+n] = true
		}
	}
	return uses
}

// displayPath is a path as messages show it.
func (c *Config) displayPath(p string) string { return displayPath(p, c.env.Cwd, c.env.Home) }

// typeSet turns a list of instance types into a set; nil when empty.
func typeSet(types []string) map[string]bool {
	if len(types) == 0 {
		return nil
	}
	out := make(map[string]bool, len(types))
	for _, t := range types {
		out[t] = true
	}
	return out
}

// knownTypes lists a type set, sorted, for suggestions.
func knownTypes(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
