package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// logEvery is how often progress is printed when stderr is not a terminal
// (a log file of a batch job): one plain line, never a carriage return.
const logEvery = 5 * time.Second

// progressLine prints one progress line on stderr: redrawn in place at
// most every 100ms on a terminal, a new line every logEvery otherwise.
type progressLine struct {
	w     io.Writer
	quiet bool
	tty   bool
	last  time.Time
	drawn bool
	every time.Duration
}

func newProgressLine(w io.Writer, quiet bool) *progressLine {
	p := &progressLine{w: w, quiet: quiet, every: logEvery}
	if isTerminal(w) {
		p.tty, p.every = true, 100*time.Millisecond
	}
	return p
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// show prints line if enough time passed since the last one (always when
// final is true).
func (p *progressLine) show(line string, final bool) {
	if p.quiet {
		return
	}
	now := time.Now()
	if !final && !p.last.IsZero() && now.Sub(p.last) < p.every {
		return
	}
	if !final && p.last.IsZero() && !p.tty {
		// In a log, the first line comes after logEvery too: a short
		// command prints only its final line.
		p.last = now
		return
	}
	p.last = now
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\033[K", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// finish ends a redrawn line.
func (p *progressLine) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// Write lets a library progress bar that redraws with "\r" (reports)
// print through p: each write is one progress line.
func (p *progressLine) Write(b []byte) (int, error) {
	s := strings.TrimSpace(strings.ReplaceAll(string(b), "\r", ""))
	if s != "" {
		p.show(s, false)
	}
	return len(b), nil
}

// before returns w with p's redrawn line ended before each write to it.
func (p *progressLine) before(w io.Writer) io.Writer { return finishing{p, w} }

type finishing struct {
	p *progressLine
	w io.Writer
}

func (f finishing) Write(b []byte) (int, error) {
	f.p.finish()
	return f.w.Write(b)
}

// bar draws a 30-character bar for frac in [0, 1].
func bar(frac float64) string {
	const width = 30
	fill := int(min(max(frac, 0), 1) * width)
	return "[" + strings.Repeat("#", fill) + strings.Repeat(".", width-fill) + "]"
}

// stopOnSignal returns the command's context, cancelled by the first
// Ctrl-C (SIGINT) or SIGTERM, a function that reports whether that
// happened (cheap enough to poll after every simulation event), and a
// release function to defer. After the first signal a second one kills
// the process as usual.
func stopOnSignal(cmd *cobra.Command) (context.Context, func() bool, func()) {
	ctx, stop := signal.NotifyContext(commandContext(cmd), os.Interrupt, syscall.SIGTERM)
	var flag atomic.Bool
	flag.Store(ctx.Err() != nil)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			flag.Store(true)
			stop()
		case <-done:
		}
	}()
	return ctx, flag.Load, func() { close(done); stop() }
}

// exitInterrupted is the exit status of a command stopped by Ctrl-C.
const exitInterrupted = 130

// errInterrupted is the error of a command stopped by Ctrl-C; what says
// what it kept.
func errInterrupted(command, what string) error {
	return &exitError{code: exitInterrupted, err: fmt.Errorf("%s interrupted: %s", command, what)}
}
