package config

import (
	"fmt"
	"strings"
)

// InitTemplate renders the commented config `config init` writes: every key of every section
// explained, with a working two-node template. It is generated from the schema, so a new key is
// documented here the moment it is declared.
func InitTemplate(plugins []PluginSpec) string {
	var b strings.Builder
	b.WriteString(`# clusterctl configuration.
#
# StarCluster config files load unchanged; keys are case-insensitive. Comments start with ; or #
# (an inline # needs a space before it). Lists are comma-separated. Booleans are true/false,
# yes/no, on/off or 1/0. Paths expand ~ and $VARS.
#
# Check it with:   clusterctl config validate
# See a template:  clusterctl config show -c smallcluster

`)
	active := map[Kind]string{KindGlobal: "", KindAWS: "", KindKey: "mykey", KindCluster: "smallcluster"}
	for _, k := range Kinds() {
		schema := SchemaFor(k)
		name, on := active[k]
		header := string(k)
		if k.Named() {
			if !on {
				name = "NAME"
			}
			header += " " + name
		}
		writeComment(&b, "", schema.Doc)
		if !on {
			b.WriteString("# ")
		}
		fmt.Fprintf(&b, "[%s]\n", header)
		for _, st := range schema.Settings {
			if st.Ignored != "" {
				continue
			}
			writeComment(&b, "", st.Upper()+": "+st.Doc+requiredNote(st))
			val := st.Example
			if val == "" {
				val = st.Default
			}
			prefix := "# "
			if on && st.Example != "" {
				prefix = ""
			}
			fmt.Fprintf(&b, "%s%s = %s\n", prefix, st.Upper(), val)
		}
		b.WriteString("\n")
	}
	b.WriteString("# Built-in plugins for SETUP_CLASS, with their parameters:\n")
	for _, p := range plugins {
		fmt.Fprintf(&b, "#   %s: %s\n", p.Name, p.Summary)
		for _, st := range p.Params {
			fmt.Fprintf(&b, "#       %s%s\n", st.Upper(), paramNote(st))
		}
	}
	return b.String()
}

func requiredNote(st Setting) string {
	switch {
	case st.Required:
		return " (required)"
	case st.Default != "":
		return " (default: " + st.Default + ")"
	}
	return ""
}

func paramNote(st Setting) string {
	note := ""
	if st.Required {
		note = " (required)"
	} else if st.Default != "" {
		note = " (default " + st.Default + ")"
	}
	return note + ": " + st.Doc
}

// writeComment wraps text at 96 columns as # comment lines.
func writeComment(b *strings.Builder, indent, text string) {
	line := indent + "#"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 96 {
			b.WriteString(line + "\n")
			line = indent + "#"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}

// Reference renders the config reference (Markdown) the README carries: every section, key,
// type, default and meaning, the keys that are accepted but ignored, and the built-in plugins.
func Reference(plugins []PluginSpec) string {
	var b strings.Builder
	for _, k := range Kinds() {
		schema := SchemaFor(k)
		header := string(k)
		if k.Named() {
			header += " NAME"
		}
		fmt.Fprintf(&b, "#### [%s]\n\n%s\n\n", header, schema.Doc)
		b.WriteString("| key | type | default | meaning |\n|---|---|---|---|\n")
		var ignored []Setting
		for _, st := range schema.Settings {
			if st.Ignored != "" {
				ignored = append(ignored, st)
				continue
			}
			fmt.Fprintf(&b, "| `%s`%s | %s | %s | %s |\n", st.Upper(), marks(st), st.Type, defaultCell(st), cell(st.Doc))
		}
		if len(ignored) > 0 {
			b.WriteString("\nAccepted with a warning and otherwise ignored:\n\n")
			for _, st := range ignored {
				fmt.Fprintf(&b, "- `%s`: %s.\n", st.Upper(), st.Ignored)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("#### Built-in plugins\n\n`SETUP_CLASS` takes the plugin's name or one of its StarCluster class paths (with or without the `starcluster.plugins.` prefix).\n\n")
	b.WriteString("| plugin | StarCluster class paths | parameters | what it does |\n|---|---|---|---|\n")
	for _, p := range plugins {
		params := make([]string, 0, len(p.Params))
		for _, st := range p.Params {
			params = append(params, "`"+st.Upper()+"`"+paramDefault(st))
		}
		aliases := make([]string, 0, len(p.Aliases))
		for _, a := range p.Aliases {
			aliases = append(aliases, "`"+a+"`")
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, strings.Join(aliases, ", "), strings.Join(params, ", "), cell(p.Summary))
	}
	b.WriteString("\n**bold** keys are required; keys marked † are clusterctl's own (StarCluster did not have them).\n")
	return b.String()
}

func marks(st Setting) string {
	m := ""
	if st.Required {
		m += " **required**"
	}
	if st.Ours {
		m += " †"
	}
	return m
}

func defaultCell(st Setting) string {
	if st.Default == "" {
		return ""
	}
	return "`" + st.Default + "`"
}

func paramDefault(st Setting) string {
	switch {
	case st.Required:
		return " (required)"
	case st.Default != "":
		return " = " + st.Default
	}
	return ""
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
