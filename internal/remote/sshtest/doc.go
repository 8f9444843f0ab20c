// Package sshtest is an in-process SSH server for tests of package remote: it runs exec
// requests with sh -c, reports exit statuses, serves SFTP through pkg/sftp, forwards
// direct-tcpip channels and runs shells on a pty, all on 127.0.0.1 and with no privileges,
// so connection behaviour (timeouts, retries, host keys, cancellation) can be tested fast and
// in numbers.
package sshtest
