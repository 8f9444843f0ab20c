// Package sshdtest runs OpenSSH's sshd on a loopback port for tests of package remote, so
// the client is exercised against the server real nodes run: its sftp-server, sudo through a
// real login user, direct-tcpip jumps and its pty handling.
//
// Everything it needs is installed by `make test` (openssh-server, openssh-client, sudo).
// Without root, or without /usr/sbin/sshd, tests using it are skipped with the reason.
package sshdtest
