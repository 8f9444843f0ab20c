package local

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLocksExclude(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	cases := []struct {
		name string
		take func(ctx context.Context) (func(), error)
	}{
		{"state file lock", func(ctx context.Context) (func(), error) {
			l, err := lockFile(ctx, path, nil)
			if err != nil {
				return nil, err
			}
			return l.Unlock, nil
		}},
		{"network lock", networkLock},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			release, err := c.take(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if r2, err := c.take(short); err == nil {
				r2()
				t.Fatal("lock taken twice")
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("second take: %v, want a deadline error", err)
			}
			got := make(chan error, 1)
			go func() {
				r3, err := c.take(context.Background())
				if err == nil {
					r3()
				}
				got <- err
			}()
			time.Sleep(50 * time.Millisecond)
			release()
			select {
			case err := <-got:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("waiter did not get the lock after release")
			}
		})
	}
}
