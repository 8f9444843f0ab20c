package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/ui"
	"github.com/clusterctl/clusterctl/plugins"
)

// app is what every command needs, built once per run: the streams, the environment, the global
// flags, the debug log, and the config, loaded lazily so commands that do not need it (help,
// completion, config init) never read it.
type app struct {
	streams *ui.Streams
	env     config.Env
	log     *ui.Log
	logger  *slog.Logger

	// global flags
	configFlag  string
	region      string
	refresh     int // start -r: seconds between polls, for this run
	debug       bool
	output      string
	concurrency int
	lockWait    time.Duration
	// command is the running command's name, recorded in cluster locks.
	command string

	cfg *config.Config
	// warned holds the config warnings shown already; saidRegion is set once the default
	// region was announced.
	warned     map[string]bool
	saidRegion bool
	// ec2NotAsked says why a listing covered local clusters only (no AWS credentials).
	ec2NotAsked error

	// Test seams: tests point these at moto and a fixed address; nil means the real thing.
	apiOptions   []func(*middleware.Stack) error
	pollInterval time.Duration
	leaseSettle  time.Duration // the EC2 lease's settle time; 0: pollInterval in tests, else the default
	waitTimeout  time.Duration
	publicIP     func(context.Context) (netip.Addr, error)
	builtinSSH   bool // use the built-in SSH client even when ssh is installed
	providerSeam func(context.Context) (cloud.Provider, error)
	// dialSeam replaces the network for SSH (the simulated one of the scale benchmark).
	dialSeam func(ctx context.Context, network, addr string) (net.Conn, error)
	// syncCopier replaces syncdata's work on the master (moto's instances run nothing).
	syncCopier cluster.DataCopier
	// localStateDir and localImageDir move the local provider's state (tests: a temp dir;
	// the image cache stays shared). Empty means the defaults.
	localStateDir, localImageDir string
}

// run is the whole CLI minus the process: main calls it with the real streams and tests call it
// with buffers. It returns the exit status.
func run(ctx context.Context, args []string, streams *ui.Streams) int {
	return runWith(ctx, args, streams)
}

// runWith is run with test seams applied to the app before any command runs.
func runWith(ctx context.Context, args []string, streams *ui.Streams, seams ...func(*app)) int {
	a := &app{streams: streams, env: config.OSEnv(), logger: slog.New(slog.DiscardHandler)}
	for _, s := range seams {
		s(a)
	}
	if a.env.Home != "" {
		if l, err := ui.OpenLog(ui.DefaultLogPath(a.env.Home), append([]string{"clusterctl"}, args...),
			ui.WithRedactor(streams.Redactor())); err == nil {
			a.log, a.logger = l, l.Logger()
			streams.Logger = a.logger
			defer l.Close()
		}
	}
	root := newRootCmd(a)
	root.SetArgs(globalShorthands(args))
	root.SetIn(streams.In)
	root.SetOut(streams.SafeOut())
	root.SetErr(streams.SafeErrOut())
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	if err != nil {
		a.logger.Error("command failed", "error", err.Error(), "exit", code)
		a.printError(err, code)
	}
	return code
}

// printError shows a failure on stderr: the error, usage hints for usage errors, and where the
// full log is.
func (a *app) printError(err error, code int) {
	var status *exitStatusError
	var silent *silentError
	if errors.As(err, &status) {
		return
	}
	w := a.streams.SafeErrOut()
	if !errors.As(err, &silent) {
		msg := err.Error()
		if code == exitCancelled {
			msg = "cancelled"
		}
		fmt.Fprintf(w, "Error: %s\n", msg)
		if code == exitUsage {
			fmt.Fprintln(w, "Run with --help for usage.")
		}
	}
	if a.log != nil && code != exitUsage && a.log.HasDetail() && !a.debug {
		fmt.Fprintf(w, "The full log is in %s\n", a.log.Path())
	}
}

// loadConfig loads the config once per run. When there is none it says where it looked and, on
// a terminal, offers to write a template. On config problems it returns them together with the
// partly loaded config.
func (a *app) loadConfig(ctx context.Context) (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	loc := config.Locate(a.configFlag, a.env)
	if !loc.Exists {
		return nil, a.noConfig(loc)
	}
	a.logger.Info("loading config", "path", loc.Path) // context, not detail: messages name the file
	cfg, err := config.Load(loadOptions(loc.Path, a.env))
	if cfg != nil {
		a.registerSecrets(cfg)
	}
	var nf *config.NotFoundError
	if errors.As(err, &nf) {
		return nil, a.noConfig(loc)
	}
	if cfg == nil {
		return nil, err
	}
	if err != nil {
		return cfg, err // the file's or [global]'s problems, with the partly loaded config
	}
	a.warnAll(cfg.GlobalWarnings())
	a.cfg = cfg
	return cfg, nil
}

// loadOptions are the options every config load uses: the built-in plugins and the EC2
// instance types this binary knows.
func loadOptions(path string, env config.Env) config.LoadOptions {
	return config.LoadOptions{Path: path, Env: &env, Catalog: plugins.NewCatalog(), InstanceTypes: ec2.KnownInstanceTypes()}
}

// warnAll shows config warnings as status lines, each once per run however many steps of
// the command come across it.
func (a *app) warnAll(warns config.Problems) {
	for _, w := range warns {
		text := w.Error()
		if a.warned[text] {
			continue
		}
		if a.warned == nil {
			a.warned = map[string]bool{}
		}
		a.warned[text] = true
		a.streams.Status().Warnf("%s", text)
	}
}

// template resolves the template a command works on (with its flags' overrides), showing the
// warnings that concern it; it fails with every problem that stops it.
func (a *app) template(ctx context.Context, name string, overrides map[string]string) (*config.Config, *config.Template, error) {
	cfg, err := a.loadConfig(ctx)
	if err != nil {
		return cfg, nil, err
	}
	tpl, rep, err := cfg.Resolve(name, overrides)
	if err != nil {
		return cfg, nil, err
	}
	a.warnAll(rep.Warnings)
	if err := rep.Err(); err != nil {
		return cfg, nil, err
	}
	return cfg, tpl, nil
}

// registerSecrets hands every credential the config holds to the redactor, so no output or log
// line can carry one.
func (a *app) registerSecrets(cfg *config.Config) {
	r := a.streams.Redactor()
	r.Add(cfg.AWS.SecretAccessKey, cfg.AWS.SessionToken, cfg.AWS.AccessKeyID)
	catalog := plugins.NewCatalog()
	for _, p := range cfg.Plugins {
		spec, _ := catalog.Lookup(p.SetupClass)
		for _, st := range spec.Params {
			if s, ok := p.Params[st.Name].(string); ok && st.Secret {
				r.Add(s)
			}
		}
	}
}

func (a *app) noConfig(loc config.Location) error {
	where := strings.Join(loc.Searched, ", ")
	msg := fmt.Sprintf("no config file found (looked in: %s)", where)
	if a.streams.IsTerminal() {
		ok, err := ui.Confirm(a.streams, fmt.Sprintf("No config file found. Write a commented template to %s?", loc.Path))
		if err == nil && ok {
			if err := writeTemplate(loc.Path, false); err != nil {
				return err
			}
			return &config.NotFoundError{Path: loc.Path + " (a template was written there: edit it, then run the command again)"}
		}
	}
	return fmt.Errorf("%s; create one with `clusterctl config init`, or point --config or $CLUSTERCTL_CONFIG at one: %w",
		msg, &config.NotFoundError{Path: loc.Path})
}

// writeTemplate writes the commented config template with mode 0600, creating its directory
// (0700), and never replaces a file unless force is set.
func writeTemplate(path string, force bool) error {
	if _, err := os.Stat(path); err == nil && !force {
		return usageErrorf(fmt.Sprintf("%s already exists; pass --force to replace it", path))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	text := config.InitTemplate(plugins.NewCatalog().Specs())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return fmt.Errorf("write config template: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("write config template: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write config template: %w", err)
	}
	return nil
}

// format is the --output format, checked.
func (a *app) format() (ui.Format, error) {
	f, err := ui.ParseFormat(a.output)
	if err != nil {
		return f, usageErrorf(err.Error())
	}
	return f, nil
}

// enableDebug mirrors the debug log onto stderr (-d), still through the redactor.
func (a *app) enableDebug() {
	screen := slog.NewTextHandler(a.streams.SafeErrOut(), &slog.HandlerOptions{Level: slog.LevelDebug})
	if a.log != nil {
		a.logger = slog.New(slog.NewMultiHandler(a.log.Logger().Handler(), screen))
	} else {
		a.logger = slog.New(screen)
	}
	a.streams.Logger = a.logger
}

// globalShorthands rewrites StarCluster's global short flags, written before the command, to
// their long forms: -d (debug), -c FILE (config) and -r REGION (region), as in `clusterctl -c
// ~/.starcluster/config -r eu-west-1 start -c small -r 10 tag`. They are not persistent
// shorthands because commands use -d, -c and -r themselves with StarCluster's other meanings
// (spothistory --days, start --cluster-template and --refresh-interval).
func globalShorthands(args []string) []string {
	out := append([]string(nil), args...)
	long := map[string]string{"c": "--config", "r": "--region"}
	takesValue := map[string]bool{"--config": true, "--region": true, "--output": true, "--concurrency": true, "--lock-wait": true, "--wait-timeout": true}
	for i := 0; i < len(out); i++ {
		arg := out[i]
		short := ""
		if len(arg) >= 2 && arg[0] == '-' && arg[1] != '-' {
			short = arg[1:2]
		}
		switch {
		case arg == "-d":
			out[i] = "--debug"
		case long[short] != "" && len(arg) == 2:
			out[i] = long[short]
			i++
		case long[short] != "":
			out[i] = long[short] + "=" + strings.TrimPrefix(arg[2:], "=")
		case takesValue[arg]:
			i++
		case !strings.HasPrefix(arg, "-") || arg == "--":
			return out
		}
	}
	return out
}
