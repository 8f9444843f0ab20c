// Package chart draws the time-series charts clusterctl writes (spot price history, balancer
// statistics) with gonum/plot, as PNG or SVG chosen by the file extension.
package chart

import (
	"errors"
	"fmt"
	"image/color"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Point is one value at one time.
type Point struct {
	Time  time.Time
	Value float64
}

// Series is a named line.
type Series struct {
	Name   string
	Points []Point
	// Step draws the line as steps (a value holds until the next point), right for prices
	// and counts that change at instants.
	Step bool
}

// Chart is a title, axis labels and lines over time.
type Chart struct {
	Title  string
	YLabel string
	Series []Series
}

// Save draws the chart to path; the extension (.png or .svg) picks the format.
func (c Chart) Save(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return fmt.Errorf("chart %s: use a .png or .svg file name", path)
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.Y.Label.Text = c.YLabel
	p.X.Label.Text = "time (UTC)"
	p.X.Tick.Marker = plot.TimeTicks{Format: "01-02\n15:04"}
	p.Add(plotter.NewGrid())
	palette := []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255},
	}
	drawn := 0
	for i, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.Points))
		for j, pt := range s.Points {
			xys[j].X = float64(pt.Time.Unix())
			xys[j].Y = pt.Value
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("chart %s: %w", path, err)
		}
		if s.Step {
			line.StepStyle = plotter.PostStep
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(s.Name, line)
		drawn++
	}
	if drawn == 0 {
		return errors.New("chart " + path + ": no data to draw")
	}
	p.Legend.Top = true
	if err := p.Save(20*vg.Centimeter, 11*vg.Centimeter, path); err != nil {
		return fmt.Errorf("save chart %s: %w", path, err)
	}
	return nil
}
