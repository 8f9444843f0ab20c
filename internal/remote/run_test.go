package remote_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/remote/sshtest"
)

func TestRunCapturesOutputAndStatus(t *testing.T) {
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	c := e.connect(t, target("node001", s.Addr))
	tests := []struct {
		name       string
		cmd        string
		stdin      string
		wantOut    string
		wantErrOut string
		wantStatus int
		wantTail   string
	}{
		{name: "success", cmd: "echo hello", wantOut: "hello\n"},
		{name: "stderr", cmd: "echo oops >&2", wantErrOut: "oops\n"},
		{name: "stdin", cmd: "tr a-z A-Z", stdin: "shout", wantOut: "SHOUT"},
		{name: "exit status", cmd: "echo before; echo bad >&2; exit 7", wantOut: "before\n",
			wantErrOut: "bad\n", wantStatus: 7, wantTail: "bad"},
		{name: "long output keeps tail", cmd: "seq 1 100; exit 1", wantOut: seq(1, 100), wantStatus: 1,
			wantTail: seq(81, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := remote.RunOpts{}
			if tt.stdin != "" {
				opts.Stdin = strings.NewReader(tt.stdin)
			}
			res, err := c.RunWith(t.Context(), tt.cmd, opts)
			if res.Stdout != tt.wantOut || res.Stderr != tt.wantErrOut || res.ExitStatus != tt.wantStatus {
				t.Errorf("got %+v, want stdout %q stderr %q status %d", res, tt.wantOut, tt.wantErrOut, tt.wantStatus)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var rerr *remote.RemoteError
			if !errors.As(err, &rerr) {
				t.Fatalf("error %v is not a *RemoteError", err)
			}
			if rerr.Host != "node001" || rerr.ExitStatus != tt.wantStatus || rerr.Command != tt.cmd {
				t.Errorf("RemoteError = %+v", rerr)
			}
			if !strings.Contains(rerr.Tail, strings.TrimSpace(tt.wantTail)) {
				t.Errorf("tail %q does not contain %q", rerr.Tail, tt.wantTail)
			}
			if n := strings.Count(rerr.Tail, "\n") + 1; n > remote.TailLines {
				t.Errorf("tail has %d lines, want at most %d", n, remote.TailLines)
			}
			if !strings.Contains(err.Error(), "node001: command exited with status") {
				t.Errorf("message %q does not name host and status", err)
			}
		})
	}
}

// seq renders the lines from..to as seq(1) does.
func seq(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(strconv.Itoa(i) + "\n")
	}
	return b.String()
}

func TestRunCancellationEndsCommand(t *testing.T) {
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	c := e.connect(t, target("node001", s.Addr))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, "sleep 30")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cancelled run took %s", d)
	}
	// The connection stays usable for the next command.
	res, err := c.Run(t.Context(), "echo still here")
	if err != nil || res.Stdout != "still here\n" {
		t.Fatalf("after cancel: %+v, %v", res, err)
	}
}

// A connection lost after the exec request was sent but before its answer came leaves the
// command possibly running: the error must say so, never that it did not start.
func TestRunLostBeforeExecAnswered(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	s := e.server(t, sshtest.Config{Dir: dir, ExecReplyDelay: 3 * time.Second})
	c := e.connect(t, target("node001", s.Addr))
	done := make(chan error, 1)
	go func() { _, err := c.Run(t.Context(), "echo start > started"); done <- err }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
	}
	s.DropConnections()
	err := <-done
	var lost *remote.ConnectionLostError
	if !errors.As(err, &lost) || !lost.Started || !strings.Contains(err.Error(), "may or may not have finished") {
		t.Fatalf("err = %v, want a ConnectionLostError saying the command may have run", err)
	}
}

func TestRunSudoForRootRunsDirectly(t *testing.T) {
	e := newEnv(t)
	s := e.server(t, sshtest.Config{})
	tg := target("node001", s.Addr)
	tg.User = "root"
	c := e.connect(t, tg)
	// For a root login, Sudo must not wrap (sudo may not even be installed): the command
	// sees its own text unchanged in $0-free form.
	res, err := c.RunWith(t.Context(), "echo $((1+2))", remote.RunOpts{Sudo: true})
	if err != nil || res.Stdout != "3\n" {
		t.Fatalf("got %+v, %v", res, err)
	}
}
