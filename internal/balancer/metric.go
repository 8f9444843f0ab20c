package balancer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// maxMetricBody bounds what is read from the metric URL; a number or a mod_status page is far
// smaller, and a wrong URL must not fill memory.
const maxMetricBody = 1 << 20

// HTTPMetric fetches the load-table metric from a URL each iteration: a web server's request
// rate, as GBrowse's render farm used. It is separate from the policy so the policy stays pure.
type HTTPMetric struct {
	URL string
	// Client is used for the request; nil means a client with DefaultMetricTimeout, so a hung
	// web server delays one iteration, never the balancer.
	Client *http.Client
}

// Metric fetches and parses the metric (see ParseMetric).
func (m HTTPMetric) Metric(ctx context.Context) (float64, error) {
	client := m.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultMetricTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return 0, fmt.Errorf("metric %s: %w", m.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metric: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetricBody))
	if err != nil {
		return 0, fmt.Errorf("metric %s: read body: %w", m.URL, err)
	}
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("metric %s: %s", m.URL, resp.Status)
	}
	v, err := ParseMetric(body)
	if err != nil {
		return 0, fmt.Errorf("metric %s: %w", m.URL, err)
	}
	return v, nil
}

// ParseMetric reads a metric body: either a plain number, or Apache mod_status machine output
// (server-status?auto) from which the `ReqPerSec:` line is taken.
func ParseMetric(body []byte) (float64, error) {
	text := strings.TrimSpace(string(body))
	if v, err := parseNumber(text); err == nil {
		return v, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(key) != "ReqPerSec" {
			continue
		}
		v, err := parseNumber(strings.TrimSpace(val))
		if err != nil {
			return 0, fmt.Errorf("mod_status ReqPerSec %q: %w", strings.TrimSpace(val), err)
		}
		return v, nil
	}
	snippet := text
	if len(snippet) > 40 {
		snippet = snippet[:40] + "..."
	}
	return 0, fmt.Errorf("body %q is neither a number nor mod_status output with ReqPerSec "+
		"(use the server-status?auto URL)", snippet)
}

// parseNumber accepts finite numbers only (mod_status writes ".0513").
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("not a number: %w", err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("not a finite number")
	}
	return v, nil
}
