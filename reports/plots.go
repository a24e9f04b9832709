package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Figure is one rendered plot.
type Figure struct {
	Name  string // file name without extension
	Title string
	PNG   []byte
	SVG   []byte
}

const figW, figH = 7 * vg.Inch, 4.5 * vg.Inch

// figures renders the report's plots.
func figures(s *Summary) ([]Figure, error) {
	builders := []struct {
		name, title string
		build       func(*Summary) (*plot.Plot, error)
	}{
		{"messages_per_request", "Normal-case messages per committed request vs n (log-log)", plotMessages},
		{"bytes_per_request", "Bytes per committed request vs n (log-log)", plotBytes},
		{"messages_by_type", "Messages per committed request by type", plotByType},
		{"latency", "Client latency vs n (simulated time)", plotLatency},
	}
	if s.ViewChange != nil {
		builders = append(builders, struct {
			name, title string
			build       func(*Summary) (*plot.Plot, error)
		}{"view_change", "Cost of one view change vs n (log-log)", plotViewChange})
	}
	var out []Figure
	for _, b := range builders {
		f, err := renderFigure(s, b.name, b.title, b.build)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// renderFigure builds one plot and renders it as PNG and SVG. gonum/plot
// panics on some degenerate data; that becomes an error.
func renderFigure(s *Summary, name, title string, build func(*Summary) (*plot.Plot, error)) (f Figure, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("report: plot %s: %v", name, r)
		}
	}()
	p, err := build(s)
	if err != nil {
		return Figure{}, fmt.Errorf("report: plot %s: %w", name, err)
	}
	f = Figure{Name: name, Title: title}
	for _, format := range []string{"png", "svg"} {
		wt, err := p.WriterTo(figW, figH, format)
		if err != nil {
			return Figure{}, fmt.Errorf("report: plot %s.%s: %w", name, format, err)
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			return Figure{}, fmt.Errorf("report: plot %s.%s: %w", name, format, err)
		}
		if format == "png" {
			f.PNG = buf.Bytes()
		} else {
			f.SVG = buf.Bytes()
		}
	}
	return f, nil
}

// noData is the plot drawn when nothing was measured.
func noData(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title + " (no request committed: no data)"
	p.X.Label.Text = "n (replicas)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	return p
}

// typeColors is a ten-colour palette (one per PBFT message type).
var typeColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff}, color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xd6, 0x27, 0x28, 0xff}, color.RGBA{0x94, 0x67, 0xbd, 0xff}, color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0xe3, 0x77, 0xc2, 0xff}, color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, color.RGBA{0xbc, 0xbd, 0x22, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff},
}

// measured returns the points with commits.
func measured(s *Summary) []Point {
	var pts []Point
	for _, p := range s.Points {
		if p.CommittedRuns > 0 {
			pts = append(pts, p)
		}
	}
	return pts
}

func logPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "n (replicas)"
	p.Y.Label.Text = ylabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	return p
}

// logTicks labels a log axis at 1, 2 and 5 times each power of ten in
// range, in plain numbers (4, 10, 20, 50, 100, 2k, 50k, 1M), with unlabelled
// minor ticks at the other integers times a power of ten; when the range
// holds fewer than two such labels, its ends are labelled too. gonum's
// LogTicks labels only the powers of ten, so a sweep over n = 4..100 showed
// one or two labels in exponent notation.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	}
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = shortNumber(v)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled < 2 {
		ticks = append(ticks, plot.Tick{Value: lo, Label: shortNumber(lo)}, plot.Tick{Value: hi, Label: shortNumber(hi)})
	}
	return ticks
}

// shortNumber formats a positive axis value in at most a few characters.
func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

// curve samples f geometrically over [lo, hi].
func curve(lo, hi float64, f func(float64) float64) plotter.XYs {
	const k = 64
	xy := make(plotter.XYs, k)
	for i := range xy {
		x := lo * math.Pow(hi/lo, float64(i)/(k-1))
		xy[i] = plotter.XY{X: x, Y: f(x)}
	}
	return xy
}

func addLine(p *plot.Plot, label string, xy plotter.XYs, i int, dashed bool) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

func addPoints(p *plot.Plot, label string, xy plotter.XYs, i int) error {
	sc, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	sc.Color = plotutil.Color(i)
	sc.Shape = plotutil.Shape(i)
	sc.Radius = vg.Points(3.5)
	p.Add(sc)
	p.Legend.Add(label, sc)
	return nil
}

func span(pts []Point) (lo, hi float64) {
	return float64(pts[0].N), float64(pts[len(pts)-1].N)
}

func plotMessages(s *Summary) (*plot.Plot, error) {
	pts := measured(s)
	if len(pts) == 0 {
		return noData("Normal-case messages per committed request"), nil
	}
	p := logPlot("Normal-case messages per committed request", "messages / request")
	lo, hi := span(pts)
	var m, t plotter.XYs
	for _, pt := range pts {
		if pt.NormalPerRequest.Mean > 0 {
			m = append(m, plotter.XY{X: float64(pt.N), Y: pt.NormalPerRequest.Mean})
		}
		if pt.MessagesPerRequest.Mean > 0 {
			t = append(t, plotter.XY{X: float64(pt.N), Y: pt.MessagesPerRequest.Mean})
		}
	}
	batch := s.Batch
	closed := func(n float64) float64 { return (2*n*n-2*n)/float64(max(batch, 1)) + n + 1 }
	if err := addLine(p, "closed form "+s.ClosedForm.Formula, curve(lo, hi, closed), 1, true); err != nil {
		return nil, err
	}
	if err := addLine(p, "n² reference (2n²)", curve(lo, hi, func(n float64) float64 { return 2 * n * n }), 2, true); err != nil {
		return nil, err
	}
	if s.Fit.Points > 0 {
		if err := addFitLine(p, s.Fit, lo, hi); err != nil {
			return nil, err
		}
	}
	if len(m) > 0 {
		if err := addPoints(p, "measured (normal case)", m, 0); err != nil {
			return nil, err
		}
	}
	if len(t) > 0 {
		if err := addPoints(p, "measured (all messages)", t, 3); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// addFitLine draws a power-law fit over [lo, hi], labelled with its
// coefficient, exponent and R².
func addFitLine(p *plot.Plot, f PowerFit, lo, hi float64) error {
	label := fmt.Sprintf("fit %.3g·n^%.3f (R² %.4f)", f.Coefficient, f.Exponent, f.R2)
	return addLine(p, label, curve(lo, hi, f.At), 0, false)
}

func plotBytes(s *Summary) (*plot.Plot, error) {
	pts := measured(s)
	var all, normal plotter.XYs
	for _, pt := range pts {
		if pt.BytesPerRequest.Mean > 0 {
			all = append(all, plotter.XY{X: float64(pt.N), Y: pt.BytesPerRequest.Mean})
		}
		if pt.NormalBytesPerRequest.Mean > 0 {
			normal = append(normal, plotter.XY{X: float64(pt.N), Y: pt.NormalBytesPerRequest.Mean})
		}
	}
	if len(all) == 0 {
		return noData("Bytes per committed request"), nil
	}
	p := logPlot("Bytes per committed request", "bytes / request")
	lo, hi := all[0].X, all[len(all)-1].X
	if s.BytesFit != nil {
		if err := addFitLine(p, *s.BytesFit, lo, hi); err != nil {
			return nil, err
		}
	}
	if err := addPoints(p, "all messages", all, 0); err != nil {
		return nil, err
	}
	if len(normal) > 0 {
		if err := addPoints(p, "normal case", normal, 1); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func plotByType(s *Summary) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Messages per committed request by type (stacked)"
	p.X.Label.Text = "n (replicas)"
	p.Y.Label.Text = "messages / request"
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	pts := measured(s)
	if len(pts) == 0 {
		return p, nil
	}
	var names []string
	for _, pt := range pts {
		names = append(names, strconv.Itoa(pt.N))
	}
	p.NominalX(names...)
	var below *plotter.BarChart
	w := vg.Points(math.Max(6, 300/float64(len(pts))))
	top := 0.0
	for _, pt := range pts {
		top = math.Max(top, pt.MessagesPerRequest.Mean)
	}
	p.Y.Min, p.Y.Max = 0, top*1.08
	p.X.Min, p.X.Max = -0.6, float64(len(pts))-0.4
	for i, t := range typesOf(s.Runs, false) {
		vals := make(plotter.Values, len(pts))
		for j, pt := range pts {
			vals[j] = pt.ByType[t].Mean
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bc.LineStyle.Width = 0
		bc.Color = typeColors[i%len(typeColors)]
		if below != nil {
			bc.StackOn(below)
		}
		p.Add(bc)
		p.Legend.Add(t, bc)
		below = bc
	}
	return p, nil
}

func plotLatency(s *Summary) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Client latency (simulated)"
	p.X.Label.Text = "n (replicas)"
	p.Y.Label.Text = "latency (ms)"
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	pts := measured(s)
	if len(pts) == 0 {
		return p, nil
	}
	var p50, p99 plotter.XYs
	for _, pt := range pts {
		p50 = append(p50, plotter.XY{X: float64(pt.N), Y: pt.LatencyP50Ms.Mean})
		p99 = append(p99, plotter.XY{X: float64(pt.N), Y: pt.LatencyP99Ms.Mean})
	}
	if err := plotutil.AddLinePoints(p, "p50", p50, "p99", p99); err != nil {
		return nil, err
	}
	p.Y.Min = 0
	return p, nil
}

func plotViewChange(s *Summary) (*plot.Plot, error) {
	p := logPlot("Cost of one view change", "per view change")
	vc := s.ViewChange
	var msgs, bts plotter.XYs
	for _, pt := range s.Points {
		if pt.MessagesPerViewChange.N > 0 && pt.BytesPerViewChange.Mean > 0 && pt.MessagesPerViewChange.Mean > 0 {
			msgs = append(msgs, plotter.XY{X: float64(pt.N), Y: pt.MessagesPerViewChange.Mean})
			bts = append(bts, plotter.XY{X: float64(pt.N), Y: pt.BytesPerViewChange.Mean})
		}
	}
	if len(msgs) == 0 {
		return p, nil
	}
	lo, hi := msgs[0].X, msgs[len(msgs)-1].X
	if err := addLine(p, fmt.Sprintf("bytes fit %.3g·n^%.3f", vc.Bytes.Coefficient, vc.Bytes.Exponent), curve(lo, hi, vc.Bytes.At), 0, false); err != nil {
		return nil, err
	}
	if err := addLine(p, fmt.Sprintf("messages fit %.3g·n^%.3f", vc.Messages.Coefficient, vc.Messages.Exponent), curve(lo, hi, vc.Messages.At), 1, false); err != nil {
		return nil, err
	}
	if err := addLine(p, "closed form n²−1 messages", curve(lo, hi, func(n float64) float64 { return n*n - 1 }), 2, true); err != nil {
		return nil, err
	}
	if err := addPoints(p, "bytes", bts, 0); err != nil {
		return nil, err
	}
	if err := addPoints(p, "messages", msgs, 1); err != nil {
		return nil, err
	}
	return p, nil
}
