package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/reports/spacetime"
	"github.com/pbftsim/pbftsim/sim"
)

// traceFlags are the flags of `pbftsim trace`.
type traceFlags struct {
	svg, html, perfetto, shiviz string
	from, to, title             string
	types, faulty               []string
	maxArrows, replicas         int
}

func newTraceCmd() *cobra.Command {
	var fl traceFlags
	cmd := &cobra.Command{
		Use:   "trace FILE.jsonl",
		Short: "Draw a trace as a space-time diagram or export it to Perfetto / ShiViz",
		Long: `Read a JSON Lines trace (pbftsim run --trace FILE.jsonl) and write any of:

  --svg out.svg        a space-time (Lamport) diagram: one lane per replica and
                       client, one arrow per message coloured by type, dropped
                       messages crossed where they were lost, Byzantine nodes
                       highlighted, commits, executions, view changes,
                       checkpoints, crashes marked, and an overview strip of
                       the whole run's message density.
  --html out.html      the same diagram in a self-contained page (no network)
                       with filters by type, sequence number, view and node;
                       hover a message to see its fields.
  --perfetto out.json  Chrome trace-event JSON: open it in ui.perfetto.dev or
                       chrome://tracing (one thread per node, flows per message).
  --shiviz out.log     ShiViz log with vector clocks. Paste it into ShiViz with
                       the regular expression
                         (?<event>.*)\n(?<host>\S*) (?<clock>{.*})

--from/--to select a time window (a duration like 250ms or 1.5s, or virtual
nanoseconds); a message is shown when its flight meets the window. At most
--max-arrows arrows are drawn; past the cap the diagram says so and, without
--to, the window is cut after the last arrow drawn. Outputs are written
atomically. A malformed trace is reported as FILE:LINE: problem (exit 2).`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: 2, err: fmt.Errorf("trace: want exactly one trace file, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrace(cmd.OutOrStdout(), args[0], &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.svg, "svg", "", "write the space-time diagram as SVG to this file")
	f.StringVar(&fl.html, "html", "", "write the interactive diagram as self-contained HTML to this file")
	f.StringVar(&fl.perfetto, "perfetto", "", "write Chrome trace-event JSON (Perfetto) to this file")
	f.StringVar(&fl.shiviz, "shiviz", "", "write a ShiViz log with vector clocks to this file")
	f.StringVar(&fl.from, "from", "", "start of the time window (duration such as 250ms, or nanoseconds)")
	f.StringVar(&fl.to, "to", "", "end of the time window (duration such as 1.5s, or nanoseconds)")
	f.StringSliceVar(&fl.types, "types", nil, "only these message types, e.g. PREPARE,COMMIT")
	f.IntVar(&fl.maxArrows, "max-arrows", spacetime.DefaultMaxArrows, fmt.Sprintf("most arrows drawn, in [1, %d]", spacetime.MaxMaxArrows))
	f.StringSliceVar(&fl.faulty, "faulty", nil, "node ids to highlight as Byzantine, e.g. 1,2 (added to those the trace declares)")
	f.IntVar(&fl.replicas, "replicas", 0, "number of replicas n (ids 0..n-1; clients after); 0 infers it from the trace")
	f.StringVar(&fl.title, "title", "", "diagram title (default: the trace file name)")
	return cmd
}

// parseTraceTime reads a window bound: a Go duration or integer nanoseconds.
func parseTraceTime(flag, s string) (sim.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("--%s: %d is negative (want a time >= 0)", flag, n)
		}
		return sim.Time(n), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("--%s: %q is not a duration (like 250ms or 1.5s) or a number of nanoseconds", flag, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("--%s: %v is negative (want a time >= 0)", flag, d)
	}
	return sim.Time(d), nil
}

func traceOptions(file string, fl *traceFlags) (spacetime.Options, error) {
	opts := spacetime.Options{MaxArrows: fl.maxArrows, Replicas: fl.replicas, Title: fl.title}
	if opts.Title == "" {
		opts.Title = "pbftsim trace " + file
	}
	var err error
	if fl.from != "" {
		if opts.From, err = parseTraceTime("from", fl.from); err != nil {
			return opts, err
		}
		opts.HasFrom = true
	}
	if fl.to != "" {
		if opts.To, err = parseTraceTime("to", fl.to); err != nil {
			return opts, err
		}
		opts.HasTo = true
	}
	if fl.maxArrows < 1 || fl.maxArrows > spacetime.MaxMaxArrows {
		return opts, fmt.Errorf("--max-arrows: %d out of range [1, %d]", fl.maxArrows, spacetime.MaxMaxArrows)
	}
	for _, t := range fl.types {
		t = strings.TrimSpace(t)
		if t == "" {
			return opts, errors.New("--types: empty message type name")
		}
		opts.Types = append(opts.Types, strings.ToUpper(t))
	}
	for _, s := range fl.faulty {
		id, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || id < 0 || id > spacetime.MaxNodeID {
			return opts, fmt.Errorf("--faulty: %q is not a node id in [0, %d]", s, spacetime.MaxNodeID)
		}
		opts.Faulty = append(opts.Faulty, sim.NodeID(id))
	}
	if err := opts.Validate(); err != nil {
		return opts, fmt.Errorf("--%w", err)
	}
	return opts, nil
}

func runTrace(out io.Writer, file string, fl *traceFlags) error {
	bad := func(err error) error { return &exitError{code: 2, err: err} }
	if fl.svg == "" && fl.html == "" && fl.perfetto == "" && fl.shiviz == "" {
		return bad(errors.New("trace: nothing to write: give at least one of --svg, --html, --perfetto, --shiviz"))
	}
	opts, err := traceOptions(file, fl)
	if err != nil {
		return bad(err)
	}
	for _, o := range []struct{ flag, path string }{{"svg", fl.svg}, {"html", fl.html}, {"perfetto", fl.perfetto}, {"shiviz", fl.shiviz}} {
		if o.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(o.path)); err != nil || !st.IsDir() {
			return bad(fmt.Errorf("--%s %s: directory %s does not exist", o.flag, o.path, filepath.Dir(o.path)))
		}
	}
	// Pass 1: roles, faulty nodes and types, so that every output names
	// nodes the same way.
	info, err := scanTraceFile(file)
	if err != nil {
		return bad(err)
	}
	if opts.Replicas == 0 {
		opts.Replicas = info.Replicas
	}
	for _, t := range opts.Types {
		if !slices.Contains(info.Types, t) {
			return bad(fmt.Errorf("--types: %q does not occur in %s (types present: %s)", t, file, strings.Join(info.Types, ", ")))
		}
	}
	opts.Faulty = append(opts.Faulty, info.Faulty...)

	// Pass 2: render.
	var consumers []spacetime.Consumer
	var diagram *spacetime.Diagram
	if fl.svg != "" || fl.html != "" {
		diagram = spacetime.NewDiagram(opts)
		consumers = append(consumers, diagram)
	}
	var files []*spacetime.AtomicFile
	defer func() {
		for _, f := range files {
			f.Abort()
		}
	}()
	var perfetto *spacetime.PerfettoWriter
	if fl.perfetto != "" {
		af, err := spacetime.CreateAtomic(fl.perfetto)
		if err != nil {
			return bad(err)
		}
		files = append(files, af)
		perfetto = spacetime.NewPerfettoWriter(af, opts)
		consumers = append(consumers, perfetto)
	}
	var shiviz *spacetime.ShiVizWriter
	if fl.shiviz != "" {
		af, err := spacetime.CreateAtomic(fl.shiviz)
		if err != nil {
			return bad(err)
		}
		files = append(files, af)
		shiviz = spacetime.NewShiVizWriter(af, opts)
		consumers = append(consumers, shiviz)
	}
	f, err := os.Open(file)
	if err != nil {
		return bad(err)
	}
	defer f.Close()
	if err := spacetime.Process(spacetime.NewReader(f, file), consumers...); err != nil {
		var pe *spacetime.ParseError
		if errors.As(err, &pe) {
			return bad(err)
		}
		return err
	}
	fmt.Fprintf(out, "trace %s: %d records, %d replicas, %d clients, %d messages (%d dropped), %v of virtual time\n",
		file, info.Records, opts.Replicas, max(int(info.MaxNode)+1-opts.Replicas, 0), info.Messages, info.Dropped, info.End)
	if perfetto != nil {
		if err := perfetto.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", fl.perfetto, err)
		}
	}
	if shiviz != nil {
		if err := shiviz.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", fl.shiviz, err)
		}
	}
	for _, af := range files {
		if err := af.Commit(); err != nil {
			return err
		}
	}
	if perfetto != nil {
		fmt.Fprintf(out, "wrote %s (open in ui.perfetto.dev or chrome://tracing)\n", fl.perfetto)
	}
	if shiviz != nil {
		fmt.Fprintf(out, "wrote %s (%d events; ShiViz regex: %s)\n", fl.shiviz, shiviz.Events(), spacetime.ShiVizRegex)
	}
	if diagram != nil {
		st := diagram.Stats()
		desc := fmt.Sprintf("window %v – %v, %d of %d messages drawn, %d marks", st.From, st.To, st.Arrows, st.InWindow, st.Marks)
		if st.Capped {
			desc += fmt.Sprintf("; capped by --max-arrows %d", fl.maxArrows)
		}
		if fl.svg != "" {
			if err := spacetime.WriteFileAtomic(fl.svg, func(w io.Writer) error { return diagram.WriteSVG(w) }); err != nil {
				return err
			}
			fmt.Fprintf(out, "wrote %s (%s)\n", fl.svg, desc)
		}
		if fl.html != "" {
			if err := spacetime.WriteFileAtomic(fl.html, func(w io.Writer) error { return diagram.WriteHTML(w) }); err != nil {
				return err
			}
			fmt.Fprintf(out, "wrote %s (%s)\n", fl.html, desc)
		}
	}
	return nil
}

func scanTraceFile(file string) (*spacetime.Info, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return spacetime.Scan(spacetime.NewReader(f, file))
}
