package ui

import (
	"errors"
	"strings"
	"testing"
)

func TestTableRender(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		rows    [][]string
		want    string
	}{
		{
			name:    "aligned with upper-case header",
			headers: []string{"name", "state", "nodes"},
			rows:    [][]string{{"mycluster", "running", "64"}, {"dev", "stopped", "2"}},
			want: "NAME       STATE    NODES\n" +
				"mycluster  running  64\n" +
				"dev        stopped  2\n",
		},
		{
			name:    "header only",
			headers: []string{"Name", "Zone"},
			want:    "NAME  ZONE\n",
		},
		{
			name:    "short row padded, control characters flattened",
			headers: []string{"id", "note", "zone"},
			rows:    [][]string{{"i-1"}, {"i-2", "a\tb\nc", "us-east-1a"}, {"i-3", "", ""}},
			want: "ID   NOTE   ZONE\n" +
				"i-1\n" +
				"i-2  a b c  us-east-1a\n" +
				"i-3\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := NewTable(tt.headers...)
			for _, r := range tt.rows {
				tb.AddRow(r...)
			}
			if tb.Len() != len(tt.rows) {
				t.Errorf("Len() = %d, want %d", tb.Len(), len(tt.rows))
			}
			var sb strings.Builder
			if err := tb.Render(&sb); err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got := sb.String(); got != tt.want {
				t.Errorf("Render =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestTableRenderError(t *testing.T) {
	errPipe := errors.New("broken pipe")
	tb := NewTable("a")
	tb.AddRow("1")
	if err := tb.Render(failWriter{errPipe}); !errors.Is(err, errPipe) {
		t.Errorf("Render error = %v, want one wrapping %v", err, errPipe)
	}
}

func TestPrintJSON(t *testing.T) {
	type node struct {
		Name  string `json:"name"`
		State string `json:"state"`
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"struct", node{"master", "<none>"}, "{\n  \"name\": \"master\",\n  \"state\": \"<none>\"\n}\n"},
		{"map keys sorted", map[string]int{"b": 2, "a": 1}, "{\n  \"a\": 1,\n  \"b\": 2\n}\n"},
		{"empty slice", []node{}, "[]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sb strings.Builder
			if err := PrintJSON(&sb, tt.v); err != nil {
				t.Fatalf("PrintJSON: %v", err)
			}
			if got := sb.String(); got != tt.want {
				t.Errorf("PrintJSON = %q, want %q", got, tt.want)
			}
		})
	}
	if err := PrintJSON(&strings.Builder{}, func() {}); err == nil || !strings.HasPrefix(err.Error(), "write json: ") {
		t.Errorf("PrintJSON(func) error = %v, want a wrapped encoding error", err)
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr string
	}{
		{"text", FormatText, ""},
		{"", FormatText, ""},
		{" JSON ", FormatJSON, ""},
		{"json", FormatJSON, ""},
		{"yaml", "", `unknown output format "yaml": want "text" or "json"`},
		{"tabl", "", `unknown output format "tabl": want "text" or "json"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseFormat(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatFlagValue(t *testing.T) {
	var f Format
	if f.String() != "text" || f.Type() != "format" {
		t.Errorf("zero Format: String() = %q, Type() = %q", f.String(), f.Type())
	}
	if err := f.Set("json"); err != nil || f != FormatJSON {
		t.Errorf("Set(json) = %v, f = %q", err, f)
	}
	if err := f.Set("xml"); err == nil || f != FormatJSON {
		t.Errorf("Set(xml) = %v, f = %q; want an error and f unchanged", err, f)
	}
}
