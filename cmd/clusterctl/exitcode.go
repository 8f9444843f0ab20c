package main

import (
	"context"
	"errors"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/config"
)

// Exit codes, decided in one place (exitCode) so scripts can rely on them.
const (
	exitOK        = 0
	exitError     = 1   // anything not listed below
	exitUsage     = 2   // bad flags or arguments
	exitConfig    = 3   // the config file is missing or wrong
	exitNotFound  = 4   // the named cluster, template or instance does not exist
	exitBusy      = 5   // another command is changing the cluster (its lock is taken)
	exitCancelled = 130 // interrupted (Ctrl-C)
)

// usageError is a mistake in flags or arguments; the command's usage is printed with it.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(msg string) error { return &usageError{msg: msg} }

// notFoundError says a named thing does not exist.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// exitStatusError carries a remote command's exit status out as clusterctl's own (sshmaster
// with a command), without printing anything more.
type exitStatusError struct{ code int }

func (e *exitStatusError) Error() string { return "remote command failed" }

// silentError fails the command after it has already explained itself.
type silentError struct{ code int }

func (e *silentError) Error() string { return "" }

// exitCode maps an error to the process exit status.
func exitCode(err error) int {
	var (
		usage   *usageError
		nf      *notFoundError
		status  *exitStatusError
		silent  *silentError
		probs   config.Problems
		cfgNF   *config.NotFoundError
		tplNF   *config.TemplateNotFoundError
		noDefTp *config.NoDefaultTemplateError
		noCreds *noCredentialsError
		badTag  *cluster.TagError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &status):
		return status.code
	case errors.As(err, &silent):
		return silent.code
	case errors.Is(err, context.Canceled):
		return exitCancelled
	case errors.As(err, &usage), errors.As(err, &badTag), isCobraUsage(err):
		return exitUsage
	case errors.As(err, &probs), errors.As(err, &cfgNF), errors.As(err, &noDefTp), errors.As(err, &noCreds):
		return exitConfig
	case errors.As(err, &nf), errors.As(err, &tplNF), errors.Is(err, cluster.ErrClusterNotFound):
		return exitNotFound
	case errors.Is(err, cloud.ErrLocked):
		return exitBusy
	}
	return exitError
}

// isCobraUsage recognizes cobra's own flag and argument errors, which are plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires at most", "requires exactly", "bad flag syntax",
		"if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
