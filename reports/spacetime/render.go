package spacetime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Outputs names the files RenderFile writes; empty names are skipped.
type Outputs struct {
	SVG, HTML, Perfetto, ShiViz string
	// ShiVizHeader starts the ShiViz log with its regex and an empty
	// delimiter line (see ShiVizWriter.WriteHeader).
	ShiVizHeader bool
}

// Rendered reports what RenderFile wrote.
type Rendered struct {
	Info         *Info // the whole trace
	Replicas     int   // the number of replicas used to name nodes
	Diagram      Stats // for SVG/HTML
	ShiVizEvents int
}

// InputError is bad input other than a malformed trace line (which is a
// *ParseError): options out of range, a missing trace file or output
// directory, a message type the trace lacks.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is bad input (an *InputError or a
// *ParseError): the CLI's exit status 2.
func IsInputError(err error) bool {
	var ie *InputError
	var pe *ParseError
	return errors.As(err, &ie) || errors.As(err, &pe)
}

// RenderFile reads the trace at path (any of TraceFormats) twice: once for its Info
// (replica count unless opts.Replicas is set, faulty nodes, types), then to
// write every requested output atomically. Bad input is reported as an
// *InputError or a *ParseError (see IsInputError).
func RenderFile(path string, opts Options, out Outputs) (*Rendered, error) {
	bad := func(format string, a ...any) error { return &InputError{fmt.Errorf(format, a...)} }
	if out.SVG == "" && out.HTML == "" && out.Perfetto == "" && out.ShiViz == "" {
		return nil, bad("nothing to write: no SVG, HTML, Perfetto or ShiViz output named")
	}
	if err := opts.Validate(); err != nil {
		return nil, &InputError{err}
	}
	for _, o := range []struct{ what, path string }{{"svg", out.SVG}, {"html", out.HTML}, {"perfetto", out.Perfetto}, {"shiviz", out.ShiViz}} {
		if o.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(o.path)); err != nil || !st.IsDir() {
			return nil, bad("%s output %s: directory %s does not exist", o.what, o.path, filepath.Dir(o.path))
		}
	}
	info, err := scanFile(path)
	if err != nil {
		return nil, err
	}
	opts.Faulty = append(slices.Clone(opts.Faulty), info.Faulty...)
	if opts.Replicas == 0 {
		opts.Replicas = info.Replicas
	}
	for _, t := range opts.Types {
		if !slices.Contains(info.Types, t) {
			return nil, bad("types: %q does not occur in %s (types present: %s)", t, path, strings.Join(info.Types, ", "))
		}
	}
	res := &Rendered{Info: info, Replicas: opts.Replicas}

	var consumers []Consumer
	var diagram *Diagram
	if out.SVG != "" || out.HTML != "" {
		diagram = NewDiagram(opts)
		consumers = append(consumers, diagram)
	}
	var files []*AtomicFile
	defer func() {
		for _, f := range files {
			f.Abort()
		}
	}()
	var perfetto *PerfettoWriter
	if out.Perfetto != "" {
		af, err := CreateAtomic(out.Perfetto)
		if err != nil {
			return nil, err
		}
		files = append(files, af)
		perfetto = NewPerfettoWriter(af, opts)
		consumers = append(consumers, perfetto)
	}
	var shiviz *ShiVizWriter
	if out.ShiViz != "" {
		af, err := CreateAtomic(out.ShiViz)
		if err != nil {
			return nil, err
		}
		files = append(files, af)
		shiviz = NewShiVizWriter(af, opts)
		if out.ShiVizHeader {
			shiviz.WriteHeader()
		}
		consumers = append(consumers, shiviz)
	}
	rd, err := OpenTrace(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if err := Process(rd, consumers...); err != nil {
		return nil, err
	}
	if perfetto != nil {
		if err := perfetto.Close(); err != nil {
			return nil, fmt.Errorf("writing %s: %w", out.Perfetto, err)
		}
	}
	if shiviz != nil {
		if err := shiviz.Close(); err != nil {
			return nil, fmt.Errorf("writing %s: %w", out.ShiViz, err)
		}
		res.ShiVizEvents = shiviz.Events()
	}
	for _, af := range files {
		if err := af.Commit(); err != nil {
			return nil, err
		}
	}
	if diagram != nil {
		res.Diagram = diagram.Stats()
		if out.SVG != "" {
			if err := WriteFileAtomic(out.SVG, diagram.WriteSVG); err != nil {
				return nil, err
			}
		}
		if out.HTML != "" {
			if err := WriteFileAtomic(out.HTML, diagram.WriteHTML); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

func scanFile(path string) (*Info, error) {
	rd, err := OpenTrace(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return Scan(rd)
}

// compile-time check that the writers fit WriteFileAtomic.
var _ func(io.Writer) error = (*Diagram)(nil).WriteSVG
