package main

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLineInALog(t *testing.T) {
	var b strings.Builder
	p := newProgressLine(&b, false) // a strings.Builder is not a terminal
	for i := 0; i < 50; i++ {
		p.show("step", false)
	}
	if b.Len() != 0 {
		t.Fatalf("a log got %q within its first %v: want nothing until then", b.String(), logEvery)
	}
	p.last = time.Now().Add(-logEvery)
	p.show("later", false)
	p.show("again", false)
	if b.String() != "later\n" {
		t.Fatalf("a log got %q, want one plain line per %v", b.String(), logEvery)
	}
}

func TestProgressLineEndsBeforeOutput(t *testing.T) {
	var errw, out strings.Builder
	p := &progressLine{w: &errw, tty: true}
	p.show("exploring 10 states", false)
	w := p.before(&out)
	if _, err := w.Write([]byte("result\n")); err != nil {
		t.Fatal(err)
	}
	if got := errw.String(); got != "\rexploring 10 states\033[K\n" {
		t.Fatalf("terminal got %q: the redrawn line must end before other output", got)
	}
	w.Write([]byte("more\n"))
	if strings.Count(errw.String(), "\n") != 1 || out.String() != "result\nmore\n" {
		t.Fatalf("terminal %q, output %q", errw.String(), out.String())
	}
}
