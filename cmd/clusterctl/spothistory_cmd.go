package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/chart"
	"github.com/clusterctl/clusterctl/internal/cloud/ec2"
	"github.com/clusterctl/clusterctl/internal/ui"
)

func newSpotHistoryCmd(a *app) *cobra.Command {
	var zone, startText, endText, plotFile string
	var days float64
	var plot bool
	cmd := &cobra.Command{
		Use:     "spothistory INSTANCE_TYPE",
		Aliases: []string{"shi"},
		Short:   "Show spot price history for an instance type",
		Long: heredoc.Doc(`
			Show the Linux spot price history of an instance type in the region (or one zone):
			the current, average and highest price per zone, to choose a SPOT_BID. -p draws
			the history into a PNG file under ~/.clusterctl/plots and prints its path
			(StarCluster opened a browser); --plot-file names the file (.png or .svg).`),
		Example: heredoc.Doc(`
			clusterctl spothistory m5.large
			clusterctl spothistory -p c5.xlarge -z us-east-1a -d 7
			clusterctl spothistory c5.xlarge --plot-file prices.svg`),
		Args: exactArgs(1, "an INSTANCE_TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			end := time.Now().UTC()
			var err error
			if endText != "" {
				if end, err = time.Parse(time.RFC3339, endText); err != nil {
					return usageErrorf("--end-time: use ISO 8601, e.g. 2026-11-01T00:00:00Z")
				}
			}
			start := end.Add(-time.Duration(days * float64(24*time.Hour)))
			if startText != "" {
				if start, err = time.Parse(time.RFC3339, startText); err != nil {
					return usageErrorf("--start-time: use ISO 8601, e.g. 2026-10-01T00:00:00Z")
				}
			}
			if !start.Before(end) {
				return usageErrorf("the start time must be before the end time")
			}
			p, err := a.ec2Only(cmd.Context())
			if err != nil {
				return err
			}
			prices, err := p.SpotPriceHistory(cmd.Context(), args[0], zone, start, end)
			if err != nil {
				return err
			}
			if len(prices) == 0 {
				return &notFoundError{msg: fmt.Sprintf("no spot price history for %s in this region between %s and %s", args[0], start.Format(time.RFC3339), end.Format(time.RFC3339))}
			}
			if plot && plotFile == "" {
				plotFile = filepath.Join(a.env.Home, ".clusterctl", "plots",
					fmt.Sprintf("spothistory-%s-%s-%s.png", args[0], p.Region(), end.Format("20060102-150405")))
			}
			if plotFile != "" {
				path := a.env.ExpandPath(plotFile)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := plotPrices(args[0], prices, path); err != nil {
					return err
				}
				a.streams.Status().Donef("wrote spot price chart to %s", path)
			}
			return printData(a, prices, priceSummary(prices))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&zone, "zone", "z", "", "only this availability zone")
	f.Float64VarP(&days, "days", "d", 30, "days of history to show")
	f.StringVarP(&startText, "start-time", "s", "", "start of the history (ISO 8601; overrides --days)")
	f.StringVarP(&endText, "end-time", "e", "", "end of the history (ISO 8601; default: now)")
	f.BoolVarP(&plot, "plot", "p", false, "also draw the history into a PNG file and print its path")
	f.StringVar(&plotFile, "plot-file", "", "draw the history into this .png or .svg file")
	return cmd
}

// priceSummary is one row per zone: current (latest), average and highest price.
func priceSummary(prices []ec2.SpotPrice) *ui.Table {
	type agg struct {
		current, sum, max float64
		n                 int
		since             time.Time
	}
	byZone := map[string]*agg{}
	for _, p := range prices {
		g := byZone[p.Zone]
		if g == nil {
			g = &agg{since: p.Time}
			byZone[p.Zone] = g
		}
		g.current, g.sum, g.n = p.Price, g.sum+p.Price, g.n+1
		g.max = max(g.max, p.Price)
	}
	zones := make([]string, 0, len(byZone))
	for z := range byZone {
		zones = append(zones, z)
	}
	sort.Strings(zones)
	t := ui.NewTable("zone", "current", "average", "highest", "changes", "since")
	for _, z := range zones {
		g := byZone[z]
		t.AddRow(z, usd(g.current), usd(g.sum/float64(g.n)), usd(g.max), fmt.Sprint(g.n), g.since.Format("2006-01-02 15:04"))
	}
	return t
}

func usd(v float64) string { return fmt.Sprintf("$%.4f", v) }

func plotPrices(instanceType string, prices []ec2.SpotPrice, path string) error {
	byZone := map[string][]chart.Point{}
	for _, p := range prices {
		byZone[p.Zone] = append(byZone[p.Zone], chart.Point{Time: p.Time, Value: p.Price})
	}
	c := chart.Chart{Title: "Spot price of " + instanceType, YLabel: "USD per hour"}
	zones := make([]string, 0, len(byZone))
	for z := range byZone {
		zones = append(zones, z)
	}
	sort.Strings(zones)
	for _, z := range zones {
		c.Series = append(c.Series, chart.Series{Name: z, Points: byZone[z], Step: true})
	}
	return c.Save(path)
}
