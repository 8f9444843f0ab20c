package balancer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const modStatus = `localhost
ServerVersion: Apache/2.4.62 (Debian)
ServerMPM: event
Total Accesses: 15123
Total kBytes: 2231
Uptime: 294727
ReqPerSec: .0513117
BytesPerSec: 7.75161
BusyWorkers: 1
IdleWorkers: 74
Scoreboard: _____W____
`

func TestHTTPMetric(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   float64
		err    string
	}{
		{name: "plain number", status: 200, body: "12.5\n", want: 12.5},
		{name: "mod_status auto", status: 200, body: modStatus, want: 0.0513117},
		{name: "html page", status: 200, body: "<html><body>Apache Server Status</body></html>",
			err: "neither a number nor mod_status output"},
		{name: "bad ReqPerSec", status: 200, body: "ReqPerSec: fast\n", err: `ReqPerSec "fast"`},
		{name: "infinite", status: 200, body: "+Inf", err: "neither a number"},
		{name: "server error", status: 500, body: "3", err: "500 Internal Server Error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			got, err := HTTPMetric{URL: srv.URL + "/server-status?auto"}.Metric(context.Background())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestHTTPMetricTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	_, err := HTTPMetric{URL: srv.URL, Client: &http.Client{Timeout: 50 * time.Millisecond}}.Metric(context.Background())
	if err == nil {
		t.Fatal("a hung server did not time out")
	}
}
