// Command clusterctl turns a named INI template into a working compute cluster on Amazon EC2 or
// on local systemd-nspawn containers, in the tradition of StarCluster.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/clusterctl/clusterctl/internal/ui"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\nInterrupted: stopping (press Ctrl-C again to exit now; work in progress may be left behind).")
		cancel()
		<-sigs
		os.Exit(exitCancelled)
	}()
	code := run(ctx, os.Args[1:], ui.StandardStreams())
	cancel()
	os.Exit(code)
}
