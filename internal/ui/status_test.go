package ui

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestStatusPlainOutput(t *testing.T) {
	tests := []struct {
		name    string
		run     func(st *Status, clock *fakeClock)
		want    string
		wantLog []string
	}{
		{
			name: "success with count",
			run: func(st *Status, clock *fakeClock) {
				step := st.Start("cluster user")
				step.Count(64, 64)
				clock.Advance(3060 * time.Millisecond)
				step.End(nil)
			},
			want:    "• cluster user ...\n✓ cluster user (64/64 nodes, 3.1s)\n",
			wantLog: []string{`msg="step started" step="cluster user"`, `msg="step done" step="cluster user" elapsed=3.06s done=64 total=64`},
		},
		{
			name: "failure with custom unit",
			run: func(st *Status, clock *fakeClock) {
				step := st.Start("attach volumes")
				step.SetUnit("volumes")
				step.Count(3, 64)
				clock.Advance(3140 * time.Millisecond)
				step.End(errors.New("boom"))
			},
			want:    "• attach volumes ...\n✗ attach volumes (3/64 volumes, 3.1s)\n",
			wantLog: []string{`msg="step failed" step="attach volumes" elapsed=3.14s done=3 total=64 error=boom`},
		},
		{
			name: "no count and double End",
			run: func(st *Status, clock *fakeClock) {
				step := st.Start("security group")
				clock.Advance(250 * time.Millisecond)
				step.End(nil)
				step.End(errors.New("ignored"))
			},
			want: "• security group ...\n✓ security group (0.3s)\n",
		},
		{
			name: "reports at most every interval",
			run: func(st *Status, clock *fakeClock) {
				step := st.Start("wait for 32 instances to run")
				step.Count(3, 32)
				step.Report("not ready: node004 (booting)")
				clock.Advance(ReportInterval)
				step.Count(20, 32)
				step.Report("not ready: node021 (booting)")
				clock.Advance(time.Second)
				step.Report("not ready: node022 (booting)")
				step.End(nil)
			},
			want: "• wait for 32 instances to run ...\n  wait for 32 instances to run: 20/32 nodes; not ready: node021 (booting)\n" +
				"✓ wait for 32 instances to run (20/32 nodes, 31.0s)\n",
			wantLog: []string{`msg="step progress" step="wait for 32 instances to run" progress="not ready: node021 (booting)"`},
		},
		{
			name: "warnings and info are plain lines",
			run: func(st *Status, _ *fakeClock) {
				st.Infof("using region %s", "us-east-1")
				st.Warnf("quota at %d%%\n", 91)
			},
			want:    "using region us-east-1\n! quota at 91%\n",
			wantLog: []string{`level=INFO msg="using region us-east-1"`, `level=WARN msg="quota at 91%"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, out, errOut := TestStreams()
			var logBuf bytes.Buffer
			s.Logger = slog.New(slog.NewTextHandler(&logBuf, nil))
			st := s.Status()
			clock := newFakeClock()
			st.now = clock.Now
			tt.run(st, clock)
			if got := errOut.String(); got != tt.want {
				t.Errorf("stderr = %q, want %q", got, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logBuf.String(), w) {
					t.Errorf("log %q does not contain %q", logBuf.String(), w)
				}
			}
		})
	}
}

func TestStatusTerminalFinalLine(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		err   error
		count bool
		want  string
	}{
		{name: "ok no color", env: map[string]string{"NO_COLOR": "1"}, count: true, want: "✓ cluster user (64/64 nodes, 3.1s)\n"},
		{name: "fail no color", env: map[string]string{"NO_COLOR": "1"}, err: errors.New("x"), count: true, want: "✗ cluster user (64/64 nodes, 3.1s)\n"},
		{name: "ok color", env: nil, want: ansiGreen + "✓" + ansiReset + " cluster user (3.1s)\n"},
		{name: "fail color", env: map[string]string{"NO_COLOR": ""}, err: errors.New("x"), want: ansiRed + "✗" + ansiReset + " cluster user (3.1s)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, clock, errOut := terminalStatus(t, tt.env, time.Hour)
			step := st.Start("cluster user")
			if tt.count {
				step.Count(64, 64)
			}
			clock.Advance(3100 * time.Millisecond)
			step.End(tt.err)
			segs := segments(errOut.String())
			if len(segs) < 2 {
				t.Fatalf("output %q: want a spinner line and a final line", errOut.String())
			}
			if got := segs[len(segs)-1]; got != tt.want {
				t.Errorf("final line = %q, want %q", got, tt.want)
			}
			if strings.HasSuffix(segs[0], "\n") || !strings.Contains(segs[0], "cluster user (0.0s)") {
				t.Errorf("spinner line = %q, want an unterminated line with the name and 0.0s", segs[0])
			}
		})
	}
}

func TestStatusSpinnerStopsAtEnd(t *testing.T) {
	s, _, _, _ := TestStreams()
	g := &guardWriter{}
	s.ErrOut = g
	s.Terminal = TerminalAlways
	s.LookupEnv = mapEnv(map[string]string{"NO_COLOR": "1"})
	st := s.Status()
	st.interval = time.Millisecond

	step := st.Start("cluster user")
	spin := st.spin
	for i := 1; i <= 20; i++ {
		step.Count(i, 20)
		time.Sleep(2 * time.Millisecond)
	}
	step.End(nil)
	g.seal()
	select {
	case <-spin.done:
	default:
		t.Error("spinner goroutine still running when End returned")
	}
	redraws := strings.Count(g.String(), clearLine)
	time.Sleep(30 * time.Millisecond)

	if redraws < 3 {
		t.Errorf("spinner redrew %d times in 40ms at a 1ms interval, want several", redraws)
	}
	if n := g.lateWrites(); n != 0 {
		t.Errorf("%d writes after End returned", n)
	}
	if st.spin != nil {
		t.Error("spinner still registered after the last step ended")
	}
	if segs := segments(g.String()); !strings.HasPrefix(segs[len(segs)-1], "✓ cluster user (20/20 nodes, ") {
		t.Errorf("final line = %q", segs[len(segs)-1])
	}
}

func TestStatusWarnDuringSpinner(t *testing.T) {
	st, clock, errOut := terminalStatus(t, map[string]string{"NO_COLOR": "1"}, time.Hour)
	step := st.Start("cluster user")
	step.Count(3, 64)
	clock.Advance(500 * time.Millisecond)
	st.Warnf("node%03d unreachable", 7)
	st.Infof("retrying")
	step.End(nil)

	want := []string{
		"⠋ cluster user (0.0s)",
		"! node007 unreachable\n",
		"⠋ cluster user (3/64 nodes, 0.5s)",
		"retrying\n",
		"⠋ cluster user (3/64 nodes, 0.5s)",
		"✓ cluster user (3/64 nodes, 0.5s)\n",
	}
	got := segments(errOut.String())
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("segments =\n%q\nwant\n%q", got, want)
	}
}

func TestStatusNestedSteps(t *testing.T) {
	st, clock, errOut := terminalStatus(t, map[string]string{"NO_COLOR": "1"}, time.Hour)
	outer := st.Start("start cluster")
	inner := st.Start("launch nodes")
	clock.Advance(time.Second)
	inner.End(nil)
	if st.spin == nil {
		t.Fatal("spinner stopped while the outer step still runs")
	}
	outer.End(nil)
	if st.spin != nil {
		t.Fatal("spinner still running after every step ended")
	}
	got := segments(errOut.String())
	want := []string{
		"⠋ start cluster (0.0s)",
		"⠋ launch nodes (0.0s)",
		"✓ launch nodes (1.0s)\n",
		"⠋ start cluster (1.0s)",
		"✓ start cluster (1.0s)\n",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("segments =\n%q\nwant\n%q", got, want)
	}
}

func TestStatusSpinnerTruncatesToWidth(t *testing.T) {
	st, _, errOut := terminalStatus(t, map[string]string{"NO_COLOR": "1", "COLUMNS": "20"}, time.Hour)
	step := st.Start("a very long step name that wraps")
	spinLine := segments(errOut.String())[0]
	step.End(nil)
	if want := "⠋ a very long step…"; spinLine != want {
		t.Errorf("spinner line = %q, want %q", spinLine, want)
	}
}

// ctxKey marks the context passed to Run.
type ctxKey struct{}

func TestStatusRun(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		fn        func(context.Context, *Step) error
		wantErr   error
		wantPanic bool
		wantLast  string
	}{
		{name: "ok", fn: func(_ context.Context, s *Step) error { s.Count(2, 2); return nil }, wantLast: "✓ run (2/2 nodes, 0.0s)\n"},
		{name: "error", fn: func(context.Context, *Step) error { return boom }, wantErr: boom, wantLast: "✗ run (0.0s)\n"},
		{name: "panic", fn: func(context.Context, *Step) error { panic("bad") }, wantPanic: true, wantLast: "✗ run (0.0s)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _, errOut := terminalStatus(t, map[string]string{"NO_COLOR": "1"}, time.Hour)
			ctx := context.WithValue(context.Background(), ctxKey{}, "marker")
			var err error
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				err = st.Run(ctx, "run", func(c context.Context, s *Step) error {
					if c.Value(ctxKey{}) != "marker" || s.Name() != "run" {
						t.Error("Run did not pass its context and step")
					}
					return tt.fn(c, s)
				})
				return false
			}()
			if panicked != tt.wantPanic {
				t.Fatalf("panicked = %v, want %v", panicked, tt.wantPanic)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			segs := segments(errOut.String())
			if got := segs[len(segs)-1]; got != tt.wantLast {
				t.Errorf("final line = %q, want %q", got, tt.wantLast)
			}
			if st.spin != nil {
				t.Error("spinner left running")
			}
		})
	}
}

// TestStatusDetail: a step's detail (a plugin's latest output line) follows its name on the
// spinner line and is gone from the final line.
func TestStatusDetail(t *testing.T) {
	st, _, errOut := terminalStatus(t, map[string]string{"NO_COLOR": "1"}, time.Hour)
	step := st.Start("plugin web")
	step.Detail("  node001: installing nginx\n")
	st.Infof("note")
	step.End(nil)
	got := segments(errOut.String())
	want := []string{"⠋ plugin web (0.0s)", "note\n", "⠋ plugin web (0.0s): node001: installing nginx", "✓ plugin web (0.0s)\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("segments =\n%q\nwant\n%q", got, want)
	}
}
