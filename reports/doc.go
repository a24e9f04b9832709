package reports

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

// doc is the report's content, rendered both as Markdown and as HTML.
type doc struct {
	title  string
	blocks []block
}

type block struct {
	heading string   // "## heading" when set
	text    []string // paragraphs
	code    string   // a command line
	bullets []string
	table   *table
	figure  string // figure name
}

type table struct {
	head []string
	rows [][]string
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func f3(x float64) string  { return strconv.FormatFloat(x, 'f', 3, 64) }
func f1(x float64) string  { return strconv.FormatFloat(x, 'f', 1, 64) }
func num(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
func pct(r float64) string { return fmt.Sprintf("%+.1f%%", (r-1)*100) }

func pm(s Stat) string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 || s.Std == 0 {
		return num(s.Mean)
	}
	return num(s.Mean) + " ± " + strconv.FormatFloat(s.Std, 'g', 3, 64)
}

func ci(s Stat) string {
	if s.N == 0 {
		return "–"
	}
	if !s.Meaningful {
		return fmt.Sprintf("%s [CI n/a: %d seeds < %d]", num(s.Mean), s.N, MinCISamples)
	}
	return fmt.Sprintf("%s [%s, %s]", num(s.Mean), num(s.CI[0]), num(s.CI[1]))
}

func seedsText(s *Summary) string {
	var b []string
	for _, x := range s.Seeds {
		b = append(b, strconv.FormatUint(x, 10))
	}
	return fmt.Sprintf("%d per n (%s)", len(s.Seeds), strings.Join(b, ", "))
}

func document(s *Summary, figs []Figure) *doc {
	d := &doc{title: "PBFT complexity report"}
	add := func(b block) { d.blocks = append(d.blocks, b) }
	nodes := make([]string, len(s.Nodes))
	for i, n := range s.Nodes {
		nodes[i] = strconv.Itoa(n)
	}
	version := s.Version
	if version == "" {
		version = "unknown"
	}
	add(block{text: []string{"**Verdict:** " + s.Verdict}})
	add(block{heading: "Parameters", table: &table{head: []string{"parameter", "value"}, rows: [][]string{
		{"pbftsim version", version},
		{"scenario", s.Scenario},
		{"n", strings.Join(nodes, ", ")},
		{"seeds", seedsText(s)},
		{"requests per run", strconv.Itoa(s.Requests)},
		{"batch size b", strconv.Itoa(s.Batch)},
		{"checkpoint interval K", strconv.Itoa(s.K)},
		{"tolerance", fmt.Sprintf("%.0f%% above the closed form", s.Tolerance*100)},
	}}})
	if s.Command != "" {
		add(block{text: []string{"Regenerate this report with:"}, code: s.Command})
	}

	fitRows := [][]string{}
	if s.Fit.Points > 0 {
		fitRows = append(fitRows,
			[]string{"fitted exponent k (messages/request ≈ a·n^k)", f3(s.Fit.Exponent)},
			[]string{"95% confidence interval of k", fmt.Sprintf("[%s, %s]", f3(s.Fit.ExponentCI[0]), f3(s.Fit.ExponentCI[1]))},
			[]string{"R² (log-log)", strconv.FormatFloat(s.Fit.R2, 'f', 6, 64)},
			[]string{"coefficient a", num(s.Fit.Coefficient)},
			[]string{"quadratic fit", fmt.Sprintf("%s·n² %+.4g·n %+.4g (R² %.6f)", num(s.Quadratic.A), s.Quadratic.B, s.Quadratic.C, s.Quadratic.R2)},
		)
	}
	fitRows = append(fitRows,
		[]string{"closed form per request", s.ClosedForm.Formula},
		[]string{"log-log slope of the closed form over the same n", f3(s.ClosedForm.Exponent)},
	)
	if s.BytesFit != nil {
		fitRows = append(fitRows, []string{"exponent of bytes per request", fmt.Sprintf("%s [%s, %s]", f3(s.BytesFit.Exponent), f3(s.BytesFit.ExponentCI[0]), f3(s.BytesFit.ExponentCI[1]))})
	}
	fitRows = append(fitRows,
		[]string{"max measured / closed form", fmt.Sprintf("%s (%s at n=%d)", f3(s.ClosedForm.MaxRatio), pct(s.ClosedForm.MaxRatio), s.ClosedForm.MaxRatioN)},
		[]string{"counts equal the closed form exactly", yesNo(s.Exact)},
		[]string{"within the O(n²) bound (the exponent; decides the headline)", yesNo(s.WithinBound)},
		[]string{"constants within tolerance of the closed form", yesNo(s.ConstantsWithin)},
	)
	add(block{heading: "Fit", text: []string{"Least squares on (ln n, ln messages per committed request) over the mean of the seeds at each n " +
		"(gonum/stat.LinearRegression); the exponent's interval is the slope ± t(0.975, m−2) × its standard error. " +
		"The quadratic is a least-squares fit with gonum/mat."},
		table: &table{head: []string{"quantity", "value"}, rows: fitRows}})

	cmp := &table{head: []string{"n", "f", "normal msgs/request", "closed form", "ratio", "checkpoint msgs/round", "n(n−1)", "msgs/view change", "n²−1", "exact"}}
	for _, c := range s.ClosedForm.PerN {
		row := []string{strconv.Itoa(c.N), strconv.Itoa((c.N - 1) / 3), "–", num(c.NormalClosedForm), "–", "–", num(c.CheckpointClosedForm), "–", num(c.ViewChangeClosedForm), yesNo(c.Exact)}
		if c.NormalMeasured > 0 {
			row[2], row[4] = num(c.NormalMeasured), f3(c.NormalRatio)
		}
		if c.CheckpointPerRound > 0 {
			row[5] = num(c.CheckpointPerRound)
		}
		if c.ViewChangeMessages > 0 {
			row[7] = num(c.ViewChangeMessages)
		}
		cmp.rows = append(cmp.rows, row)
	}
	add(block{heading: "Closed-form comparison", text: []string{"Normal case = REQUEST + PRE-PREPARE + PREPARE + COMMIT + REPLY per committed request (closed form " +
		s.ClosedForm.Formula + "); a checkpoint round costs n(n−1) CHECKPOINTs (one round every K sequence numbers); a view change costs n²−1 VIEW-CHANGE + NEW-VIEW messages. Means over seeds."},
		table: cmp})

	var devs []string
	for _, dv := range s.Deviations {
		unit := "per committed request"
		switch dv.Phase {
		case PhaseCheckpoint:
			unit = "per checkpoint round"
		case PhaseViewChange:
			unit = "per view change"
		}
		devs = append(devs, fmt.Sprintf("n=%d, %s: %s above the closed form (%s more messages %s): %s.", dv.N, strings.ReplaceAll(dv.Phase, "_", " "), pct(dv.Ratio), num(dv.Excess), unit, dv.Why))
	}
	if len(devs) == 0 {
		devs = []string{"None: no n exceeds the closed form by more than the tolerance."}
	} else {
		devs = append([]string{fmt.Sprintf("Measured counts exceed the closed form at %d point(s):", len(s.Deviations))}, devs...)
	}
	var drops []string
	for _, p := range s.Points {
		if p.Dropped.Mean > 0 || p.Duplicated.Mean > 0 {
			drops = append(drops, fmt.Sprintf("n=%d: %s dropped, %s duplicated per run", p.N, num(p.Dropped.Mean), num(p.Duplicated.Mean)))
		}
	}
	if len(drops) > 0 {
		devs = append(devs, "The network lost or duplicated messages ("+strings.Join(drops, "; ")+"); dropped messages are counted as sent.")
	}
	add(block{heading: "Deviations", bullets: devs})

	types := typesOf(s.Runs, false)
	byType := &table{head: append(append([]string{"n"}, types...), "total")}
	bytesByType := &table{head: append(append([]string{"n"}, types...), "total")}
	phases := &table{head: []string{"n", "normal", "checkpoint", "view change", "other", "total", "bytes/request"}}
	for _, p := range measured(s) {
		r := []string{strconv.Itoa(p.N)}
		rb := []string{strconv.Itoa(p.N)}
		for _, t := range types {
			r = append(r, pm(p.ByType[t]))
			rb = append(rb, pm(p.BytesByType[t]))
		}
		byType.rows = append(byType.rows, append(r, pm(p.MessagesPerRequest)))
		bytesByType.rows = append(bytesByType.rows, append(rb, pm(p.BytesPerRequest)))
		phases.rows = append(phases.rows, []string{strconv.Itoa(p.N), pm(p.NormalPerRequest), pm(p.CheckpointPerRequest),
			pm(p.ViewChangePerRequest), pm(p.OtherPerRequest), pm(p.MessagesPerRequest), pm(p.BytesPerRequest)})
	}
	add(block{heading: "Messages per committed request by type", text: []string{"Mean ± standard deviation over seeds."}, table: byType})
	add(block{heading: "Messages per committed request by phase", text: []string{"Normal case: REQUEST, PRE-PREPARE, PREPARE, COMMIT, REPLY; checkpoint: CHECKPOINT; view change: VIEW-CHANGE, NEW-VIEW, FETCH-STATE, STATE."}, table: phases})
	add(block{heading: "Bytes per committed request by type", table: bytesByType})

	vcRows := &table{head: []string{"n", "view changes per run", "msgs/view change", "n²−1", "bytes/view change"}}
	anyVC := false
	for _, p := range s.Points {
		if p.ViewChanges.Mean > 0 {
			anyVC = true
		}
		vcRows.rows = append(vcRows.rows, []string{strconv.Itoa(p.N), pm(p.ViewChanges), pm(p.MessagesPerViewChange),
			num(p.ClosedForm.ViewChange), pm(p.BytesPerViewChange)})
	}
	vcText := []string{"No view change happened in this sweep, so the cost of a view change was not measured."}
	if anyVC {
		vcText = []string{"Messages per view change count VIEW-CHANGE + NEW-VIEW divided by the number of NEW-VIEWs entered."}
		if v := s.ViewChange; v != nil {
			vcText = append(vcText, fmt.Sprintf("Messages per view change grow as n^%s (95%% CI [%s, %s], R² %s); bytes per view change grow as n^%s (95%% CI [%s, %s], R² %s). "+
				"Certificates carry O(n) signed messages each, so bytes are expected to grow faster than messages (up to Θ(n³)).",
				f3(v.Messages.Exponent), f3(v.Messages.ExponentCI[0]), f3(v.Messages.ExponentCI[1]), f3(v.Messages.R2),
				f3(v.Bytes.Exponent), f3(v.Bytes.ExponentCI[0]), f3(v.Bytes.ExponentCI[1]), f3(v.Bytes.R2)))
		} else {
			vcText = append(vcText, "Fewer than 3 values of n had view changes: no fit.")
		}
	}
	add(block{heading: "View changes", text: vcText, table: vcRows})

	lat := &table{head: []string{"n", "committed per run", "latency p50 ms [95% CI]", "latency p99 ms [95% CI]", "throughput req/s (simulated)"}}
	for _, p := range s.Points {
		lat.rows = append(lat.rows, []string{strconv.Itoa(p.N), pm(p.Committed), ci(p.LatencyP50Ms), ci(p.LatencyP99Ms), ci(p.Throughput)})
	}
	add(block{heading: "Latency and throughput", text: []string{"Simulated time. Throughput is committed requests per simulated second of the run."}, table: lat})
	for _, b := range bandwidthBlocks(s) { // rate-limited links (bandwidth.go)
		add(b)
	}

	wall := &table{head: []string{"n", "simulated s per run", "wall-clock s per run", "simulated / wall"}}
	for _, w := range s.Wall.PerN {
		wall.rows = append(wall.rows, []string{strconv.Itoa(w.N), num(w.SimS), num(w.WallS), num(w.Speedup)})
	}
	add(block{heading: "Simulated vs wall-clock time", text: []string{fmt.Sprintf("Wall-clock time is measured around each run by the report (%d workers, %s s in total); it is the only part of the report that changes between identical sweeps.",
		s.Wall.Workers, f1(float64(s.Wall.TotalNs)/1e9))}, table: wall})

	for i, f := range figs {
		b := block{figure: f.Name, text: []string{f.Title}}
		if i == 0 {
			b.heading = "Plots"
		}
		add(b)
	}
	return d
}

func mdCell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

func (d *doc) markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", d.title)
	for _, bl := range d.blocks {
		if bl.heading != "" {
			fmt.Fprintf(&b, "## %s\n\n", bl.heading)
		}
		for _, t := range bl.text {
			if bl.figure != "" {
				fmt.Fprintf(&b, "![%s](%s.png)\n\n", t, bl.figure)
				fmt.Fprintf(&b, "*%s* ([SVG](%s.svg))\n\n", t, bl.figure)
				continue
			}
			fmt.Fprintf(&b, "%s\n\n", t)
		}
		if bl.code != "" {
			fmt.Fprintf(&b, "```sh\n%s\n```\n\n", bl.code)
		}
		for _, x := range bl.bullets {
			fmt.Fprintf(&b, "- %s\n", x)
		}
		if len(bl.bullets) > 0 {
			b.WriteString("\n")
		}
		if t := bl.table; t != nil {
			row := func(cells []string) {
				b.WriteString("|")
				for _, c := range cells {
					fmt.Fprintf(&b, " %s |", mdCell(c))
				}
				b.WriteString("\n")
			}
			row(t.head)
			b.WriteString("|")
			for range t.head {
				b.WriteString("---|")
			}
			b.WriteString("\n")
			for _, r := range t.rows {
				row(r)
			}
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"bold": func(s string) template.HTML {
		esc := template.HTMLEscapeString(s)
		if rest, ok := strings.CutPrefix(esc, "**Verdict:** "); ok {
			return template.HTML("<strong>Verdict:</strong> " + rest)
		}
		return template.HTML(esc)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem;font-size:0.9rem}
th,td{border:1px solid #ccc;padding:0.25rem 0.5rem;text-align:right}
th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
pre{background:#f6f6f6;padding:0.5rem;overflow-x:auto}
img{max-width:100%;border:1px solid #ddd;margin:0.5rem 0}
figcaption{font-style:italic;color:#555}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Blocks}}{{if .Heading}}<h2>{{.Heading}}</h2>
{{end}}{{if .Image}}<figure><img alt="{{.Caption}}" src="{{.Image}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}{{range .Text}}<p>{{bold .}}</p>
{{end}}{{end}}{{if .Code}}<pre><code>{{.Code}}</code></pre>
{{end}}{{if .Bullets}}<ul>{{range .Bullets}}<li>{{.}}</li>{{end}}</ul>
{{end}}{{with .Table}}<table><thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{end}}{{end}}</body>
</html>
`))

type htmlTable struct {
	Head []string
	Rows [][]string
}

type htmlBlock struct {
	Heading string
	Text    []string
	Code    string
	Bullets []string
	Table   *htmlTable
	Image   template.URL
	Caption string
}

// html renders the document as one self-contained page: plots are PNG data
// URIs, styles are inline, nothing is loaded from elsewhere.
func (d *doc) html(figs []Figure) ([]byte, error) {
	pngs := map[string][]byte{}
	for _, f := range figs {
		pngs[f.Name] = f.PNG
	}
	var blocks []htmlBlock
	for _, bl := range d.blocks {
		h := htmlBlock{Heading: bl.heading, Text: bl.text, Code: bl.code, Bullets: bl.bullets}
		if bl.table != nil {
			h.Table = &htmlTable{Head: bl.table.head, Rows: bl.table.rows}
		}
		if bl.figure != "" {
			h.Image = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(pngs[bl.figure]))
			h.Caption = strings.Join(bl.text, " ")
		}
		blocks = append(blocks, h)
	}
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, struct {
		Title  string
		Blocks []htmlBlock
	}{d.title, blocks}); err != nil {
		return nil, fmt.Errorf("report: report.html: %w", err)
	}
	return b.Bytes(), nil
}
