package remote

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// maxRemoteDepth bounds how deep a tree get copies: a hostile SFTP server can report a
// directory inside itself forever.
const maxRemoteDepth = 64

// checkRemoteName accepts a name as an SFTP server reports it for one directory entry: not
// empty, not . or .., no slash and no NUL. A name like "../../.bashrc" would otherwise take a
// file out of the destination.
func checkRemoteName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("remote name %q is not a file name; refusing it", name)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("remote name %q holds a slash or NUL; refusing it", name)
	}
	return nil
}

// checkRemoteRel checks every component of a path below a copied tree's top ("" is the top).
func checkRemoteRel(rel string) error {
	if rel == "" {
		return nil
	}
	parts := strings.Split(rel, "/")
	if len(parts) > maxRemoteDepth {
		return errors.New("the remote tree is deeper than 64 levels; refusing it")
	}
	for _, p := range parts {
		if err := checkRemoteName(p); err != nil {
			return err
		}
	}
	return nil
}

// linkLeavesTree says why a remote symlink at dst (relative to the destination) is not
// recreated, or "": an absolute target, or one that climbs out of the destination, would be a
// link on this machine to wherever the node chose (~/.ssh, say), which a later copy or the
// user's own tools could follow.
func linkLeavesTree(dst, target string) string {
	switch {
	case target == "" || strings.ContainsRune(target, '\x00'):
		return "its target is empty or holds NUL"
	case path.IsAbs(target):
		return fmt.Sprintf("it points to the absolute path %s, outside what is copied", target)
	}
	if j := path.Join(path.Dir(dst), target); j == ".." || strings.HasPrefix(j, "../") {
		return fmt.Sprintf("it points to %s, outside what is copied", target)
	}
	return ""
}

// relBelow returns the path of a walked entry p relative to the walk's root src. The walk
// joins each name the server reports onto its directory (path.Join, which resolves ".."), so
// a name "../../.ssh/authorized_keys" in a tree walked from a relative path comes back as a
// path outside it: anything not strictly below src is refused.
func relBelow(src, p string) (string, error) {
	if p == src {
		return "", nil
	}
	var prefix string
	switch root := path.Clean(src); root {
	case ".":
		prefix = ""
	case "/":
		prefix = "/"
	default:
		prefix = root + "/"
	}
	if !strings.HasPrefix(p, prefix) {
		return "", fmt.Errorf("remote entry %q is not inside %q; refusing it", p, src)
	}
	rel := p[len(prefix):]
	if err := checkRemoteRel(rel); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return rel, nil
}
