package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRegisteredSecretNeverReachesOutput drives every output path with a registered secret
// and checks that stdout, stderr and the log file all show the mask and never the secret.
func TestRegisteredSecretNeverReachesOutput(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	tests := []struct {
		name string
		mode TerminalMode
	}{
		{"terminal", TerminalAlways},
		{"pipe", TerminalNever},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, in, out, errOut := TestStreams()
			s.Terminal = tt.mode
			s.Redactor().Add(secret)

			path := filepath.Join(t.TempDir(), "logs", "clusterctl.log")
			log, err := OpenLog(path, []string{"clusterctl", "--key=" + secret}, WithRedactor(s.Redactor()))
			if err != nil {
				t.Fatalf("OpenLog: %v", err)
			}
			s.Logger = log.Logger()
			st := s.Status()
			st.interval = time.Millisecond

			err = st.Run(context.Background(), "sign with "+secret, func(_ context.Context, step *Step) error {
				step.SetUnit(secret)
				step.Count(1, 2)
				st.Warnf("retrying with %s", secret)
				st.Infof("key %s", secret)
				time.Sleep(5 * time.Millisecond) // let the spinner redraw the secret-bearing line
				return fmt.Errorf("auth failed for %s", secret)
			})
			if err == nil {
				t.Fatal("Run lost the step's error")
			}

			tb := NewTable("name", "secret")
			tb.AddRow("default", secret)
			if err := tb.Render(s.SafeOut()); err != nil {
				t.Fatal(err)
			}
			if err := PrintJSON(s.SafeOut(), map[string]string{"key": secret}); err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(s.SafeErrOut(), secret+"\n")

			in.WriteString("y\n")
			prog := NewProgress(s, 10, "upload "+secret)
			_, _ = prog.Write([]byte("0123456789"))
			_ = prog.Close()
			if tt.mode == TerminalAlways {
				if _, err := Confirm(s, "use "+secret+"?"); err != nil {
					t.Fatal(err)
				}
			}

			log.Logger().Info("credentials loaded", "secret_access_key", secret, "note", "raw "+secret)
			_, _ = io.WriteString(log.Writer(), "ssh stderr: "+secret+"\n")
			if err := log.Close(); err != nil {
				t.Fatal(err)
			}
			logData, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			for name, got := range map[string]string{
				"stdout":   out.String(),
				"stderr":   errOut.String(),
				"log file": string(logData),
			} {
				if strings.Contains(got, secret) || strings.Contains(got, "K7MDENG") {
					t.Errorf("%s leaks the secret:\n%s", name, got)
				}
				if !strings.Contains(got, Mask) {
					t.Errorf("%s shows no mask, so the paths under test wrote nothing:\n%s", name, got)
				}
			}
			for _, want := range []string{"sign with ****", "! retrying with ****", "(1/2 ****, "} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr does not contain %q:\n%s", want, errOut.String())
				}
			}
		})
	}
}
