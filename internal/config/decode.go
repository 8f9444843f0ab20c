package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// Env is what the loader reads from the process: environment variables (for $VAR expansion and
// [aws info] overrides), the home directory (for ~) and the working directory (for messages).
// Tests pass their own so they never depend on the machine.
type Env struct {
	Lookup func(string) (string, bool)
	Home   string
	Cwd    string
}

// OSEnv is the real process environment.
func OSEnv() Env {
	home, _ := os.UserHomeDir()
	cwd, _ := os.Getwd()
	return Env{Lookup: os.LookupEnv, Home: home, Cwd: cwd}
}

func (e Env) lookup(name string) (string, bool) {
	if e.Lookup == nil {
		return "", false
	}
	return e.Lookup(name)
}

// ExpandPath expands a leading ~ and $VAR / ${VAR} references; unset variables are left as
// written, as Python's os.path.expandvars did.
func (e Env) ExpandPath(p string) string {
	p = os.Expand(p, func(name string) string {
		if v, ok := e.lookup(name); ok {
			return v
		}
		return "${" + name + "}"
	})
	if p == "~" {
		return e.Home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(e.Home, p[2:])
	}
	return p
}

// parseValue reads one setting's text as its declared type. The error is a sentence about the
// value, ready to be placed in a Problem.
func parseValue(s Setting, text string, env Env) (any, string) {
	text = strings.TrimSpace(text)
	var v any
	switch s.Type {
	case String:
		v = text
	case Int:
		n, err := strconv.Atoi(text)
		if err != nil {
			return nil, fmt.Sprintf("%s must be a whole number, got %q", s.Upper(), text)
		}
		v = n
	case Float:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Sprintf("%s must be a number, got %q", s.Upper(), text)
		}
		v = f
	case Bool:
		b, ok := parseBool(text)
		if !ok {
			return nil, fmt.Sprintf("%s must be true or false (or yes/no, on/off, 1/0), got %q", s.Upper(), text)
		}
		v = b
	case List:
		v = splitList(text)
	case Path:
		v = env.ExpandPath(text)
	case PathList:
		items := splitList(text)
		for i := range items {
			items[i] = env.ExpandPath(items[i])
		}
		v = items
	case NodeTypes:
		specs, msg := parseNodeTypes(text)
		if msg != "" {
			return nil, msg
		}
		v = specs
	}
	if msg := checkValue(s, v); msg != "" {
		return nil, msg
	}
	if len(s.Choices) > 0 {
		str, _ := v.(string)
		ok := false
		for _, c := range s.Choices {
			if strings.EqualFold(c, str) {
				ok, v = true, c
			}
		}
		if !ok {
			return nil, fmt.Sprintf("%s must be one of %s, got %q", s.Upper(), strings.Join(s.Choices, ", "), text)
		}
	}
	return v, ""
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// instanceTypeRE accepts EC2 types (m5.large) and local ones (small); the provider, not a
// hard-coded list, decides which exist.
var instanceTypeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)?$`)

// parseNodeTypes reads `TYPE[:IMAGE][:COUNT], ..., TYPE`. As in StarCluster, TYPE:X is a count
// when X is a number and an image otherwise, and the last item must be a plain type.
func parseNodeTypes(text string) ([]InstanceSpec, string) {
	items := splitList(text)
	if len(items) == 0 {
		return nil, "NODE_INSTANCE_TYPE is empty"
	}
	out := make([]InstanceSpec, 0, len(items))
	for i, item := range items {
		parts := strings.Split(item, ":")
		last := i == len(items)-1
		if last && len(parts) != 1 {
			return nil, fmt.Sprintf("the last NODE_INSTANCE_TYPE item must be a plain instance type (it covers the remaining workers), got %q", item)
		}
		if len(parts) > 3 {
			return nil, fmt.Sprintf("NODE_INSTANCE_TYPE item %q has too many parts; write TYPE:IMAGE:COUNT", item)
		}
		spec := InstanceSpec{Type: strings.TrimSpace(parts[0])}
		if !last {
			spec.Count = 1
		}
		switch len(parts) {
		case 2:
			if n, err := strconv.Atoi(strings.TrimSpace(parts[1])); err == nil {
				spec.Count = n
			} else {
				spec.Image = strings.TrimSpace(parts[1])
			}
		case 3:
			spec.Image = strings.TrimSpace(parts[1])
			n, err := strconv.Atoi(strings.TrimSpace(parts[2]))
			if err != nil {
				return nil, fmt.Sprintf("NODE_INSTANCE_TYPE item %q: count %q must be a whole number", item, parts[2])
			}
			spec.Count = n
		}
		if !instanceTypeRE.MatchString(spec.Type) {
			return nil, fmt.Sprintf("NODE_INSTANCE_TYPE item %q: %q is not an instance type name", item, spec.Type)
		}
		if !last && spec.Count < 1 {
			return nil, fmt.Sprintf("NODE_INSTANCE_TYPE item %q: count must be at least 1", item)
		}
		out = append(out, spec)
	}
	return out, ""
}

// setField stores a parsed value in the field of dst (a struct pointer) tagged `ini:"name"`.
// It reports false when no field carries that tag.
func setField(dst any, name string, v any) bool {
	rv := reflect.ValueOf(dst).Elem()
	rt := rv.Type()
	for i := range rt.NumField() {
		if rt.Field(i).Tag.Get("ini") != name {
			continue
		}
		f := rv.Field(i)
		val := reflect.ValueOf(v)
		switch {
		case f.Kind() == reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			p.Elem().Set(val.Convert(f.Type().Elem()))
			f.Set(p)
		default:
			f.Set(val.Convert(f.Type()))
		}
		return true
	}
	return false
}

// getField reads the field of src (a struct pointer) tagged `ini:"name"`, dereferencing
// pointers; ok is false when there is no such field or the pointer is nil.
func getField(src any, name string) (any, bool) {
	rv := reflect.ValueOf(src).Elem()
	rt := rv.Type()
	for i := range rt.NumField() {
		if rt.Field(i).Tag.Get("ini") != name {
			continue
		}
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				return nil, false
			}
			f = f.Elem()
		}
		return f.Interface(), true
	}
	return nil, false
}

func isZero(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		return rv.Len() == 0
	case reflect.String:
		return rv.Len() == 0
	case reflect.Int:
		return rv.Int() == 0
	}
	return false
}

// FieldTags lists the `ini` tags of a struct pointer's fields, for the test that keeps schema and
// structs in step.
func FieldTags(v any) []string {
	rt := reflect.TypeOf(v).Elem()
	var out []string
	for i := range rt.NumField() {
		if tag := rt.Field(i).Tag.Get("ini"); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}
