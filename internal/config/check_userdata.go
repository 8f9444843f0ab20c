package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxScriptPeek is how much of a boot script the check reads: its first line.
const maxScriptPeek = 4096

// checkUserdataScripts checks at load time what would otherwise fail at an instance's first
// boot: every USERDATA_SCRIPTS item must be a readable regular file that starts with an
// interpreter line ("#!"), because cloud-init executes each one as a program; one without it
// fails with "Exec format error" and leaves cloud-init in error.
func (l *loader) checkUserdataScripts(t *Template, bad func(key, hint, format string, args ...any)) {
	for _, p := range t.UserdataScripts {
		path := p
		if !filepath.IsAbs(path) && l.env.Cwd != "" {
			path = filepath.Join(l.env.Cwd, path)
		}
		if err := checkBootScriptFile(path); err != nil {
			bad("userdata_scripts", err.hint, "USERDATA_SCRIPTS file %s %s", l.show(path), err.msg)
		}
	}
}

// scriptProblem is what is wrong with one boot script, and how to fix it.
type scriptProblem struct{ msg, hint string }

func checkBootScriptFile(path string) *scriptProblem {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &scriptProblem{"does not exist", "check the path (~ and $VARIABLES are expanded; a relative path is taken from the current directory)"}
	case err != nil:
		return &scriptProblem{fmt.Sprintf("cannot be read: %v", errors.Unwrap(err)), ""}
	case !st.Mode().IsRegular():
		return &scriptProblem{"is not a regular file", "name a script file"}
	}
	f, err := os.Open(path)
	if err != nil {
		return &scriptProblem{fmt.Sprintf("cannot be read: %v", errors.Unwrap(err)), ""}
	}
	defer f.Close()
	head, err := io.ReadAll(io.LimitReader(f, maxScriptPeek))
	if err != nil {
		return &scriptProblem{fmt.Sprintf("cannot be read: %v", err), ""}
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	if !bytes.HasPrefix(line, []byte("#!")) || strings.TrimSpace(string(line[2:])) == "" {
		return &scriptProblem{`does not start with an interpreter line`,
			`make its first line name the program that runs it, e.g. "#!/bin/sh" (cloud-init executes each boot script)`}
	}
	return nil
}
