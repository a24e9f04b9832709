package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/internal/outfile"
	"github.com/pbftsim/pbftsim/reports/spacetime"
	"github.com/pbftsim/pbftsim/sim"
)

// traceFlags are the flags of `pbftsim trace`.
type traceFlags struct {
	svg, html, perfetto, shiviz string
	from, to, title             string
	types, faulty               []string
	maxArrows, replicas         int
	shivizHeader                bool
}

func newTraceCmd() *cobra.Command {
	var fl traceFlags
	cmd := &cobra.Command{
		Use:   "trace FILE",
		Short: "Draw a trace as a space-time diagram or export it to Perfetto / ShiViz",
		Long: `Read a trace written by pbftsim run --trace FILE (JSON Lines .jsonl, binary
.pbt, either zstd-compressed as .jsonl.zst or .pbt.zst; the name picks the
format) and write any of:

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
                       or add --shiviz-header to load the file directly.

--from/--to select a time window (a duration like 250ms or 1.5s, or virtual
nanoseconds); a message is shown when its flight meets the window. At most
--max-arrows arrows are drawn; past the cap the diagram says so and, without
--to, the window is cut after the last arrow drawn. Outputs are written
atomically. A malformed, truncated or corrupt trace is reported as
FILE: record N: problem (exit 2); an unknown extension lists the supported ones.`,
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
	f.BoolVar(&fl.shivizHeader, "shiviz-header", false, "start the ShiViz log with its regex and an empty delimiter line (ShiViz's layout for loading a log from a file)")
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
	if fl.svg == "" && fl.html == "" && fl.perfetto == "" && fl.shiviz == "" {
		return &exitError{code: 2, err: errors.New("trace: nothing to write: give at least one of --svg, --html, --perfetto, --shiviz")}
	}
	opts, err := traceOptions(file, fl)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	// No output may be the trace itself or another output.
	seen := []string{file}
	for _, o := range []struct{ flag, path string }{{"svg", fl.svg}, {"html", fl.html}, {"perfetto", fl.perfetto}, {"shiviz", fl.shiviz}} {
		if o.path == "" {
			continue
		}
		if err := outfile.CheckDistinct(o.path, seen...); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--%s: %w", o.flag, err)}
		}
		seen = append(seen, o.path)
	}
	res, err := spacetime.RenderFile(file, opts, spacetime.Outputs{SVG: fl.svg, HTML: fl.html,
		Perfetto: fl.perfetto, ShiViz: fl.shiviz, ShiVizHeader: fl.shivizHeader})
	if err != nil {
		if spacetime.IsInputError(err) {
			return &exitError{code: 2, err: err}
		}
		return err
	}
	info := res.Info
	fmt.Fprintf(out, "trace %s: %d records, %d replicas, %d clients, %d messages (%d dropped), %v of virtual time\n",
		file, info.Records, res.Replicas, max(int(info.MaxNode)+1-res.Replicas, 0), info.Messages, info.Dropped, info.End)
	if fl.perfetto != "" {
		fmt.Fprintf(out, "wrote %s (open in ui.perfetto.dev or chrome://tracing)\n", fl.perfetto)
	}
	if fl.shiviz != "" {
		fmt.Fprintf(out, "wrote %s (%d events; ShiViz regex: %s)\n", fl.shiviz, res.ShiVizEvents, spacetime.ShiVizRegex)
	}
	st := res.Diagram
	desc := fmt.Sprintf("window %v – %v, %d of %d messages drawn, %d marks", st.From, st.To, st.Arrows, st.InWindow, st.Marks)
	if st.Capped {
		desc += fmt.Sprintf("; capped by --max-arrows %d", fl.maxArrows)
	}
	for _, p := range []string{fl.svg, fl.html} {
		if p != "" {
			fmt.Fprintf(out, "wrote %s (%s)\n", p, desc)
		}
	}
	return nil
}
