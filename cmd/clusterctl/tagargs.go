package main

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/cluster"
)

// flagGroupRE matches the flag groups a Use line shows, such as "[-c TEMPLATE]".
var flagGroupRE = regexp.MustCompile(`\[-[^\]]*\]`)

// clusterTags returns the arguments a command takes as cluster tags, read from its Use line:
// "TAG" names one position, "TAG..." (or "[TAG...]") that position and every later one. The
// Use line is what --help shows, so the check and the documentation cannot disagree.
func clusterTags(cmd *cobra.Command, args []string) []string {
	words := strings.Fields(flagGroupRE.ReplaceAllString(cmd.Use, ""))
	if len(words) == 0 {
		return nil
	}
	var tags []string
	for i, w := range words[1:] {
		w = strings.Trim(w, "[]")
		if i >= len(args) {
			break
		}
		switch w {
		case "TAG":
			tags = append(tags, args[i])
		case "TAG...":
			return append(tags, args[i:]...)
		}
	}
	return tags
}

// checkClusterTags refuses a command whose tag arguments break the tag rule, before the tag
// reaches anything: a file name under ~/.clusterctl, the provider, a log line.
func checkClusterTags(cmd *cobra.Command, args []string) error {
	for _, t := range clusterTags(cmd, args) {
		if err := cluster.CheckTagName(t); err != nil {
			return err
		}
	}
	return nil
}
