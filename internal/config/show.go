package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Mask replaces secret values in every output.
const Mask = "****"

// Shown is one setting of a resolved template as `config show` prints it.
type Shown struct {
	Key    string `json:"key"`
	Value  any    `json:"value"`
	Source string `json:"source,omitempty"`
}

// ShownSection is a section referenced by the template (key, volume, plugin, permission).
type ShownSection struct {
	Section  string  `json:"section"`
	Settings []Shown `json:"settings"`
}

// View is the resolved template with everything it refers to, secrets masked: the stable shape
// of `config show --output json`.
type View struct {
	Template string         `json:"template"`
	Extends  []string       `json:"extends,omitempty"`
	Settings []Shown        `json:"settings"`
	Sections []ShownSection `json:"sections"`
	AWS      []Shown        `json:"aws"`
}

// View returns the template as `config show` presents it.
func (c *Config) View(t *Template) View {
	v := View{Template: t.Name, Settings: []Shown{}, Sections: []ShownSection{}, AWS: []Shown{}}
	if chain, p := c.chain(t.Name); p == nil {
		for _, rs := range chain[:len(chain)-1] {
			v.Extends = append(v.Extends, rs.Name)
		}
	}
	v.Settings = shownFields(SchemaFor(KindCluster), t, t.Sources)
	if t.Key != nil {
		v.Sections = append(v.Sections, ShownSection{Section: "key " + t.Key.Name, Settings: shownFields(SchemaFor(KindKey), t.Key, t.Key.Sources)})
	}
	for _, vol := range t.Volumes {
		v.Sections = append(v.Sections, ShownSection{Section: "volume " + vol.Name, Settings: shownFields(SchemaFor(KindVolume), vol, vol.Sources)})
	}
	for _, p := range t.Permissions {
		v.Sections = append(v.Sections, ShownSection{Section: "permission " + p.Name, Settings: shownFields(SchemaFor(KindPermission), p, p.Sources)})
	}
	for _, p := range t.Plugins {
		s := ShownSection{Section: "plugin " + p.Name, Settings: []Shown{{Key: "SETUP_CLASS", Value: p.SetupClass, Source: "built-in plugin " + p.Builtin}}}
		spec, _ := c.catalog.Lookup(p.SetupClass)
		for _, st := range spec.Params {
			if val, ok := p.Params[st.Name]; ok {
				s.Settings = append(s.Settings, Shown{Key: st.Upper(), Value: masked(st, val)})
			}
		}
		v.Sections = append(v.Sections, s)
	}
	v.AWS = shownFields(SchemaFor(KindAWS), &c.AWS, c.AWS.Sources)
	return v
}

// shownFields lists a struct's set settings in schema order, masking secrets.
func shownFields(schema Schema, src any, sources map[string]Pos) []Shown {
	out := []Shown{}
	for _, st := range schema.Settings {
		if st.Ignored != "" {
			continue
		}
		val, ok := getField(src, st.Name)
		if !ok || isZero(val) {
			continue
		}
		sh := Shown{Key: st.Upper(), Value: masked(st, val)}
		if p, ok := sources[st.Name]; ok {
			sh.Source = p.String()
		}
		out = append(out, sh)
	}
	return out
}

func masked(st Setting, v any) any {
	if st.Secret {
		return Mask
	}
	return v
}

// Text renders a shown value the way it would be written in the config file.
func Text(v any) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, ", ")
	case []InstanceSpec:
		parts := make([]string, len(x))
		for i, s := range x {
			p := []string{s.Type}
			if s.Image != "" {
				p = append(p, s.Image)
			}
			if s.Count > 0 {
				p = append(p, strconv.Itoa(s.Count))
			}
			parts[i] = strings.Join(p, ":")
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = k + "=" + Text(x[k])
		}
		return strings.Join(keys, " ")
	}
	return fmt.Sprint(v)
}
