package config

import (
	"errors"
	"fmt"
	"strings"
)

// CheckDevice accepts the device names a volume can be attached as (/dev/sdf .. /dev/sdz).
func CheckDevice(s string) error {
	return match(deviceRE, s, "is not an attachable device name (/dev/sdf through /dev/sdz)")
}

// CheckRecordedValue checks a plugin parameter read back from a cluster's recorded template,
// where JSON gave it its type (numbers as float64, lists as []any), with the same rules as the
// config file: the declared type, the choices, one line, and the setting's Check for every
// text and list item.
func CheckRecordedValue(s Setting, v any) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s "+format, append([]any{s.Upper()}, args...)...)
	}
	switch s.Type {
	case Bool:
		if _, ok := v.(bool); !ok {
			return bad("must be true or false, got %T", v)
		}
		return nil
	case Int, Float:
		f, ok := v.(float64)
		if !ok {
			if _, isInt := v.(int); !isInt {
				return bad("must be a number, got %T", v)
			}
			return nil
		}
		if s.Type == Int && f != float64(int64(f)) {
			return bad("must be a whole number, got %v", f)
		}
		return nil
	case List, PathList:
		var items []string
		switch x := v.(type) {
		case []string:
			items = x
		case []any:
			for _, it := range x {
				str, ok := it.(string)
				if !ok {
					return bad("must be a list of text, got an item of type %T", it)
				}
				items = append(items, str)
			}
		default:
			return bad("must be a list, got %T", v)
		}
		for _, it := range items {
			if it == "" || it != strings.TrimSpace(it) || strings.Contains(it, ",") {
				return bad("item %q is not one list item", it)
			}
		}
		if msg := checkValue(s, items); msg != "" {
			return errors.New(msg)
		}
		return nil
	}
	str, ok := v.(string)
	if !ok {
		return bad("must be text, got %T", v)
	}
	if msg := checkValue(s, str); msg != "" {
		return errors.New(msg)
	}
	if len(s.Choices) > 0 {
		for _, c := range s.Choices {
			if strings.EqualFold(c, str) {
				return nil
			}
		}
		return bad("must be one of %s, got %q", strings.Join(s.Choices, ", "), str)
	}
	return nil
}
