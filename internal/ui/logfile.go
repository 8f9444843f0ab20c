package ui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Rotation limits of the debug log: enough history to debug last week's failure without the
// log growing without bound. Rotated files stay uncompressed so they can be grepped directly.
const (
	logMaxSizeMB  = 10
	logMaxBackups = 5
)

// Log is the debug log written on every run, whatever the verbosity, so a failure can be
// diagnosed after the fact. Everything written to it passes through a Redactor.
type Log struct {
	path   string
	file   *lumberjack.Logger
	w      io.Writer
	logger *slog.Logger
	// detail counts what the log holds that the terminal did not show: debug records and raw
	// output copied in through Writer.
	detail *atomic.Int64
}

// LogOption configures OpenLog.
type LogOption func(*logOptions)

// logOptions collects what LogOptions set.
type logOptions struct {
	redactor *Redactor
}

// WithRedactor makes the log mask through r, normally Streams.Redactor, so a secret
// registered once is masked in the log as well as on the terminal. Without it the log uses a
// Redactor of its own that knows only the built-in patterns.
func WithRedactor(r *Redactor) LogOption {
	return func(o *logOptions) { o.redactor = r }
}

// DefaultLogPath returns where the debug log lives under the user's home directory.
func DefaultLogPath(home string) string {
	return filepath.Join(home, ".clusterctl", "logs", "clusterctl.log")
}

// OpenLog opens (appending) the debug log at path, creating its directory with mode 0700 and
// the file with mode 0600 since it records hostnames and commands, and writes a session header
// with the time, pid and the redacted command line. The file is rotated at 10 MB, keeping 5
// old files.
func OpenLog(path string, args []string, opts ...LogOption) (*Log, error) {
	o := logOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.redactor == nil {
		o.redactor = NewRedactor()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	file := &lumberjack.Logger{
		Filename:   path,
		MaxSize:    logMaxSizeMB,
		MaxBackups: logMaxBackups,
		Compress:   false,
	}
	w := o.redactor.Writer(file)
	detail := &atomic.Int64{}
	l := &Log{
		path:   path,
		file:   file,
		w:      w,
		logger: slog.New(&detailCounter{Handler: slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}), n: detail}),
		detail: detail,
	}
	header := fmt.Sprintf("=== session start time=%s pid=%d args=%q ===\n",
		time.Now().Format(time.RFC3339), os.Getpid(), redactArgs(args))
	if _, err := io.WriteString(w, header); err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("write log header: %w", err)
	}
	return l, nil
}

// createPrivate creates the log file if needed and tightens an existing one to 0600, because
// lumberjack keeps the mode of whatever file it finds.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("restrict log permissions: %w", err)
	}
	return nil
}

// Logger returns the structured debug logger (text format, debug level) writing to the log.
func (l *Log) Logger() *slog.Logger {
	return l.logger
}

// Writer returns the redacting writer into the log, for copying raw output such as a remote
// command's stderr into it.
func (l *Log) Writer() io.Writer {
	return detailWriter{w: l.w, n: l.detail}
}

// HasDetail reports whether this run wrote anything to the log that the terminal did not show
// (debug records, raw output), which is when pointing at the log after a failure helps.
func (l *Log) HasDetail() bool { return l.detail.Load() > 0 }

// detailCounter counts the records below Info, which status lines do not show.
type detailCounter struct {
	slog.Handler
	n *atomic.Int64
}

func (h *detailCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		h.n.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h *detailCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &detailCounter{Handler: h.Handler.WithAttrs(attrs), n: h.n}
}

func (h *detailCounter) WithGroup(name string) slog.Handler {
	return &detailCounter{Handler: h.Handler.WithGroup(name), n: h.n}
}

// detailWriter counts raw writes into the log.
type detailWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (d detailWriter) Write(p []byte) (int, error) {
	d.n.Add(1)
	return d.w.Write(p)
}

// Path returns the log file's path, for "see <path> for details" hints after a failure.
func (l *Log) Path() string {
	return l.path
}

// Close closes the log file.
func (l *Log) Close() error {
	if err := l.file.Close(); err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	return nil
}

// redactArgs masks the value following a flag such as "--password" given as a separate
// argument, which no pattern can recognize on its own; the writer masks the rest.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	maskNext := false
	for i, a := range args {
		switch {
		case maskNext:
			out[i] = Mask
			maskNext = false
		default:
			out[i] = a
			maskNext = isSecretFlag(a)
		}
	}
	return out
}

// isSecretFlag reports whether arg is a flag without an inline value whose name suggests a
// secret, so that its value is the next argument.
func isSecretFlag(arg string) bool {
	if !strings.HasPrefix(arg, "-") || strings.Contains(arg, "=") {
		return false
	}
	name := strings.ToLower(strings.TrimLeft(arg, "-"))
	for _, word := range []string{"secret", "password", "passwd", "token"} {
		if strings.Contains(name, word) {
			return true
		}
	}
	return false
}
