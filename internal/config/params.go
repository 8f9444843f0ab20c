package config

import "fmt"

// Params reads the typed parameters of a [plugin] section (plugins and scheduler entries alike),
// tolerating the forms a recorded template gives back
// (JSON numbers, lists as []any).
type Params map[string]any

// String returns a string parameter, or def.
func (p Params) String(name, def string) string {
	if v, ok := p[name].(string); ok {
		return v
	}
	return def
}

// Bool returns a boolean parameter, or def.
func (p Params) Bool(name string, def bool) bool {
	if v, ok := p[name].(bool); ok {
		return v
	}
	return def
}

// Int returns an integer parameter, or def.
func (p Params) Int(name string, def int) int {
	switch v := p[name].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return def
}

// List returns a list parameter.
func (p Params) List(name string) []string {
	switch v := p[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}
