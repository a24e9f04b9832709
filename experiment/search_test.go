package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// inputField returns the field of err's *InputError ("" and false when
// err is none).
func inputField(err error) (string, bool) {
	var ie *InputError
	if !errors.As(err, &ie) {
		return "", false
	}
	return ie.Field, true
}

// TestSearchBadOptions: each bad option is an input error naming its field.
func TestSearchBadOptions(t *testing.T) {
	cases := []struct {
		o     SearchOptions
		field string
	}{
		{SearchOptions{Runs: -1}, "runs"},
		{SearchOptions{Budget: -time.Second}, "budget"},
		{SearchOptions{Runs: 5, Budget: time.Second}, "runs"},
		{SearchOptions{Runs: 1, Protocol: "raft"}, "protocol"},
	}
	for _, c := range cases {
		r, err := Search(context.Background(), c.o)
		if f, ok := inputField(err); !ok || f != c.field || r != nil {
			t.Errorf("%+v: %v (field %q), want an input error of %q", c.o, err, f, c.field)
		}
	}
}

// TestSearchNothingChecked: a budget no case fits in is an error that says
// nothing was checked (never a pass); a cancelled search is interrupted.
func TestSearchNothingChecked(t *testing.T) {
	r, err := Search(context.Background(), SearchOptions{Budget: time.Nanosecond, Seed: 1})
	if r == nil || r.Cases != 0 || err == nil || !strings.Contains(err.Error(), "nothing was checked") {
		t.Fatalf("1ns budget: %+v %v", r, err)
	}
	if _, isInput := inputField(err); isInput || errors.Is(err, ErrInterrupted) {
		t.Fatalf("nothing checked is a failure, not bad input or an interruption: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err = Search(ctx, SearchOptions{Runs: 20, Seed: 1})
	if r == nil || !r.Interrupted || !errors.Is(err, ErrInterrupted) || r.Failure != nil {
		t.Fatalf("cancelled search: %+v %v", r, err)
	}
	r, err = Search(context.Background(), SearchOptions{Runs: 3, Seed: 1})
	if err != nil || r.Cases != 3 || r.Failure != nil || r.Saved != nil {
		t.Fatalf("3 cases of the correct protocol: %+v %v", r, err)
	}
}

// TestHuntResult: a hunt's result carries the variant, the cases, the
// violated property and the files written; bad options name their field.
func TestHuntResult(t *testing.T) {
	bad := []struct {
		o     HuntOptions
		all   bool
		field string
	}{
		{HuntOptions{Variant: "nope", Budget: time.Second}, false, "variant"},
		{HuntOptions{Budget: time.Second}, false, "variant"},
		{HuntOptions{Variant: "commit-quorum-2f"}, false, "budget"},
		{HuntOptions{Variant: "commit-quorum-2f", Budget: time.Second, Guided: true}, false, "guided"},
		{HuntOptions{Protocol: "raft", Budget: time.Second}, true, "protocol"},
		{HuntOptions{Budget: time.Second, Out: "x.yaml"}, true, "out"},
		{HuntOptions{Protocol: "hotstuff", Budget: time.Second, Generic: true, Guided: true}, true, "guided"},
	}
	for _, c := range bad {
		var err error
		if c.all {
			_, err = NewHuntAll(c.o)
		} else {
			_, err = NewHunt(c.o)
		}
		if f, ok := inputField(err); !ok || f != c.field {
			t.Errorf("%+v (all %v): %v (field %q), want an input error of %q", c.o, c.all, err, f, c.field)
		}
	}
	out := filepath.Join(t.TempDir(), "h", "hunt.replay.yaml")
	h, err := NewHunt(HuntOptions{Variant: "execute-out-of-order", Generic: true, Budget: 20 * time.Second, Seed: 1, Out: out, Version: "v"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Run(context.Background())
	if r == nil || !r.Found || err == nil || !strings.Contains(err.Error(), "violated") {
		t.Fatalf("hunt: %+v %v", r, err)
	}
	if r.Variant != "execute-out-of-order" || r.Cases < 1 || r.Property == "" || !strings.Contains(err.Error(), r.Property) {
		t.Errorf("result: variant %q, %d cases, property %q", r.Variant, r.Cases, r.Property)
	}
	if r.Saved == nil || r.Saved.Replay != out || r.Saved.Counterexample == nil {
		t.Fatalf("saved: %+v", r.Saved)
	}
	for _, f := range []string{out, r.Saved.Trace, r.Saved.SVG} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
