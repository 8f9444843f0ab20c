package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Table is text output for people: named columns aligned with spaces. Scripts should ask for
// JSON instead (see Format), because column widths and header spelling are not a contract.
type Table struct {
	headers []string
	rows    [][]string
}

// NewTable returns a table with the given column headers, printed in upper case.
func NewTable(headers ...string) *Table {
	return &Table{headers: headers}
}

// AddRow appends a row. Missing trailing cells print empty; extra cells print unheaded, which
// keeps a caller's mistake visible instead of silently dropping data.
func (t *Table) AddRow(cells ...string) {
	t.rows = append(t.rows, cells)
}

// Len returns the number of rows, so callers can print "no clusters" instead of a bare header.
func (t *Table) Len() int {
	return len(t.rows)
}

// Render writes the header and rows to w, aligned with text/tabwriter. Short rows are padded
// so they stay in the column block, trailing spaces are trimmed, and tabs and newlines in cells
// become spaces since they would break the alignment. Pass Streams.SafeOut as w.
func (t *Table) Render(w io.Writer) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	header := make([]string, len(t.headers))
	for i, h := range t.headers {
		header[i] = strings.ToUpper(h)
	}
	writeRow(tw, header, len(t.headers))
	for _, row := range t.rows {
		writeRow(tw, row, len(t.headers))
	}
	_ = tw.Flush() // writes to a bytes.Buffer cannot fail

	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// writeRow writes one tab-separated line of at least width cells; tabwriter only aligns a
// column across consecutive lines that all have a cell in it.
func writeRow(w io.Writer, cells []string, width int) {
	flatten := strings.NewReplacer("\t", " ", "\r", " ", "\n", " ")
	clean := make([]string, max(len(cells), width))
	for i, c := range cells {
		clean[i] = flatten.Replace(c)
	}
	_, _ = io.WriteString(w, strings.Join(clean, "\t")+"\n") // buffered; see Render
}

// PrintJSON writes v as indented JSON followed by a newline. Map keys come out sorted, so the
// output is stable enough to diff, and HTML characters stay unescaped so values such as
// "<none>" read as written.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// Format selects how a command prints its data on stdout: text for people, JSON for scripts.
// It implements pflag.Value, so a command can bind it directly with Flags().Var.
type Format string

const (
	// FormatText prints aligned tables; the default.
	FormatText Format = "text"
	// FormatJSON prints indented JSON, the stable interface for scripts.
	FormatJSON Format = "json"
)

// ParseFormat parses an --output value. Case and surrounding space are ignored and an empty
// value means text; anything else is an error naming the accepted values.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "", FormatText:
		return FormatText, nil
	case FormatJSON:
		return FormatJSON, nil
	default:
		return "", fmt.Errorf("unknown output format %q: want %q or %q", s, FormatText, FormatJSON)
	}
}

// String returns the format's name, "text" for the zero value.
func (f Format) String() string {
	if f == "" {
		return string(FormatText)
	}
	return string(f)
}

// Set parses s into f, for pflag.
func (f *Format) Set(s string) error {
	parsed, err := ParseFormat(s)
	if err != nil {
		return err
	}
	*f = parsed
	return nil
}

// Type names the flag's value in help output, for pflag.
func (f *Format) Type() string {
	return "format"
}
