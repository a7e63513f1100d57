package main

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// drawThroughput writes the PNG of table 1: connections per second against
// parallelism, one measured series per N and its ideal as a dashed line.
func drawThroughput(cfg config, res *results, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("apply throughput, emulator latency %s", cfg.Latency)
	p.X.Label.Text = "parallelism"
	p.Y.Label.Text = "connections per second"
	p.X.Scale = plot.LogScale{}
	p.Y.Scale = plot.LogScale{}
	p.X.Tick.Marker = parallelismTicks(cfg.Parallelism)
	p.Y.Tick.Marker = oneTwoFiveTicks{}
	p.X.Min, p.X.Max = 0.8, 1.25*float64(slices.Max(cfg.Parallelism))
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	for i, n := range cfg.CreateSizes {
		var measured, ideal plotter.XYs
		for _, par := range cfg.Parallelism {
			x := float64(par)
			ideal = append(ideal, plotter.XY{X: x, Y: float64(n) / idealCreate(n, par, cfg.Latency).Seconds()})
			if r, ok := res.Create[n][par]; ok && r.Err == nil && r.M.Wall > 0 {
				measured = append(measured, plotter.XY{X: x, Y: float64(n) / r.M.Wall.Seconds()})
			}
		}
		c := plotutil.Color(i)

		idealLine, err := plotter.NewLine(ideal)
		if err != nil {
			return err
		}
		idealLine.Color = c
		idealLine.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
		p.Add(idealLine)
		p.Legend.Add(fmt.Sprintf("ideal, N=%d", n), idealLine)

		if len(measured) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(measured)
		if err != nil {
			return err
		}
		line.Color = c
		line.Width = vg.Points(1.5)
		points.Color = c
		points.Shape = plotutil.Shape(i)
		points.Radius = vg.Points(3)
		p.Add(line, points)
		p.Legend.Add(fmt.Sprintf("apply, N=%d", n), line, points)
	}
	p.Legend.TextStyle.Color = color.Black
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

// parallelismTicks labels exactly the parallelism values measured.
func parallelismTicks(values []int) plot.Ticker {
	ticks := make(plot.ConstantTicks, len(values))
	for i, v := range values {
		ticks[i] = plot.Tick{Value: float64(v), Label: strconv.Itoa(v)}
	}
	return ticks
}

// oneTwoFiveTicks labels 1, 2 and 5 times each power of ten, so that a log
// axis spanning two decades still has readable values.
type oneTwoFiveTicks struct{}

func (oneTwoFiveTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for exp := math.Floor(math.Log10(lo)); exp <= math.Ceil(math.Log10(hi)); exp++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, exp)
			if v >= lo && v <= hi {
				ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
			}
		}
	}
	return ticks
}
