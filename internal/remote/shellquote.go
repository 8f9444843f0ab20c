package remote

import "strings"

// Quote returns s quoted for a POSIX shell so that it arrives as exactly one word, whatever
// it contains. Remote commands are strings interpreted by the login shell on the node, so
// every path or value spliced into one must pass through here.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isShellSafe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteArgs quotes each argument and joins them with spaces, turning an argv into a command
// line the remote shell splits back into the same argv.
func QuoteArgs(args ...string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = Quote(a)
	}
	return strings.Join(quoted, " ")
}

// Sudo wraps a shell command line so it runs as root through non-interactive sudo. The -n
// flag makes a missing NOPASSWD rule fail at once instead of hanging on a password prompt
// nobody can answer, and sh -c keeps pipes and redirections inside the privileged part.
func Sudo(cmd string) string {
	return "sudo -n -- sh -c " + Quote(cmd)
}

// isShellSafe reports whether s contains only characters no POSIX shell treats specially.
func isShellSafe(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_./:,+@", r):
		default:
			return false
		}
	}
	return true
}

// HeredocDelimiter returns a here-document delimiter (CLUSTERCTL_EOF, with underscores added
// as needed) that appears in content as no line of its own, so whatever content holds, the
// here-document ends where the script means it to, never at a line the content smuggled in.
func HeredocDelimiter(content string) string {
	delim := "CLUSTERCTL_EOF"
	for strings.Contains("\n"+content+"\n", "\n"+delim+"\n") {
		delim += "_"
	}
	return delim
}
