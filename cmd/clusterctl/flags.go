package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exactArgs is cobra.ExactArgs with a message that names the missing argument.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf(fmt.Sprintf("%s needs %s (got %d arguments)", cmd.CommandPath(), names, len(args)))
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs with a message that names the argument.
func minArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf(fmt.Sprintf("%s needs %s", cmd.CommandPath(), names))
		}
		return nil
	}
}

// boolOverride is a flag without a value that sets a template override to a fixed text, so
// --public-ips and --no-public-ips write the same override.
type boolOverride struct {
	dst   *string
	value string
}

func (b *boolOverride) String() string   { return "" }
func (b *boolOverride) Type() string     { return "bool" }
func (b *boolOverride) IsBoolFlag() bool { return true }
func (b *boolOverride) Set(v string) error {
	switch v {
	case "true", "":
		*b.dst = b.value
	case "false":
	default:
		return fmt.Errorf("takes no value")
	}
	return nil
}

func boolOverrideFlag(dst *string, name, short, value, usage string) *pflag.Flag {
	f := &pflag.Flag{Name: name, Shorthand: short, Usage: usage, Value: &boolOverride{dst: dst, value: value}, NoOptDefVal: "true"}
	return f
}

// underscoresAsDashes lets StarCluster's flag spellings (--max_nodes) work alongside ours
// (--max-nodes).
func underscoresAsDashes(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
}
