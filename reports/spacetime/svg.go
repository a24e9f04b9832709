package spacetime

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pbftsim/pbftsim/sim"
)

// Geometry of a diagram (pixels).
const (
	svgWidth    = 1200
	marginLeft  = 110
	marginRight = 24
	plotWidth   = svgWidth - marginLeft - marginRight
	laneHeight  = 36
	overviewH   = 34
	// OverviewBuckets is the number of time buckets of the density strip.
	OverviewBuckets = 240
	maxTitleMsg     = 600 // bytes of message JSON shown in a tooltip
)

// typeColors are the colours of PBFT message types; other types get one of
// extraColors by a hash of their name.
var typeColors = map[string]string{
	"REQUEST": "#1f77b4", "PRE-PREPARE": "#9467bd", "PREPARE": "#ff7f0e", "COMMIT": "#2ca02c",
	"REPLY": "#17becf", "CHECKPOINT": "#8c564b", "VIEW-CHANGE": "#d62728", "NEW-VIEW": "#e377c2",
	"FETCH-STATE": "#7f7f7f", "STATE": "#bcbd22",
}

var extraColors = []string{"#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354"}

// TypeColor returns the colour of a message type in diagrams.
func TypeColor(t string) string {
	if c, ok := typeColors[t]; ok {
		return c
	}
	h := fnv.New32a()
	h.Write([]byte(t))
	return extraColors[h.Sum32()%uint32(len(extraColors))]
}

// svgGeom maps times and nodes to coordinates.
type svgGeom struct {
	l                          *layout
	laneY                      map[sim.NodeID]float64
	yTitle, yLegend, yOverview float64
	yAxis, yLanes, height      float64
	legendRows                 int
}

func (l *layout) geom() *svgGeom {
	g := &svgGeom{l: l, laneY: map[sim.NodeID]float64{}}
	g.yTitle = 22
	g.yLegend = 78
	// legend: message types then mark symbols, in rows of legendPerRow.
	items := len(l.types) + len(markLegend) + 1
	g.legendRows = (items + legendPerRow - 1) / legendPerRow
	g.yOverview = g.yLegend + float64(g.legendRows)*18 + 10
	g.yAxis = g.yOverview + overviewH + 22
	g.yLanes = g.yAxis + 10
	for i, n := range l.lanes {
		g.laneY[n] = g.yLanes + float64(i)*laneHeight + laneHeight/2
	}
	g.height = g.yLanes + float64(len(l.lanes))*laneHeight + 24
	return g
}

const legendPerRow = 7

func (g *svgGeom) x(t sim.Time) float64 {
	l := g.l
	return marginLeft + float64(t-l.from)/float64(l.to-l.from)*plotWidth
}

func (g *svgGeom) y(n sim.NodeID) float64 { return g.laneY[n] }

// f1 formats a coordinate with one decimal, deterministically.
func f1(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	v = math.Max(-1e7, math.Min(1e7, v))
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64)
}

// esc escapes text for XML/HTML content and attributes.
func esc(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&#39;")
		default:
			if r < 0x20 && r != '\n' && r != '\t' {
				b.WriteString("\uFFFD")
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clipUTF8 cuts s to at most n bytes on a rune boundary.
func clipUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// cssClass turns a type or event name into a CSS class fragment.
func cssClass(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// WriteSVG writes the diagram as a standalone SVG document.
func (d *Diagram) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	l := d.build()
	g := l.geom()
	fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	fmt.Fprintf(bw, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%s\" viewBox=\"0 0 %d %s\" font-family=\"sans-serif\" font-size=\"11\">\n",
		svgWidth, f1(g.height), svgWidth, f1(g.height))
	d.writeSVGBody(bw, g)
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

func (d *Diagram) title() string {
	if d.opts.Title != "" {
		return d.opts.Title
	}
	return "pbftsim space-time diagram"
}

// writeSVGBody writes everything inside the <svg> element.
func (d *Diagram) writeSVGBody(w *bufio.Writer, g *svgGeom) {
	l := g.l
	fmt.Fprintf(w, "<style>.msg line{stroke-width:1.3} .msg:hover line{stroke-width:3} .msg line.halo{stroke-width:7;stroke-opacity:0.3} .lane-label{font-weight:bold} .note{fill:#b00020} text{fill:#222}</style>\n")
	// Arrow heads, one per type.
	w.WriteString("<defs>\n")
	for i, t := range l.types {
		fmt.Fprintf(w, "<marker id=\"ah%d\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/></marker>\n", i, TypeColor(t))
	}
	fmt.Fprintf(w, "<clipPath id=\"plot\"><rect x=\"%d\" y=\"%s\" width=\"%d\" height=\"%s\"/></clipPath>\n",
		marginLeft-2, f1(g.yLanes), plotWidth+4, f1(float64(len(l.lanes))*laneHeight))
	w.WriteString("</defs>\n")

	// Title and summary.
	fmt.Fprintf(w, "<text x=\"10\" y=\"%s\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", f1(g.yTitle), esc(d.title()))
	clients := max(len(l.lanes)-l.replicas, 0)
	fmt.Fprintf(w, "<text x=\"10\" y=\"%s\">window %s – %s · %d of %d messages drawn (%d dropped) · %d marks · %d replicas, %d clients</text>\n",
		f1(g.yTitle+18), l.from, l.to, len(l.arrows), l.inWindow, l.dropped, len(l.marks), min(l.replicas, len(l.lanes)), clients)
	if note := l.note(d.opts.maxArrows()); note != "" {
		fmt.Fprintf(w, "<text class=\"note\" x=\"10\" y=\"%s\">%s</text>\n", f1(g.yTitle+33), esc(note))
	}

	// Legend.
	w.WriteString("<g class=\"legend\">\n")
	i := 0
	item := func() (float64, float64) {
		x := 10 + float64(i%legendPerRow)*165
		y := g.yLegend + float64(i/legendPerRow)*18
		i++
		return x, y
	}
	for ti, t := range l.types {
		x, y := item()
		fmt.Fprintf(w, "<g class=\"legend-type\" data-type=\"%s\"><line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"2\" marker-end=\"url(#ah%d)\"/><text x=\"%s\" y=\"%s\">%s (%d)</text></g>\n",
			esc(t), f1(x), f1(y-4), f1(x+24), f1(y-4), TypeColor(t), ti, f1(x+30), f1(y), esc(t), l.typeCount[t])
	}
	for _, m := range markLegend {
		x, y := item()
		w.WriteString("<g class=\"legend-mark\">")
		writeMarkShape(w, m, x+10, y-4)
		fmt.Fprintf(w, "<text x=\"%s\" y=\"%s\">%s</text></g>\n", f1(x+30), f1(y), esc(markLabel[m]))
	}
	x, y := item()
	fmt.Fprintf(w, "<g class=\"legend-mark\">")
	writeCross(w, x+10, y-4)
	fmt.Fprintf(w, "<text x=\"%s\" y=\"%s\">dropped message</text></g>\n", f1(x+30), f1(y))
	w.WriteString("</g>\n")

	d.writeOverview(w, g)

	// Time axis and grid.
	w.WriteString("<g class=\"axis\">\n")
	step := niceStep(int64(l.to-l.from) / 8)
	first := (int64(l.from) + step - 1) / step * step
	for t, i := first, 0; t <= int64(l.to) && t >= first && i < 50; t, i = t+step, i+1 {
		x := g.x(sim.Time(t))
		fmt.Fprintf(w, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#ddd\"/><text x=\"%s\" y=\"%s\" text-anchor=\"middle\" fill=\"#555\">%s</text>\n",
			f1(x), f1(g.yAxis), f1(x), f1(g.height-20), f1(x), f1(g.yAxis-3), sim.Time(t))
	}
	w.WriteString("</g>\n")

	// Lanes.
	w.WriteString("<g class=\"lanes\">\n")
	for _, n := range l.lanes {
		y := g.y(n)
		name := NodeName(n, l.replicas)
		label := name
		cls := "lane"
		if l.faulty[n] {
			cls += " byzantine"
			label += " (Byzantine)"
			fmt.Fprintf(w, "<rect x=\"0\" y=\"%s\" width=\"%d\" height=\"%d\" fill=\"#fde2e2\"/>\n", f1(y-laneHeight/2), svgWidth, laneHeight)
		}
		fmt.Fprintf(w, "<g class=\"%s\" data-node=\"%d\"><line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"#888\"/><text class=\"lane-label\" x=\"8\" y=\"%s\">%s</text></g>\n",
			cls, n, marginLeft, f1(y), marginLeft+plotWidth, f1(y), f1(y+4), esc(label))
	}
	for _, c := range l.crashes {
		if c.to < l.from || c.from > l.to {
			continue
		}
		x1, x2 := g.x(max(c.from, l.from)), g.x(min(c.to, l.to))
		fmt.Fprintf(w, "<line class=\"down\" data-node=\"%d\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#999\" stroke-width=\"7\" stroke-opacity=\"0.45\"><title>%s down %s – %s</title></line>\n",
			c.node, f1(x1), f1(g.y(c.node)), f1(x2), f1(g.y(c.node)), NodeName(c.node, l.replicas), c.from, downEnd(c))
	}
	w.WriteString("</g>\n")

	// Messages.
	fmt.Fprintf(w, "<g class=\"messages\" clip-path=\"url(#plot)\">\n")
	typeIdx := map[string]int{}
	for i, t := range l.types {
		typeIdx[t] = i
	}
	for _, a := range l.arrows {
		d.writeArrow(w, g, a, typeIdx[a.Type])
	}
	w.WriteString("</g>\n")

	d.writeAnnotations(w, g)

	// Marks.
	w.WriteString("<g class=\"marks\">\n")
	for _, m := range l.marks {
		fmt.Fprintf(w, "<g class=\"mark ev-%s\" data-node=\"%d\" data-event=\"%s\"%s><title>%s</title>", cssClass(m.Name), m.Node, esc(m.Name),
			fieldAttrs(m.Fields), esc(markTitle(m, l.replicas)))
		writeMarkShape(w, m.Name, g.x(m.T), g.y(m.Node))
		w.WriteString("</g>\n")
	}
	w.WriteString("</g>\n")
}

func downEnd(c span) string {
	if c.open {
		return "end of trace"
	}
	return c.to.String()
}

// note explains what the cap left out, or "".
func (l *layout) note(limit int) string {
	var parts []string
	if l.capped {
		s := fmt.Sprintf("showing the first %d of %d messages in the window (--max-arrows %d)", len(l.arrows), l.inWindow, limit)
		if l.autoCut {
			s += fmt.Sprintf("; window cut at %s, use --from/--to to see later ones", l.to)
		}
		parts = append(parts, s)
	}
	if l.marksTotal > len(l.marks) {
		parts = append(parts, fmt.Sprintf("showing %d of %d event marks", len(l.marks), l.marksTotal))
	}
	return strings.Join(parts, "; ")
}

func fieldAttrs(f MsgFields) string {
	s := ""
	if f.HasSeq {
		s += " data-seq=\"" + strconv.FormatUint(f.Seq, 10) + "\""
	}
	if f.HasView {
		s += " data-view=\"" + strconv.FormatUint(f.View, 10) + "\""
	}
	return s
}

func (d *Diagram) writeArrow(w *bufio.Writer, g *svgGeom, a *Arrow, ti int) {
	l := g.l
	x1, y1 := g.x(a.Sent), g.y(a.From)
	x2, y2 := g.x(a.End), g.y(a.To)
	cls := "msg t-" + cssClass(a.Type)
	switch a.Status {
	case Dropped:
		cls += " dropped"
		if a.Reason != "crashed" {
			// Lost in the network: the cross sits between the lanes.
			x2 = math.Max(x2, x1+14)
			y2 = y1 + 0.45*(y2-y1)
		}
	case InFlight:
		cls += " inflight"
	}
	if !a.Matched {
		cls += " nosend"
		x1 -= 14
	}
	byz := l.faulty[a.From] || a.Altered
	if byz {
		cls += " byz"
	}
	if a.Altered {
		cls += " altered"
	}
	fmt.Fprintf(w, "<g class=\"%s\" data-type=\"%s\" data-from=\"%d\" data-to=\"%d\"%s>", cls, esc(a.Type), a.From, a.To, fieldAttrs(a.Fields))
	fmt.Fprintf(w, "<title>%s</title>", esc(arrowTitle(a, l.replicas, byz)))
	if byz {
		fmt.Fprintf(w, "<line class=\"halo\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#e00000\"/>", f1(x1), f1(y1), f1(x2), f1(y2))
	}
	color := TypeColor(a.Type)
	switch a.Status {
	case Delivered:
		fmt.Fprintf(w, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" marker-end=\"url(#ah%d)\"/>", f1(x1), f1(y1), f1(x2), f1(y2), color, ti)
	case Dropped:
		fmt.Fprintf(w, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-dasharray=\"4 3\"/>", f1(x1), f1(y1), f1(x2), f1(y2), color)
		writeCross(w, x2, y2)
	case InFlight:
		fmt.Fprintf(w, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-dasharray=\"1 3\"/>", f1(x1), f1(y1), f1(x2), f1(y2), color)
	}
	w.WriteString("</g>\n")
}

func writeCross(w *bufio.Writer, x, y float64) {
	fmt.Fprintf(w, "<path class=\"cross\" d=\"M%s,%s L%s,%s M%s,%s L%s,%s\" stroke=\"#111\" stroke-width=\"2\"/>",
		f1(x-4), f1(y-4), f1(x+4), f1(y+4), f1(x-4), f1(y+4), f1(x+4), f1(y-4))
}

func arrowTitle(a *Arrow, replicas int, byz bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s → %s", a.Type, NodeName(a.From, replicas), NodeName(a.To, replicas))
	if a.Matched {
		fmt.Fprintf(&b, ", sent %s", a.Sent)
	} else {
		b.WriteString(", send not in trace")
	}
	switch a.Status {
	case Delivered:
		fmt.Fprintf(&b, ", delivered %s", a.End)
	case Dropped:
		fmt.Fprintf(&b, ", DROPPED %s (%s)", a.End, a.Reason)
	case InFlight:
		b.WriteString(", still in flight at the end of the trace")
	}
	if byz {
		b.WriteString(", from a Byzantine replica")
	}
	if a.Equivocation {
		b.WriteString(" (EQUIVOCATION: another digest for the same view and sequence number)")
	} else if a.Altered {
		b.WriteString(" (altered)")
	}
	if len(a.Msg) > 0 {
		b.WriteString("\n")
		b.WriteString(clipUTF8(string(a.Msg), maxTitleMsg))
	}
	return b.String()
}

func markTitle(m Mark, replicas int) string {
	s := fmt.Sprintf("%s at %s, %s", m.Name, NodeName(m.Node, replicas), m.T)
	if len(m.Data) > 0 {
		s += "\n" + clipUTF8(string(m.Data), maxTitleMsg)
	}
	return s
}

// markLegend lists the drawn event marks in legend order.
var markLegend = []string{"committed", "executed", "view-change", "new-view", "stable-checkpoint", "state-transfer", "accepted", "crash", "recover"}

var markLabel = map[string]string{"committed": "committed", "executed": "executed", "view-change": "view change started",
	"new-view": "entered new view", "stable-checkpoint": "stable checkpoint", "state-transfer": "state transfer",
	"accepted": "client accepted", "crash": "crash", "recover": "recover"}

func writeMarkShape(w *bufio.Writer, name string, x, y float64) {
	switch name {
	case "committed":
		fmt.Fprintf(w, "<circle cx=\"%s\" cy=\"%s\" r=\"3.5\" fill=\"#2a9d2a\"/>", f1(x), f1(y))
	case "executed":
		fmt.Fprintf(w, "<rect x=\"%s\" y=\"%s\" width=\"6\" height=\"6\" fill=\"#0b4f0b\"/>", f1(x-3), f1(y-3))
	case "view-change":
		fmt.Fprintf(w, "<path d=\"M%s,%s L%s,%s L%s,%s z\" fill=\"#e67e00\"/>", f1(x), f1(y-7), f1(x-6), f1(y+4), f1(x+6), f1(y+4))
	case "new-view":
		fmt.Fprintf(w, "<path d=\"M%s,%s L%s,%s L%s,%s L%s,%s z\" fill=\"#7b2cbf\"/>", f1(x), f1(y-7), f1(x+6), f1(y), f1(x), f1(y+7), f1(x-6), f1(y))
	case "stable-checkpoint":
		fmt.Fprintf(w, "<circle cx=\"%s\" cy=\"%s\" r=\"6\" fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2\"/>", f1(x), f1(y))
	case "state-transfer":
		fmt.Fprintf(w, "<rect x=\"%s\" y=\"%s\" width=\"10\" height=\"10\" fill=\"none\" stroke=\"#008080\" stroke-width=\"2\"/>", f1(x-5), f1(y-5))
	case "accepted":
		fmt.Fprintf(w, "<circle cx=\"%s\" cy=\"%s\" r=\"4\" fill=\"#17becf\" stroke=\"#000\"/>", f1(x), f1(y))
	case "crash":
		fmt.Fprintf(w, "<path d=\"M%s,%s L%s,%s M%s,%s L%s,%s\" stroke=\"#000\" stroke-width=\"3\"/>", f1(x-7), f1(y-7), f1(x+7), f1(y+7), f1(x-7), f1(y+7), f1(x+7), f1(y-7))
	case "recover":
		fmt.Fprintf(w, "<circle cx=\"%s\" cy=\"%s\" r=\"6\" fill=\"#fff\" stroke=\"#000\" stroke-width=\"2\"/>", f1(x), f1(y))
	default:
		fmt.Fprintf(w, "<circle cx=\"%s\" cy=\"%s\" r=\"2.5\" fill=\"#666\"/>", f1(x), f1(y))
	}
}

// writeOverview draws the whole trace's message density (and drops) as a
// strip of bars, with the drawn window outlined.
func (d *Diagram) writeOverview(w *bufio.Writer, g *svgGeom) {
	l := g.l
	start, end := sim.Time(0), l.end
	if end <= start {
		end = start + 1
	}
	counts := bucketize(d.sends, start, end)
	drops := bucketize(d.drops, start, end)
	peak := 1
	for _, c := range counts {
		peak = max(peak, c)
	}
	y0 := g.yOverview
	bw := float64(plotWidth) / OverviewBuckets
	fmt.Fprintf(w, "<g class=\"overview\"><text x=\"8\" y=\"%s\">overview</text><text x=\"8\" y=\"%s\" fill=\"#555\">0 – %s</text>\n", f1(y0+12), f1(y0+25), end)
	fmt.Fprintf(w, "<rect x=\"%d\" y=\"%s\" width=\"%d\" height=\"%d\" fill=\"#f4f4f4\"/>\n", marginLeft, f1(y0), plotWidth, overviewH)
	span := float64(end - start)
	for i, c := range counts {
		if c == 0 && drops[i] == 0 {
			continue
		}
		x := marginLeft + float64(i)*bw
		h := float64(c) / float64(peak) * (overviewH - 4)
		b0 := start + sim.Time(float64(i)/OverviewBuckets*span)
		b1 := start + sim.Time(float64(i+1)/OverviewBuckets*span)
		fmt.Fprintf(w, "<rect class=\"bucket\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"#4a6fa5\"><title>%s – %s: %d messages, %d dropped</title></rect>",
			f1(x), f1(y0+overviewH-h), f1(math.Max(bw-0.3, 0.5)), f1(h), b0, b1, c, drops[i])
		if drops[i] > 0 {
			fmt.Fprintf(w, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"3\" fill=\"#d00\"/>", f1(x), f1(y0), f1(math.Max(bw-0.3, 0.5)))
		}
		w.WriteString("\n")
	}
	wx1 := marginLeft + float64(l.from-start)/span*plotWidth
	wx2 := marginLeft + float64(l.to-start)/span*plotWidth
	wx1, wx2 = math.Max(marginLeft, math.Min(wx1, marginLeft+plotWidth)), math.Max(marginLeft, math.Min(wx2, marginLeft+plotWidth))
	fmt.Fprintf(w, "<rect class=\"window\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%d\" fill=\"#ffd54f\" fill-opacity=\"0.25\" stroke=\"#c79a00\"><title>window %s – %s</title></rect>\n</g>\n",
		f1(wx1), f1(y0-2), f1(math.Max(wx2-wx1, 1)), overviewH+4, l.from, l.to)
}

// bucketize counts times into OverviewBuckets equal buckets of [start, end].
func bucketize(ts []sim.Time, start, end sim.Time) []int {
	c := make([]int, OverviewBuckets)
	span := float64(end - start)
	for _, t := range ts {
		i := int(float64(t-start) / span * OverviewBuckets)
		c[min(max(i, 0), OverviewBuckets-1)]++
	}
	return c
}

// niceStep returns 1, 2 or 5 times a power of ten, at least approx.
func niceStep(approx int64) int64 {
	if approx < 1 {
		return 1
	}
	p := int64(1)
	for p <= approx/10 {
		p *= 10
	}
	steps := []int64{1, 2, 5, 10}
	i := sort.Search(len(steps), func(i int) bool { return steps[i]*p >= approx })
	return steps[i] * p
}

// writeAnnotations draws Options.Annotations in the window as red vertical
// markers with their text.
func (d *Diagram) writeAnnotations(w *bufio.Writer, g *svgGeom) {
	l := g.l
	w.WriteString("<g class=\"annotations\">\n")
	for _, an := range d.opts.Annotations {
		if an.T < l.from || an.T > l.to {
			continue
		}
		x := g.x(an.T)
		y1, y2 := g.yLanes, g.height-20
		if y, ok := g.laneY[an.Node]; ok && an.Node >= 0 {
			y1, y2 = y-laneHeight/2+2, y+laneHeight/2-2
		}
		// Text runs away from the nearer edge so it is never clipped there.
		tx, anchor := x+4, "start"
		if x > (g.x(l.from)+g.x(l.to))/2 {
			tx, anchor = x-4, "end"
		}
		fmt.Fprintf(w, "<g class=\"annotation\"><title>%s at %s</title><line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"#b00020\" stroke-width=\"2.5\"/><text class=\"note\" x=\"%s\" y=\"%s\" text-anchor=\"%s\" font-weight=\"bold\">%s</text></g>\n",
			esc(an.Text), an.T, f1(x), f1(y1), f1(x), f1(y2), f1(tx), f1(y1+10), anchor, esc(clipUTF8(an.Text, 120)))
	}
	w.WriteString("</g>\n")
}
