package config

import (
	"slices"
	"sort"
	"strings"
)

// Type is how a setting's text is read.
type Type int

// The setting types of the config language. Their text forms follow StarCluster's so its
// configs load unchanged.
const (
	String    Type = iota
	Int            // a whole number
	Float          // a decimal number
	Bool           // true/false, yes/no, on/off, 1/0
	List           // comma-separated, items trimmed
	Path           // a file path; ~ and $VAR expanded
	PathList       // comma-separated paths
	NodeTypes      // TYPE[:IMAGE][:COUNT], ..., TYPE (NODE_INSTANCE_TYPE)
)

func (t Type) String() string {
	return [...]string{"string", "integer", "number", "boolean", "list", "path", "path list",
		"instance types"}[t]
}

// Kind is a section kind: the first word of a section header.
type Kind string

// The section kinds. [vol NAME] is an alias of [volume NAME], as in StarCluster.
const (
	KindGlobal     Kind = "global"
	KindAWS        Kind = "aws info"
	KindKey        Kind = "key"
	KindCluster    Kind = "cluster"
	KindVolume     Kind = "volume"
	KindPlugin     Kind = "plugin"
	KindPermission Kind = "permission"
)

// Kinds returns the section kinds in the order the reference documents them.
func Kinds() []Kind {
	return []Kind{KindGlobal, KindAWS, KindKey, KindCluster, KindVolume, KindPermission, KindPlugin}
}

// Named reports whether sections of this kind carry a name ([cluster NAME]); [global] and
// [aws info] do not.
func (k Kind) Named() bool { return k != KindGlobal && k != KindAWS }

// Setting declares one key: its type, default, whether it is required, and what it means. The
// same declaration drives parsing, validation, `config init`, `config show` and the reference
// in the README, so they cannot disagree.
type Setting struct {
	Name string
	// Aliases are other names StarCluster's configs use for the key (PROTOCOL, which
	// StarCluster 0.93's template wrote, for IP_PROTOCOL); lower case.
	Aliases  []string
	Type     Type
	Default  string
	Required bool
	Choices  []string
	// Secret values are masked in every output.
	Secret bool
	// Ignored, when set, says why a StarCluster key no longer means anything; such keys load
	// with a one-line warning.
	Ignored string
	// Ours marks keys clusterctl added (StarCluster did not have them).
	Ours bool
	Doc  string
	// Example is shown in `config init` instead of the default, when set.
	Example string
	// Check is the exact pattern each value (each item of a list) must match, for values
	// that reach a shell or a system file (see values.go).
	Check Check
}

// Upper is the key as the docs and messages spell it.
func (s Setting) Upper() string { return strings.ToUpper(s.Name) }

// Schema is the settings of one section kind, looked up case-insensitively.
type Schema struct {
	Kind     Kind
	Doc      string
	Settings []Setting
}

// Lookup finds a setting by name, ignoring case.
func (s Schema) Lookup(name string) (Setting, bool) {
	name = strings.ToLower(name)
	for _, st := range s.Settings {
		if st.Name == name || slices.Contains(st.Aliases, name) {
			return st, true
		}
	}
	return Setting{}, false
}

// Names lists the settings' names, sorted.
func (s Schema) Names() []string {
	out := make([]string, 0, len(s.Settings))
	for _, st := range s.Settings {
		out = append(out, st.Name)
	}
	sort.Strings(out)
	return out
}

// SchemaFor returns the schema of a section kind. Plugin sections hold only SETUP_CLASS here;
// a plugin's own parameters come from its PluginSpec.
func SchemaFor(k Kind) Schema {
	switch k {
	case KindGlobal:
		return globalSchema()
	case KindAWS:
		return awsSchema()
	case KindKey:
		return keySchema()
	case KindCluster:
		return clusterSchema()
	case KindVolume:
		return volumeSchema()
	case KindPermission:
		return permissionSchema()
	case KindPlugin:
		return pluginSchema()
	}
	return Schema{Kind: k}
}
