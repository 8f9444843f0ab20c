package local

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRunFailureNamesCommandStatusAndOutput(t *testing.T) {
	p, err := New(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		c          command
		wantStatus int
		wantInMsg  []string
	}{
		{
			name:       "exit status and tail",
			c:          cmd("sh", "-c", "for i in $(seq 1 40); do echo line$i; done; echo boom >&2; exit 3"),
			wantStatus: 3,
			wantInMsg:  []string{"sh -c", "exit status 3", "line40", "boom"},
		},
		{
			name:       "missing binary",
			c:          cmd("clusterctl-no-such-command"),
			wantStatus: -1,
			wantInMsg:  []string{"clusterctl-no-such-command"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.run(context.Background(), c.c)
			var ce *CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *CommandError", err)
			}
			if ce.Status != c.wantStatus {
				t.Errorf("status = %d, want %d", ce.Status, c.wantStatus)
			}
			for _, w := range c.wantInMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "line1\n") {
				t.Errorf("error carries the whole output, not its tail: %q", err)
			}
		})
	}
	out, err := p.run(context.Background(), cmd("echo", "hello"))
	if err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Errorf("run echo = %q, %v", out, err)
	}
}

func TestCommandString(t *testing.T) {
	got := command{name: "sh", args: []string{"-c", "echo 'a b'", ""}}.String()
	if want := `sh -c 'echo '\''a b'\''' ''`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}
