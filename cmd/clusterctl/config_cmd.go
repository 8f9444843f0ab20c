package main

import (
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/ui"
	"github.com/clusterctl/clusterctl/plugins"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Create, check and inspect the config file",
		Long: heredoc.Doc(`
			Work with the INI config file that holds cluster templates, key pairs, volumes,
			plugins and permissions. StarCluster config files load unchanged; unknown keys are
			errors (with a suggestion), not silently dropped.`),
		Example: heredoc.Doc(`
			clusterctl config init
			clusterctl config validate
			clusterctl config show -c smallcluster`),
		Args: cobra.ArbitraryArgs,
		RunE: requireSubcommand,
	}
	cmd.AddCommand(newConfigInitCmd(a), newConfigValidateCmd(a), newConfigShowCmd(a), newConfigReferenceCmd(a))
	return cmd
}

func newConfigInitCmd(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init [PATH]",
		Short: "Write a commented config template",
		Long: heredoc.Doc(`
			Write a config file with every section and key explained and a two-node template
			named smallcluster. The file is created with mode 0600 because it may hold AWS
			credentials; an existing file is only replaced with --force.

			Without PATH the file goes where clusterctl looks first: --config, else
			$CLUSTERCTL_CONFIG, else ~/.clusterctl/config.`),
		Example: heredoc.Doc(`
			clusterctl config init
			clusterctl config init ./project.cfg
			clusterctl --config ./project.cfg config validate`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := config.Locate(a.configFlag, a.env).Path
			if a.configFlag == "" {
				if v, ok := a.env.Lookup("CLUSTERCTL_CONFIG"); !ok || v == "" {
					path = a.env.ExpandPath("~/.clusterctl/config")
				}
			}
			if len(args) == 1 {
				path = a.env.ExpandPath(args[0])
			}
			if err := writeTemplate(path, force); err != nil {
				return err
			}
			st := a.streams.Status()
			st.Donef("wrote config template to %s", path)
			st.Infof("Next: fill in your key pair and image, then run `clusterctl%s config validate`.", configFlagText(a, path))
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	return cmd
}

// configFlagText is the --config flag a follow-up command needs to find path, or "" when
// clusterctl finds it by itself.
func configFlagText(a *app, path string) string {
	if config.Locate("", a.env).Path == path {
		return ""
	}
	return " --config " + path
}

// validateResult is the stable JSON shape of `config validate --output json`.
type validateResult struct {
	Valid     bool             `json:"valid"`
	Path      string           `json:"path"`
	Files     []string         `json:"files"`
	Templates []string         `json:"templates"`
	Problems  []config.Problem `json:"problems"`
	Warnings  []config.Problem `json:"warnings"`
	// Elsewhere counts the problems of sections the checked template (-c) does not use.
	Elsewhere int `json:"elsewhere,omitempty"`
}

func newConfigValidateCmd(a *app) *cobra.Command {
	var template string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the config and report every problem at once",
		Long: heredoc.Doc(`
			Load the config and its includes, resolve every template (EXTENDS, defaults,
			references) and run every check that needs no cloud. All problems are listed
			together, each with its file, line, section and key.

			A problem is an error when a template uses its section (its own settings, its
			key, volumes, plugins and permissions, [aws info] unless it is local, [global]);
			a problem in a section no template uses, a key StarCluster ignored, and the
			placeholders of a new config are warnings. The exit status is 3 only on errors.

			With -c, only that template and what it uses are checked, as start -c does.`),
		Example: heredoc.Doc(`
			clusterctl config validate
			clusterctl config validate -c smallcluster
			clusterctl config validate --output json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, _ := a.format()
			cfg, err := a.loadConfig(cmd.Context())
			if cfg == nil {
				return err
			}
			rep := cfg.Check("")
			if err != nil { // the file's or [global]'s own problems: they stop everything
				rep = config.Report{Errors: err.(config.Problems), Warnings: cfg.GlobalWarnings()}
			} else if template != "" {
				if _, _, rerr := cfg.Resolve(template, nil); rerr != nil {
					return rerr
				}
				rep = cfg.Check(template)
			}
			res := validateResult{Valid: len(rep.Errors) == 0, Path: cfg.Path, Files: cfg.Files, Templates: cfg.TemplateNames(),
				Problems: append([]config.Problem{}, rep.Errors...), Warnings: append([]config.Problem{}, rep.Warnings...), Elsewhere: rep.Elsewhere}
			if format == ui.FormatJSON {
				if err := ui.PrintJSON(a.streams.SafeOut(), res); err != nil {
					return err
				}
				if !res.Valid {
					return &silentError{code: exitConfig}
				}
				return nil
			}
			printReport(a, cfg, template, res)
			if !res.Valid {
				return &silentError{code: exitConfig}
			}
			return nil
		},
	}
	addTemplateFlag(a, cmd, &template, "check only this template and what it uses")
	return cmd
}

// printReport shows a validation: the errors, the warnings, then one line that sums it up.
func printReport(a *app, cfg *config.Config, template string, res validateResult) {
	st := a.streams.Status()
	if len(res.Problems) > 0 {
		fmt.Fprintln(a.streams.SafeErrOut(), config.Problems(res.Problems).Error())
	}
	a.warnAll(res.Warnings)
	what := fmt.Sprintf("%s: %s", plural(len(res.Templates), "template"), strings.Join(res.Templates, ", "))
	if template != "" {
		what = "template " + template
	}
	var placeholders []string
	for _, w := range res.Warnings {
		if w.Placeholder {
			placeholders = append(placeholders, strings.ToUpper(w.Key))
		}
	}
	switch {
	case len(res.Problems) > 0:
		st.Failf("config %s has %s (%s)", cfg.Path, plural(len(res.Problems), "error"), what)
	case len(placeholders) > 0:
		st.Donef("config %s is valid (%s); still to fill in: %s", cfg.Path, what, strings.Join(placeholders, ", "))
	default:
		st.Donef("config %s is valid (%s)", cfg.Path, what)
	}
	if res.Elsewhere > 0 {
		st.Infof("%s in sections %s does not use; `clusterctl config validate` lists them", plural(res.Elsewhere, "more problem"), template)
	}
}

func newConfigShowCmd(a *app) *cobra.Command {
	var template string
	var sets []string
	cmd := &cobra.Command{
		Use:   "show -c TEMPLATE",
		Short: "Print a template as clusterctl resolves it",
		Long: heredoc.Doc(`
			Print a cluster template after EXTENDS, defaults and overrides, with where each value
			came from (file and line, "default", "command line" or the environment), and the key,
			volumes, permissions and plugins it uses. Secrets are always masked.

			--set KEY=VALUE overrides a setting the way start's flags do, to preview a change.`),
		Example: heredoc.Doc(`
			clusterctl config show -c smallcluster
			clusterctl config show -c mediumcluster --set cluster_size=10
			clusterctl config show -c smallcluster --output json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, _ := a.format()
			overrides := map[string]string{}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return usageErrorf(fmt.Sprintf("--set %q: write KEY=VALUE", s))
				}
				overrides[strings.ToLower(strings.TrimSpace(k))] = v
			}
			cfg, tpl, err := a.template(cmd.Context(), template, overrides)
			if err != nil {
				return err
			}
			view := cfg.View(tpl)
			if format == ui.FormatJSON {
				return ui.PrintJSON(a.streams.SafeOut(), view)
			}
			return printView(a, view)
		},
	}
	addTemplateFlag(a, cmd, &template, "template to show (default: DEFAULT_TEMPLATE)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a setting, KEY=VALUE (repeatable)")
	return cmd
}

func printView(a *app, v config.View) error {
	w := a.streams.SafeOut()
	header := "[cluster " + v.Template + "]"
	if len(v.Extends) > 0 {
		header += "  extends " + strings.Join(v.Extends, " <- ")
	}
	fmt.Fprintln(w, header)
	if err := shownTable(v.Settings).Render(w); err != nil {
		return err
	}
	for _, s := range v.Sections {
		fmt.Fprintf(w, "\n[%s]\n", s.Section)
		if err := shownTable(s.Settings).Render(w); err != nil {
			return err
		}
	}
	if len(v.AWS) > 0 {
		fmt.Fprintln(w, "\n[aws info]")
		return shownTable(v.AWS).Render(w)
	}
	return nil
}

func shownTable(settings []config.Shown) *ui.Table {
	t := ui.NewTable("key", "value", "from")
	for _, s := range settings {
		t.AddRow(s.Key, config.Text(s.Value), s.Source)
	}
	return t
}

func newConfigReferenceCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "reference",
		Short: "Print the reference of every config key (Markdown)",
		Long: heredoc.Doc(`
			Print every section and key clusterctl reads, with its type, default and meaning,
			the StarCluster keys that are accepted but ignored, and the built-in plugins with
			their StarCluster class paths and parameters. The README carries the same text.`),
		Example: "clusterctl config reference > config-reference.md",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(a.streams.SafeOut(), config.Reference(plugins.NewCatalog().Specs()))
			return err
		},
	}
}

// addTemplateFlag adds -c/--cluster-template with completion of the config's template names.
func addTemplateFlag(a *app, cmd *cobra.Command, dst *string, usage string) {
	cmd.Flags().StringVarP(dst, "cluster-template", "c", "", usage)
	_ = cmd.RegisterFlagCompletionFunc("cluster-template", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		loc := config.Locate(a.configFlag, a.env)
		cfg, _ := config.Load(loadOptions(loc.Path, a.env))
		if cfg == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.TemplateNames(), cobra.ShellCompDirectiveNoFileComp
	})
}

// plural renders "1 template", "3 templates".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
