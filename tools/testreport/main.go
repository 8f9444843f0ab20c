// Command testreport runs `go test -json` and turns its event stream into what a person reading
// CI output needs: one line per package, the output of every failed test, the reason of every
// skipped one, and a last line `N passed, N failed, N skipped`. A skipped test fails the run
// unless the allowed-skips file lists it with a reason: a green run means every test ran.
//
//	go run ./tools/testreport -allowed .ci/allowed-skips -- go test -json -count=1 ./...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses flags, runs the test command and reports; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	allowedPath := fs.String("allowed", "", "file listing the tests allowed to skip, one `PACKAGE TEST REASON` per line")
	jsonLog := fs.String("json-log", "", "also write the raw event stream to this file")
	heartbeat := fs.Duration("heartbeat", time.Minute, "how often to name the tests still running")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: testreport [-allowed FILE] [-json-log FILE] -- go test -json [flags] [packages]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var allowed allowList
	if *allowedPath != "" {
		var err error
		if allowed, err = readAllowList(*allowedPath); err != nil {
			fmt.Fprintf(stderr, "testreport: %v\n", err)
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := exec.CommandContext(ctx, fs.Arg(0), fs.Args()[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // let tests clean up
	cmd.WaitDelay = 2 * time.Minute
	cmd.Stderr = stderr
	events, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(stderr, "testreport: %v\n", err)
		return 2
	}
	var in io.Reader = events
	if *jsonLog != "" {
		f, err := os.Create(*jsonLog)
		if err != nil {
			fmt.Fprintf(stderr, "testreport: %v\n", err)
			return 2
		}
		defer f.Close()
		in = io.TeeReader(events, f)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "testreport: start %s: %v\n", fs.Arg(0), err)
		return 2
	}
	r := newReport(stdout, allowed)
	done := make(chan struct{})
	go r.heartbeat(*heartbeat, done)
	readErr := r.read(in)
	close(done)
	waitErr := cmd.Wait()
	if readErr != nil {
		fmt.Fprintf(stderr, "testreport: reading test events: %v\n", readErr)
	}
	ok := r.finish()
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		fmt.Fprintf(stderr, "testreport: %v\n", waitErr)
		return 2
	}
	if !ok || waitErr != nil || readErr != nil {
		return 1
	}
	return 0
}
