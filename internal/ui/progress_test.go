package ui

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestProgress(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 4096)
	tests := []struct {
		name     string
		terminal bool
		total    int64
		desc     string
		want     []string // substrings of stderr; none means stderr must stay empty
		unwanted []string
	}{
		{name: "pipe is silent", total: 4096, desc: "upload"},
		{name: "pipe unknown total is silent", total: 0, desc: "upload"},
		{name: "terminal bar", terminal: true, total: 4096, desc: "upload plugin",
			want: []string{"upload plugin", "100%", "4.1 kB"}},
		{name: "terminal unknown total", terminal: true, total: -1, desc: "copy volume",
			want: []string{"copy volume", "4.1 kB"}, unwanted: []string{"%"}},
		{name: "terminal over total", terminal: true, total: 1000, desc: "short",
			want: []string{"short", "100%"}},
		{name: "description redacted", terminal: true, total: 4096, desc: "upload with token=abcdef",
			want: []string{"token=****"}, unwanted: []string{"abcdef"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, out, errOut := TestStreams()
			s.LookupEnv = mapEnv(map[string]string{"NO_COLOR": "1"})
			if tt.terminal {
				s.Terminal = TerminalAlways
			}
			p := NewProgress(s, tt.total, tt.desc)
			var dst bytes.Buffer
			n, err := io.Copy(io.MultiWriter(&dst, p), iotestChunks(payload, 1000))
			if err != nil || n != int64(len(payload)) {
				t.Fatalf("copy = %d, %v; want %d, nil", n, err, len(payload))
			}
			if err := p.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := p.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if p.Written() != int64(len(payload)) || dst.Len() != len(payload) {
				t.Errorf("Written() = %d, dst has %d; want %d", p.Written(), dst.Len(), len(payload))
			}
			if _, err := p.Write([]byte("late")); !errors.Is(err, os.ErrClosed) {
				t.Errorf("Write after Close error = %v, want os.ErrClosed", err)
			}
			got := errOut.String()
			if len(tt.want) == 0 && got != "" {
				t.Errorf("stderr = %q, want nothing off a terminal", got)
			}
			if len(tt.want) > 0 && !strings.HasSuffix(got, "\n") {
				t.Errorf("stderr = %q, want the bar's line ended by Close", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("stderr %q does not contain %q", got, w)
				}
			}
			for _, u := range tt.unwanted {
				if strings.Contains(got, u) {
					t.Errorf("stderr %q contains %q", got, u)
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, progress belongs on stderr", out.String())
			}
		})
	}
}

// iotestChunks returns a reader yielding data in chunks of at most n bytes, like a network
// read loop.
func iotestChunks(data []byte, n int) io.Reader {
	return &chunkReader{data: data, n: n}
}

type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[k:]
	return k, nil
}
