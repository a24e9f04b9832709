package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/reports/spacetime"
	"github.com/pbftsim/pbftsim/reports/sweep"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
)

// SweepInfo is a sweep file's failing seeds, grouped like triage.
type SweepInfo struct {
	File     string                   `json:"file"`
	Scenario string                   `json:"scenario"`
	Swarm    bool                     `json:"swarm"`
	Failing  int                      `json:"failing"`
	Groups   []properties.TriageGroup `json:"groups"`
	base     *scenarios.Scenario
}

// scenarioOf returns the scenario a failing seed of the sweep ran.
func (sw *SweepInfo) scenarioOf(seed uint64) (scenarios.Scenario, error) {
	for _, g := range sw.Groups {
		for _, s := range g.Seeds {
			if s == seed {
				if sw.Swarm {
					return properties.SwarmCase(seed), nil
				}
				sc := *sw.base
				sc.Seed = seed
				return sc, nil
			}
		}
	}
	return scenarios.Scenario{}, fmt.Errorf("seed %d is not a failing seed of %s", seed, sw.File)
}

// opened is what a file turned out to be.
type opened struct {
	kind  string // "run", "trace", "sweep"
	rp    *scenarios.Replay
	tl    *timeline
	sweep *SweepInfo
}

// openFile detects what path holds and loads it: a replay file or a
// scenario (YAML, or a built-in scenario's name), a trace (JSON Lines or
// binary) or a sweep's JSON Lines.
func openFile(path string, limit int) (*opened, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(path, `/\.`) {
			sc, berr := scenarios.Builtin(path)
			if berr != nil {
				return nil, fmt.Errorf("%s: not a file, and %v", path, berr)
			}
			return &opened{kind: "run", rp: replayOf(sc)}, nil
		}
		return nil, err
	}
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml"):
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return parseYAML(path, data)
	case strings.Contains(lower, ".jsonl") || strings.HasSuffix(lower, ".partial"):
		if isSweep(path) {
			sw, err := loadSweep(path)
			if err != nil {
				return nil, err
			}
			return &opened{kind: "sweep", sweep: sw}, nil
		}
		tl, err := loadTrace(path, limit)
		if err != nil {
			return nil, err
		}
		return &opened{kind: "trace", tl: tl}, nil
	}
	if _, err := spacetime.FormatOf(path); err == nil {
		tl, err := loadTrace(path, limit)
		if err != nil {
			return nil, err
		}
		return &opened{kind: "trace", tl: tl}, nil
	}
	return nil, fmt.Errorf("%s: unknown kind of file: want a scenario or replay file (.yaml), a trace (.jsonl, .jsonl.zst, .bin) or a sweep (.jsonl)", path)
}

// parseYAML parses a replay file, or else a scenario.
func parseYAML(name string, data []byte) (*opened, error) {
	if bytes.Contains(data, []byte("\nscenario:")) || bytes.HasPrefix(data, []byte("scenario:")) {
		rp, err := scenarios.ParseReplay(name, data)
		if err != nil {
			return nil, err
		}
		return &opened{kind: "run", rp: rp}, nil
	}
	sc, err := scenarios.Parse(name, data)
	if err != nil {
		return nil, err
	}
	return &opened{kind: "run", rp: replayOf(sc)}, nil
}

// replayOf makes the replay record of a scenario's run (nothing recorded:
// the run ends at its first violation, as check and run --check stop).
func replayOf(sc *scenarios.Scenario) *scenarios.Replay {
	return &scenarios.Replay{Scenario: *sc, Seed: sc.Seed, Variant: sc.Protocol.Variant}
}

// isSweep reports whether the JSON Lines file starts with a sweep header.
func isSweep(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := io.ReadFull(f, head)
	return bytes.Contains(head[:n], []byte(`"kind":"header"`))
}

func loadSweep(path string) (*SweepInfo, error) {
	h, failing, err := sweep.ReadFailing(path)
	if err != nil {
		return nil, err
	}
	sw := &SweepInfo{File: filepath.Base(path), Scenario: h.Scenario, Swarm: h.Swarm, Failing: len(failing)}
	if !h.Swarm {
		sc, err := scenarios.Load(h.Scenario)
		if err != nil {
			// The scenario may be named relative to the sweep file.
			alt := filepath.Join(filepath.Dir(path), h.Scenario)
			if sc2, err2 := scenarios.Load(alt); err2 == nil {
				sc, err = sc2, nil
			} else {
				return nil, fmt.Errorf("%s: the sweep's scenario %q: %w", path, h.Scenario, err)
			}
		}
		sw.base = sc
	}
	seeds := make([]properties.FailingSeed, len(failing))
	for i, r := range failing {
		seeds[i] = properties.FailingSeed{Seed: r.Seed, Verdict: r.Verdict, Detail: r.Detail, Knobs: r.Knobs}
		if sw.base != nil {
			var names []string
			for _, b := range sw.base.Byzantine {
				names = append(names, b.Strategy)
			}
			seeds[i].Knobs = map[string]string{"strategies": strings.Join(names, ",")}
		}
	}
	sw.Groups = properties.GroupFailing(seeds)
	if sw.Groups == nil {
		sw.Groups = []properties.TriageGroup{}
	}
	return sw, nil
}

// loadTrace reads a trace file into a timeline of one record per step.
func loadTrace(path string, limit int) (*timeline, error) {
	rd, err := spacetime.OpenTrace(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	tl := &timeline{recAfter: []uint64{0}, timeAfter: []int64{0}, hashAfter: []uint64{0}, viol: []Violation{}, ended: "end of the trace"}
	open := map[[3]string][]int64{} // from, to, msg -> open send records
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(tl.recs) >= limit {
			tl.truncated, tl.ended = true, fmt.Sprintf("not shown past %d records", limit)
			break
		}
		rec := Rec{Seq: r.Seq, Step: uint64(len(tl.recs) + 1), T: int64(r.T), Kind: r.Kind.String(), From: int(r.From), To: int(r.To),
			Type: r.Type, Event: r.Event, Reason: r.Reason, Send: -1}
		rec.Line = fmt.Sprintf("#%d %v %s %d -> %d %s%s", r.Seq, sim.Time(r.T), rec.Kind, r.From, r.To, r.Type, r.Event)
		if len(r.Msg) > 0 {
			k := [3]string{fmt.Sprint(r.From), fmt.Sprint(r.To), string(r.Msg)}
			switch rec.Kind {
			case "send", "duplicate":
				open[k] = append(open[k], int64(r.Seq))
			case "deliver", "drop":
				if q := open[k]; len(q) > 0 {
					rec.Send, open[k] = q[0], q[1:]
				}
			}
		}
		tl.n = max(tl.n, int(r.From)+1, int(r.To)+1)
		tl.recs = append(tl.recs, rec)
		tl.msgs = append(tl.msgs, nil)
		tl.recAfter = append(tl.recAfter, uint64(len(tl.recs)))
		tl.timeAfter = append(tl.timeAfter, int64(r.T))
		tl.hashAfter = append(tl.hashAfter, 0)
	}
	return tl, nil
}
