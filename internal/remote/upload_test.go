package remote_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
)

// slowReader yields n bytes of b in small chunks with a pause between them, then fails with
// failErr (when set) after failAt bytes.
type slowReader struct {
	b       byte
	n, done int
	failAt  int
	failErr error
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.failErr != nil && r.done >= r.failAt {
		return 0, r.failErr
	}
	if r.done >= r.n {
		return 0, io.EOF
	}
	time.Sleep(3 * time.Millisecond)
	k := min(len(p), 32*1024, r.n-r.done)
	for i := range k {
		p[i] = r.b
	}
	r.done += k
	return k, nil
}

// watchFile reads path until stop is closed and records any content that is neither the
// old nor the new version, which would mean a reader saw a partial upload.
func watchFile(t *testing.T, path string, valid func([]byte) bool, stop <-chan struct{}) (reads *atomic.Int64, wait func()) {
	reads = &atomic.Int64{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("target unreadable during upload: %v", err)
				return
			}
			if !valid(data) {
				t.Errorf("reader saw partial content: %d bytes", len(data))
				return
			}
			reads.Add(1)
		}
	}()
	return reads, wg.Wait
}

func TestUploadIsAtomic(t *testing.T) {
	const oldSize, newSize = 1 << 20, 2 << 20
	oldContent := bytes.Repeat([]byte("A"), oldSize)
	isOldOrNew := func(d []byte) bool {
		return bytes.Equal(d, oldContent) || len(d) == newSize && bytes.Count(d, []byte("B")) == newSize
	}
	readerErr := errors.New("source disk failed")
	tests := []struct {
		name     string
		src      *slowReader
		cancelAt time.Duration
		wantErr  error
		wantNew  bool
	}{
		{name: "success", src: &slowReader{b: 'B', n: newSize}, wantNew: true},
		{name: "source fails halfway", src: &slowReader{b: 'B', n: newSize, failAt: newSize / 2, failErr: readerErr},
			wantErr: readerErr},
		{name: "cancelled halfway", src: &slowReader{b: 'B', n: newSize}, cancelAt: 80 * time.Millisecond,
			wantErr: context.Canceled},
	}
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	c := e.connect(t, target("node001", s.Addr))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "payload.bin")
			if err := os.WriteFile(dst, oldContent, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancelAt > 0 {
				time.AfterFunc(tt.cancelAt, cancel)
			}
			stop := make(chan struct{})
			reads, wait := watchFile(t, dst, isOldOrNew, stop)
			var last, total int64
			err := c.Upload(ctx, tt.src, dst, remote.FileOpts{Mode: 0o640, Size: newSize,
				Progress: func(done, tot int64) { last, total = done, tot }})
			close(stop)
			wait()
			if reads.Load() == 0 {
				t.Error("the watcher never read the target")
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			got := mustRead(t, dst)
			if tt.wantNew != (len(got) == newSize) || !isOldOrNew(got) {
				t.Errorf("target has %d bytes after upload (want new: %v)", len(got), tt.wantNew)
			}
			if tt.wantNew {
				if last != newSize || total != newSize {
					t.Errorf("last progress %d/%d, want %d/%d", last, total, newSize, newSize)
				}
				if st, _ := os.Stat(dst); st.Mode().Perm() != 0o640 {
					t.Errorf("mode %o, want 640", st.Mode().Perm())
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				var names []string
				for _, en := range entries {
					names = append(names, en.Name())
				}
				t.Errorf("directory holds %v, want only payload.bin (no temporary files)", names)
			}
		})
	}
}

func TestWriteAndReadFile(t *testing.T) {
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	c := e.connect(t, target("node001", s.Addr))
	dst := filepath.Join(t.TempDir(), "secret.conf")
	tests := []struct {
		data []byte
		mode os.FileMode
		want os.FileMode
	}{
		{[]byte("token=1\n"), 0o600, 0o600},
		{[]byte("replaced\n"), 0, 0o644},
		{nil, 0o755 | os.ModeSetgid, 0o755 | os.ModeSetgid},
	}
	for _, tt := range tests {
		if err := c.WriteFile(t.Context(), dst, tt.data, tt.mode); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadFile(t.Context(), dst)
		if err != nil || !bytes.Equal(got, tt.data) {
			t.Fatalf("read back %q, %v; want %q", got, err, tt.data)
		}
		st, _ := os.Stat(dst)
		if st.Mode()&(os.ModePerm|os.ModeSetgid) != tt.want {
			t.Errorf("mode %v, want %v", st.Mode(), tt.want)
		}
	}
	if _, err := c.ReadFile(t.Context(), dst+".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reading a missing file: %v, want ErrNotExist", err)
	}
	if err := c.WriteFile(t.Context(), "/nonexistent-dir/x", []byte("x"), 0o600); err == nil ||
		!errors.Is(err, os.ErrNotExist) {
		t.Errorf("writing into a missing directory: %v, want ErrNotExist", err)
	}
}
