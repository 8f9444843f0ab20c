package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// allowList is the tests that may skip, each with the reason it is written down for. Keys are
// "PACKAGE TEST", PACKAGE being the import path or its end (internal/remote).
type allowList map[string]string

// readAllowList reads lines of `PACKAGE TEST REASON...`; blank lines and # comments are
// ignored. A line without a reason is an error: a skip is allowed only for a stated reason.
func readAllowList(path string) (allowList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("allowed skips: %w", err)
	}
	defer f.Close()
	list := allowList{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want `PACKAGE TEST REASON`, got %q", path, n, line)
		}
		list[fields[0]+" "+fields[1]] = strings.Join(fields[2:], " ")
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("allowed skips: %w", err)
	}
	return list, nil
}

// allows reports whether test of package pkg may skip, and the written reason.
func (l allowList) allows(pkg, test string) (string, bool) {
	for key, reason := range l {
		p, t, _ := strings.Cut(key, " ")
		if t == test && (pkg == p || strings.HasSuffix(pkg, "/"+p)) {
			return reason, true
		}
	}
	return "", false
}
