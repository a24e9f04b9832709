package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pexplore "github.com/pbftsim/pbftsim/properties/explore"
)

// TestExplore: a broken variant's violation is an error and writes its
// replay file (named after the variant by default); the correct protocol
// within the same bounds is no error and writes nothing; bad bounds are
// input errors.
func TestExplore(t *testing.T) {
	dir := t.TempDir()
	bounds := pexplore.Config{Nodes: 4, Requests: 1, Views: 0, Depth: 3, Seed: 1}

	c := bounds
	c.Variant = "prepare-2f-minus-1"
	r, err := Explore(ExploreOptions{Config: c, OutDir: dir, Version: "test"})
	if err == nil || r == nil || !r.Found() || !strings.Contains(err.Error(), "prepare-2f-minus-1") {
		t.Fatalf("variant: result %v, error %v: want its violation as the error", r, err)
	}
	want := filepath.Join(dir, "explore-prepare-2f-minus-1.replay.yaml")
	if r.Replay != want {
		t.Errorf("replay file %q, want %q", r.Replay, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("replay file not written: %v", err)
	}

	r, err = Explore(ExploreOptions{Config: bounds, OutDir: dir})
	if err != nil || r == nil || r.Found() || r.Replay != "" {
		t.Fatalf("correct protocol: result %+v, error %v: want no violation, nothing written", r, err)
	}

	c = bounds
	c.Nodes = 2
	_, err = Explore(ExploreOptions{Config: c, OutDir: dir})
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("nodes 2: error %v, want an input error", err)
	}
}
