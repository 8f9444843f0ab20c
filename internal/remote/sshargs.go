package remote

import "strings"

// SSHArgsOpts configure the system ssh client command line built by SSHCommandArgs.
type SSHArgsOpts struct {
	// KeyFile is the cluster's private key (-i, with IdentitiesOnly so ssh offers no other).
	KeyFile string
	// KnownHostsFile is the cluster's known_hosts; it is the only file consulted, strictly.
	KnownHostsFile string
	// ForwardX11 adds -X.
	ForwardX11 bool
	// ForwardAgent adds -A.
	ForwardAgent bool
	// ForceTTY adds -t, for interactive remote commands.
	ForceTTY bool
	// Command is a remote shell command line (quote its words with Quote); empty opens a
	// login shell.
	Command string
	// SSHPath is the ssh program named in the jump host's ProxyCommand; default "ssh".
	SSHPath string
}

// SSHCommandArgs returns the arguments (without the program name) that make the system
// OpenSSH client connect to t exactly as this package does: with the cluster key only,
// trusting only the cluster's known_hosts with strict checking, and through t.Jump when
// set. The jump hop is a ProxyCommand running ssh with the same key and known_hosts,
// because -J would apply neither to the jump host. ProxyCommand is run by the user's
// $SHELL; the words in it are quoted for POSIX shells.
func SSHCommandArgs(t Target, o SSHArgsOpts) []string {
	args := commonSSHArgs(t, o)
	if o.ForwardX11 {
		args = append(args, "-X")
	}
	if o.ForwardAgent {
		args = append(args, "-A")
	}
	if o.ForceTTY {
		args = append(args, "-t")
	}
	args = append(args, destination(t))
	if o.Command != "" {
		// ssh keeps parsing options after the destination; "--" ends them so a command
		// starting with "-" is still a command.
		args = append(args, "--", o.Command)
	}
	return args
}

// commonSSHArgs are the identity, host key and routing options every hop needs.
func commonSSHArgs(t Target, o SSHArgsOpts) []string {
	var args []string
	if o.KeyFile != "" {
		args = append(args, "-i", o.KeyFile, "-o", "IdentitiesOnly=yes")
	}
	if o.KnownHostsFile != "" {
		args = append(args,
			"-o", "UserKnownHostsFile="+o.KnownHostsFile,
			"-o", "GlobalKnownHostsFile=/dev/null",
			"-o", "StrictHostKeyChecking=yes")
	}
	args = append(args, "-p", t.Port())
	if t.Jump != nil {
		args = append(args, "-o", "ProxyCommand="+proxyCommand(t, o))
	}
	return args
}

// proxyCommand is an ssh invocation that connects to t.Jump (itself possibly behind another
// jump) and forwards stdin/stdout to t's address with -W.
func proxyCommand(t Target, o SSHArgsOpts) string {
	prog := o.SSHPath
	if prog == "" {
		prog = "ssh"
	}
	hop := commonSSHArgs(*t.Jump, o)
	hop = append(hop, "-W", hostPortForW(t), destination(*t.Jump))
	cmd := Quote(prog) + " " + QuoteArgs(hop...)
	// ssh expands %-tokens in ProxyCommand; literal percent signs must be doubled.
	return strings.ReplaceAll(cmd, "%", "%%")
}

// hostPortForW renders t's address for -W, bracketing IPv6 literals.
func hostPortForW(t Target) string {
	host := t.Host()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + t.Port()
}

// destination is "user@host", or the bare host when no user is set.
func destination(t Target) string {
	if t.User == "" {
		return t.Host()
	}
	return t.User + "@" + t.Host()
}
