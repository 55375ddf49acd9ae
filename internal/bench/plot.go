package bench

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// targetColors keeps each target's colour across charts.
var targetColors = map[string]color.Color{
	KindSQLite:   color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	KindPostgres: color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	KindFloor:    color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

var dashed = []vg.Length{vg.Points(5), vg.Points(3)}

// writeCharts draws latency.svg/.png (update p50 and p99 against offered
// rate, log-log) and throughput.svg/.png (delivered against offered).
func writeCharts(cfg Config, results []StepResult) error {
	names := make([]string, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		names = append(names, t.Name())
	}
	return drawCharts(cfg.Out, names, results)
}

// palette colours series that are not a plain target kind.
var palette = []color.Color{
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

// drawCharts draws the charts of results into dir, one line per name (in
// that order).
func drawCharts(dir string, names []string, results []StepResult) error {
	var rates []int
	for _, r := range results {
		if r.Err == "" && !slices.Contains(rates, r.Rate) {
			rates = append(rates, r.Rate)
		}
	}
	if len(rates) == 0 {
		return nil
	}
	slices.Sort(rates)
	ticks := make([]plot.Tick, 0, len(rates))
	for _, r := range rates {
		ticks = append(ticks, plot.Tick{Value: float64(r), Label: strconv.Itoa(r)})
	}

	lat := plot.New()
	lat.Title.Text = "Webhook → remote profile updated (open loop)"
	lat.X.Label.Text = "offered rate (changes/s)"
	lat.Y.Label.Text = "latency (ms, log)"
	thr := plot.New()
	thr.Title.Text = "Throughput: delivered vs offered"
	thr.X.Label.Text = "offered rate (changes/s)"
	thr.Y.Label.Text = "delivered (changes/s)"
	for _, p := range []*plot.Plot{lat, thr} {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Legend.Top = true
		p.Legend.Left = true
		p.Add(plotter.NewGrid())
	}

	latPoints, thrPoints := 0, 0
	extra := 0
	for _, name := range names {
		var p50, p99, got plotter.XYs
		for _, r := range results {
			if r.Target != name || r.Err != "" {
				continue
			}
			x := float64(r.Rate)
			if r.Update.N > 0 {
				p50 = append(p50, plotter.XY{X: x, Y: max(ms(r.Update.P50), 0.01)})
				p99 = append(p99, plotter.XY{X: x, Y: max(ms(r.Update.P99), 0.01)})
			}
			if r.DeliveredPerSec > 0 {
				got = append(got, plotter.XY{X: x, Y: r.DeliveredPerSec})
			}
		}
		c, ok := targetColors[name]
		if !ok {
			c = palette[extra%len(palette)]
			extra++
		}
		if err := addLine(lat, p99, c, nil, name+" p99"); err != nil {
			return err
		}
		if err := addLine(lat, p50, c, dashed, name+" p50"); err != nil {
			return err
		}
		if err := addLine(thr, got, c, nil, name); err != nil {
			return err
		}
		latPoints += len(p99)
		thrPoints += len(got)
	}
	lo, hi := float64(rates[0]), float64(rates[len(rates)-1])
	if err := addRule(lat, plotter.XYs{{X: lo, Y: 1000}, {X: hi, Y: 1000}}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, "1 s"); err != nil {
		return err
	}
	if err := addRule(thr, plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}, color.Black, "offered"); err != nil {
		return err
	}
	// Whole decades, with a free decade on top for the legend.
	for _, p := range []*plot.Plot{lat, thr} {
		p.Y.Min = math.Pow(10, math.Floor(math.Log10(p.Y.Min)))
		p.Y.Max = math.Pow(10, math.Ceil(math.Log10(p.Y.Max))+1)
	}
	for name, p := range map[string]*plot.Plot{"latency": lat, "throughput": thr} {
		if (name == "latency" && latPoints == 0) || (name == "throughput" && thrPoints == 0) {
			continue
		}
		for _, ext := range []string{".svg", ".png"} {
			if err := p.Save(9*vg.Inch, 5.5*vg.Inch, filepath.Join(dir, name+ext)); err != nil {
				return fmt.Errorf("bench: save %s%s: %w", name, ext, err)
			}
		}
	}
	return nil
}

// addRule adds a thin dotted reference line.
func addRule(p *plot.Plot, xys plotter.XYs, c color.Color, label string) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("bench: chart: %w", err)
	}
	l.LineStyle.Color = c
	l.LineStyle.Width = vg.Points(1)
	l.LineStyle.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

// addLine adds a line with points; nothing when xys is empty.
func addLine(p *plot.Plot, xys plotter.XYs, c color.Color, dashes []vg.Length, label string) error {
	if len(xys) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("bench: chart: %w", err)
	}
	l.LineStyle.Color = c
	l.LineStyle.Width = vg.Points(1.5)
	l.LineStyle.Dashes = dashes
	s.GlyphStyle.Color = c
	s.GlyphStyle.Radius = vg.Points(2.5)
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	p.Add(l, s)
	p.Legend.Add(label, l, s)
	return nil
}
