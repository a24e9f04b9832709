package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// someStrategy returns a registered strategy name (and one of its parameter
// names, or "" if it has none), failing the test if the registry is empty.
func someStrategy(t *testing.T) (string, string) {
	t.Helper()
	names := byzantine.Names()
	if len(names) == 0 {
		t.Fatal("the byzantine registry is empty")
	}
	for _, n := range names {
		info, _ := byzantine.Lookup(n)
		if len(info.Params) > 0 {
			return n, info.Params[0].Name
		}
	}
	return names[0], ""
}

func TestBadInput(t *testing.T) {
	strat, _ := someStrategy(t)
	tests := []struct {
		name  string
		src   string
		line  int
		col   int // 0: not checked
		field string
		want  []string // substrings of Msg
	}{
		{"syntax error", "n: 4\nprotocol: [batch\nf: 1\n", 2, 0, "", []string{"invalid YAML"}},
		{"unclosed list at end of file", "n: [4\n", 2, 0, "", []string{"invalid YAML"}},
		{"scanner error", "n: 4\nf: @1\n", 2, 0, "", []string{"invalid YAML", "cannot start any token"}},
		{"unknown anchor", "n: *x\n", 1, 0, "", []string{"invalid YAML", "unknown anchor"}},
		{"tab indentation", "n: 4\nnetwork:\n\tdrop: 0.1\n", 3, 0, "", []string{"invalid YAML"}},
		{"empty file", "# only a comment\n", 1, 0, "", []string{"no YAML document"}},
		{"two documents", "n: 4\n---\nn: 5\n", 2, 1, "", []string{"exactly one document"}},
		{"top level not a mapping", "- n: 4\n", 1, 1, "", []string{"found a list", "want a mapping with fields: name, description"}},
		{"unknown top-level field", "n: 4\nnetwrok:\n  drop: 0.1\n", 2, 1, "netwrok", []string{`unknown field "netwrok"`, "allowed fields are", "network"}},
		{"unknown nested field", "network:\n  links:\n    - {from: 0, to: 1}\n    - {from: 1, to: 2, dorp: 0.5}\n", 4, 24, "network.links[1].dorp", []string{`unknown field of network.links[1] "dorp"`, "delay, drop, duplicate"}},
		{"duplicate field", "n: 4\nf: 1\nn: 7\n", 3, 1, "n", []string{`"n" given twice (first at line 1)`}},
		{"wrong type int", "n: four\n", 1, 4, "n", []string{`found the string "four"`, "want an integer"}},
		{"wrong type float for int", "workload:\n  clients: 2.5\n", 2, 12, "workload.clients", []string{"found the number 2.5", "want an integer"}},
		{"wrong type probability", "network:\n  drop: lots\n", 2, 9, "network.drop", []string{`found the string "lots"`, "want a number"}},
		{"wrong type list", "crashes:\n  node: 1\n", 2, 3, "crashes", []string{"found a mapping", "want a list"}},
		{"wrong type string", "byzantine:\n  - {replica: 1, strategy: [a]}\n", 2, 28, "byzantine[0].strategy", []string{"found a list", "want a string"}},
		{"duration without unit", "protocol:\n  view_change_timeout: 150\n", 2, 24, "protocol.view_change_timeout", []string{"found the integer 150", `want a duration such as "150ms"`, "needs a unit"}},
		{"bad duration", "run:\n  max_time: soon\n", 2, 13, "run.max_time", []string{`found the string "soon"`, "want a duration"}},
		{"negative seed", "seed: -1\n", 1, 7, "seed", []string{"found the integer -1", "want a non-negative integer"}},
		{"infinite probability", "network:\n  drop: .inf\n", 2, 9, "network.drop", []string{"want a finite number"}},
		{"missing required field", "crashes:\n  - {at: 10ms}\n", 2, 5, "crashes[0].node", []string{`missing required field "node"`}},
		{"probability out of range", "n: 4\nnetwork:\n  drop: 1.5\n", 3, 9, "network.drop", []string{"1.5 is out of range", "want a probability in [0, 1]"}},
		{"negative probability", "network:\n  duplicate: -0.1\n", 2, 14, "network.duplicate", []string{"-0.1 is out of range", "[0, 1]"}},
		{"link probability out of range", "network:\n  links:\n    - {from: 0, to: 1}\n    - {from: 1, to: 2, drop: 2}\n", 4, 30, "network.links[1].drop", []string{"2 is out of range", "want a probability in [0, 1]"}},
		{"n below 4", "n: 3\n", 1, 4, "n", []string{"3 is out of range", "at least 4 replicas"}},
		{"negative n", "n: -4\n", 1, 4, "n", []string{"-4 is out of range", "at least 4"}},
		{"n below 3f+1", "n: 4\nf: 2\n", 2, 4, "f", []string{"2 is out of range", "n >= 3f+1", "at most 1 for n=4"}},
		{"negative duration", "protocol:\n  client_timeout: -5ms\n", 2, 19, "protocol.client_timeout", []string{"-5ms is out of range", "want a duration >= 0"}},
		{"bad delay kind", "network:\n  delay: gauss:5ms\n", 2, 10, "network.delay", []string{`bad delay "gauss:5ms"`}},
		{"bad bandwidth", "network:\n  bandwidth: -5Mbit\n", 2, 14, "network.bandwidth", []string{`bad bandwidth "-5Mbit"`, "100Mbit"}},
		{"bandwidth without unit", "network:\n  bandwidth: 100bytes\n", 2, 14, "network.bandwidth", []string{`bad bandwidth "100bytes"`, "Gbit"}},
		{"bad link delay", "network:\n  links:\n    - {from: 0, to: 1, delay: \"exp:fast\"}\n", 3, 31, "network.links[0].delay", []string{`bad delay "exp:fast"`}},
		{"window not a multiple of K", "protocol:\n  checkpoint_interval: 4\n  window: 6\n", 3, 11, "protocol.window", []string{"6 is out of range", "multiple of checkpoint_interval (4)"}},
		{"batch out of range", "protocol:\n  batch: -1\n", 2, 10, "protocol.batch", []string{"-1 is out of range", "1..10000"}},
		{"gst without delta", "network:\n  gst: 1s\n", 2, 3, "network.delta", []string{"want a delay bound > 0 when network.gst is set"}},
		{"unknown variant", "protocol:\n  variant: sloppy\n", 2, 12, "protocol.variant", []string{`unknown variant "sloppy"`}},
		{"crash of missing node", "n: 4\ncrashes:\n  - {node: 9, at: 1s}\n", 3, 12, "crashes[0].node", []string{"node 9 does not exist", "want a node id in [0, 5] (replicas 0..3, clients 4..5)"}},
		{"recover before crash", "crashes:\n  - {node: 1, at: 1s, recover: 500ms}\n", 2, 32, "crashes[0].recover", []string{"500ms is out of range", "after at (1s)"}},
		{"partition member missing", "n: 5\nworkload: {clients: 1}\nnetwork:\n  partitions:\n    - groups: [[0, 1], [2, 6]]\n", 5, 28, "network.partitions[0].groups[1][1]", []string{"node 6 does not exist", "[0, 5]"}},
		{"partition member twice", "network:\n  partitions:\n    - groups: [[0, 1], [1, 2]]\n", 3, 25, "network.partitions[0].groups[1][0]", []string{"node 1 is already in groups[0]"}},
		{"partition heals before it starts", "network:\n  partitions:\n    - {groups: [[0]], from: 2s, to: 1s}\n", 3, 37, "network.partitions[0].to", []string{"1s is out of range", "after from (2s)"}},
		{"link end missing", "network:\n  links:\n    - {from: 0, to: 17}\n", 3, 21, "network.links[0].to", []string{"node 17 does not exist"}},
		{"self link", "network:\n  links:\n    - {from: 2, to: 2}\n", 3, 21, "network.links[0].to", []string{"same node as from"}},
		{"duplicate link", "network:\n  links:\n    - {from: 0, to: 1}\n    - {from: 0, to: 1, drop: 0.5}\n", 4, 7, "network.links[1]", []string{"already overridden by network.links[0]"}},
		{"byzantine replica missing", "n: 4\nbyzantine:\n  - {replica: 4, strategy: " + strat + "}\n", 3, 15, "byzantine[0].replica", []string{"replica 4 does not exist", "want a replica id in [0, 3]"}},
		{"byzantine replica twice", "byzantine:\n  - {replica: 1, strategy: " + strat + "}\n  - {replica: 1, strategy: " + strat + "}\n", 3, 15, "byzantine[1].replica", []string{"already faulty in byzantine[0]"}},
		{"unknown strategy", "byzantine:\n  - replica: 1\n    strategy: lying-primary\n", 3, 15, "byzantine[0].strategy", []string{`unknown strategy "lying-primary"`, "want one of", `"` + strat + `"`}},
		{"unknown strategy param", "byzantine:\n  - replica: 1\n    strategy: " + strat + "\n    params:\n      bogus_knob: 3\n", 5, 19, "byzantine[0].params.bogus_knob", []string{`unknown parameter "bogus_knob"`}},
		{"unknown strategy in a composition", "byzantine:\n  - {replica: 0, strategy: equivocate+lier}\n", 2, 28, "byzantine[0].strategy", []string{`unknown strategy "lier"`, `"lying-reply"`, `joined by "+"`}},
		{"strategy twice in a composition", "byzantine:\n  - {replica: 0, strategy: silent+silent}\n", 2, 28, "byzantine[0].strategy", []string{`"silent" appears twice`}},
		{"twins not first", "byzantine:\n  - {replica: 0, strategy: lying-reply+twins}\n", 2, 28, "byzantine[0].strategy", []string{"twins must come first", `"twins+lying-reply"`}},
		{"param for a strategy not composed", "byzantine:\n  - {replica: 0, strategy: equivocate, params: {mutate.prob: 0.5}}\n", 2, 62, "byzantine[0].params.mutate.prob", []string{`names strategy "mutate"`, `"equivocate"`}},
		{"bad param value", "byzantine:\n  - {replica: 0, strategy: mutate, params: {prob: 2}}\n", 2, 51, "byzantine[0].params.prob", []string{"prob", "probability"}},
		{"required param missing", "byzantine:\n  - {replica: 0, strategy: twins}\n", 2, 28, "byzantine[0].strategy", []string{"groups", "required"}},
		{"param not a scalar", "byzantine:\n  - replica: 1\n    strategy: " + strat + "\n    params:\n      k: [1]\n", 5, 10, "byzantine[0].params.k", []string{"found a list", "want a scalar value"}},
		{"adversary sender missing", "adversary:\n  - {from: [0, 12], drop: 1}\n", 2, 16, "adversary[0].from[1]", []string{"node 12 does not exist"}},
		{"adversary receiver missing", "adversary:\n  - {to: [-1], delay: 5ms}\n", 2, 11, "adversary[0].to[0]", []string{"node -1 does not exist"}},
		{"adversary unknown type", "adversary:\n  - {types: [PREPARE, VOTE], drop: 1}\n", 2, 23, "adversary[0].types[1]", []string{`unknown message type "VOTE"`, `"PRE-PREPARE"`}},
		{"adversary without effect", "adversary:\n  - {types: [PREPARE]}\n", 2, 5, "adversary[0]", []string{"no effect", "want drop > 0, delay > 0 or duplicate"}},
		{"adversary deliver_at negative", "adversary:\n  - {types: [PREPARE], deliver_at: -1ms}\n", 2, 36, "adversary[0].deliver_at", []string{">= 0"}},
		{"timer fire node missing", "timer_fires:\n  - {node: 40, timer: 1, at: 1ms}\n", 2, 12, "timer_fires[0].node", []string{"node 40 does not exist"}},
		{"timer fire timer zero", "timer_fires:\n  - {node: 1, timer: 0, at: 1ms}\n", 2, 22, "timer_fires[0].timer", []string{"want a timer id >= 1"}},
		{"adversary nth negative", "adversary:\n  - {types: [PREPARE], drop: 1, nth: -2}\n", 2, 38, "adversary[0].nth", []string{"-2 is out of range", "want >= 1"}},
		{"adversary drop out of range", "adversary:\n  - {drop: 3}\n", 2, 12, "adversary[0].drop", []string{"want a probability in [0, 1]"}},
		{"adversary ends before start", "adversary:\n  - {drop: 1, start: 1s, end: 1s}\n", 2, 31, "adversary[0].end", []string{"after start (1s)"}},
		{"negative mix weight", "workload:\n  mix: {confirm: -1}\n", 2, 18, "workload.mix.confirm", []string{"want a weight >= 0"}},
		{"too many clients", "workload:\n  clients: 100000\n", 2, 12, "workload.clients", []string{"100000 is out of range"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("bad.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse accepted %q: %+v", tc.src, s)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if e.File != "bad.yaml" || e.Line != tc.line || e.Field != tc.field || (tc.col != 0 && e.Column != tc.col) {
				t.Errorf("got file %q line %d col %d field %q, want bad.yaml line %d col %d field %q (error: %v)",
					e.File, e.Line, e.Column, e.Field, tc.line, tc.col, tc.field, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(e.Msg, w) {
					t.Errorf("message %q does not contain %q", e.Msg, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "bad.yaml:") {
				t.Errorf("Error() = %q, want it to start with the file name", err.Error())
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("lossy.yaml", []byte("name: x\nnetwork:\n  drop: 1.5\n"))
	want := "lossy.yaml:3:9: network.drop: 1.5 is out of range: want a probability in [0, 1]"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestComposedStrategy(t *testing.T) {
	src := "network: {delay: \"const:1ms\"}\nbyzantine:\n  - replica: 0\n    strategy: twins+lying-reply\n    params: {groups: \"1|2,3\", lying-reply.clients: \"4\"}\n"
	s, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Byzantine[0].Strategy != "twins+lying-reply" || s.Byzantine[0].Params["lying-reply.clients"] != "4" {
		t.Fatalf("%+v", s.Byzantine)
	}
}

func TestMessageTypesRegistered(t *testing.T) {
	registered := map[string]bool{}
	for i := 0; i < sim.MsgTypes(); i++ {
		registered[sim.MsgType(i).String()] = true
	}
	for _, m := range MessageTypes {
		if !registered[m] {
			t.Errorf("MessageTypes lists %q, which no package registered", m)
		}
	}
	if len(MessageTypes) != 10 {
		t.Errorf("%d message types, want the 10 PBFT types", len(MessageTypes))
	}
}

// TestStrategyParamValues: for every parameter of every strategy that has
// a fixed set of values, an unknown value is refused at its line with the
// allowed values listed, and each allowed value is accepted.
func TestStrategyParamValues(t *testing.T) {
	checked := 0
	for _, name := range byzantine.Names() {
		info, _ := byzantine.Lookup(name)
		for _, p := range info.Params {
			if p.Allowed == nil {
				continue
			}
			checked++
			src := "byzantine:\n  - replica: 1\n    strategy: " + name + "\n    params:\n      " + p.Name + ": \"no-such-value\"\n"
			_, err := Parse("p.yaml", []byte(src))
			var e *Error
			if !errors.As(err, &e) || e.Line != 5 || e.Field != "byzantine[0].params."+p.Name || !strings.Contains(e.Msg, p.Allowed[len(p.Allowed)-1]) {
				t.Errorf("%s.%s: got %v, want an error at line 5 listing the allowed values", name, p.Name, err)
			}
			for _, v := range p.Allowed {
				ok := strings.Replace(src, `"no-such-value"`, `"`+v+`"`, 1) + "network: {delay: const:1ms}\n"
				if _, err := Parse("p.yaml", []byte(ok)); err != nil {
					t.Errorf("%s.%s=%s: %v", name, p.Name, v, err)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no registered strategy has a parameter with a fixed set of values")
	}
	t.Logf("%d parameters checked", checked)
}

func TestVariantValidator(t *testing.T) {
	old := VariantValidator
	t.Cleanup(func() { VariantValidator = old })
	VariantValidator = func(v string) error {
		if v == "" || v == "skip-commit" {
			return nil
		}
		return errors.New(`want one of "skip-commit"`)
	}
	if _, err := Parse("v.yaml", []byte("protocol: {variant: skip-commit}\nnetwork: {delay: \"const:1ms\"}\n")); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("v.yaml", []byte("protocol: {variant: nope}\n"))
	var e *Error
	if !errors.As(err, &e) || e.Field != "protocol.variant" || !strings.Contains(e.Msg, `"skip-commit"`) {
		t.Fatalf("got %v", err)
	}
}

// full returns a scenario that sets every field.
func full(t *testing.T) *Scenario {
	strat, param := someStrategy(t)
	var params map[string]string
	if param != "" {
		info, _ := byzantine.Lookup(strat)
		v := "1"
		if info.Params[0].Allowed != nil {
			v = info.Params[0].Allowed[0]
		}
		params = map[string]string{param: v}
	}
	half, zero := 0.5, 0.0
	view, seq := uint64(0), uint64(3)
	return &Scenario{
		Name: "everything", Description: "sets: every field\nover two lines", Seed: 1<<63 + 5, N: 7, F: 2,
		Protocol: Protocol{Batch: 2, CheckpointInterval: 4, Window: 12, ViewChangeTimeout: 150 * time.Millisecond,
			ClientTimeout: 1500 * time.Microsecond},
		Workload: Workload{Clients: 3, Requests: 20, Payments: 7, Interval: time.Millisecond,
			Mix: Mix{Confirm: 0.5, Refund: 0.25, Cancel: 1e-3}},
		Network: Network{Delay: "exp:5ms:1ms", Drop: 0.01, Duplicate: 0.125, GST: 2 * time.Second, Delta: 50 * time.Millisecond,
			Links: []Link{{From: 0, To: 1, Delay: "const:9ms", Drop: &half}, {From: 9, To: 0, Duplicate: &zero}},
			Partitions: []Partition{{Groups: [][]int{{0, 1, 2}, {3, 4}}, From: time.Second, To: 1500 * time.Millisecond},
				{Groups: [][]int{{6}}}}},
		Crashes:   []Crash{{Node: 0, At: 10 * time.Millisecond}, {Node: 8, At: time.Second, Recover: 2 * time.Second}},
		Byzantine: []Byzantine{{Replica: 6, Strategy: strat, Params: params}, {Replica: 5, Strategy: strat}},
		Adversary: []NetRule{{Types: []string{"PREPARE", "NEW-VIEW"}, From: []int{0}, To: []int{1, 2}, View: &view, Seq: &seq,
			Drop: 0.75, Delay: 3 * time.Millisecond, Start: 5 * time.Millisecond, End: time.Second, StartView: 1},
			{Delay: time.Millisecond}},
		Run: Run{MaxTime: 3 * time.Second, MaxEvents: 1 << 40},
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	s := full(t)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("rt.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(s, back) {
		t.Fatalf("round trip changed the scenario:\n%+v\n%+v\n%s", s, back, data)
	}
	// Zero values are omitted and come back as zero.
	empty := &Scenario{Network: Network{Delay: "const:1ms"}}
	data, err = empty.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err = Parse("empty.yaml", data)
	if err != nil || !reflect.DeepEqual(empty, back) {
		t.Fatalf("empty round trip: %v %+v from %q", err, back, data)
	}
}

func TestReplayRoundTrip(t *testing.T) {
	variant := string(pbft.Variants()[0].Name)
	r := &Replay{Scenario: *full(t), Seed: 42, TraceHash: "9f86d081884c7d65", Verdict: "violation", Property: "agreement",
		Variant: variant, Version: "0.1.0-dev"}
	data, err := MarshalReplay(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseReplay("r.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(r, back) {
		t.Fatalf("replay round trip:\n%+v\n%+v", r, back)
	}
	path := filepath.Join(t.TempDir(), "replay.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if back, err := LoadReplay(path); err != nil || !reflect.DeepEqual(r, back) {
		t.Fatalf("LoadReplay: %v", err)
	}
	bad := []struct {
		src, field string
		line       int
	}{
		{"scenario: {n: 4}\nseed: 1\ntrace: abc\n", "trace", 3},
		{"seed: 1\n", "scenario", 1},
		{"scenario:\n  n: 4\n  network: {drop: 7}\nseed: 1\n", "scenario.network.drop", 3},
		{"scenario: {n: 4, network: {delay: const:1ms}}\nseed: 1\nvariant: broken\n", "variant", 3},
	}
	for _, b := range bad {
		_, err := ParseReplay("r.yaml", []byte(b.src))
		var e *Error
		if !errors.As(err, &e) || e.Field != b.field || e.Line != b.line || e.File != "r.yaml" {
			t.Errorf("ParseReplay(%q) = %v, want an error at r.yaml:%d on %s", b.src, err, b.line, b.field)
		}
	}
}

func TestBuiltins(t *testing.T) {
	list := List()
	want := []string{"beyond-f", "conflicting-votes", "crashed-primary", "equivocating-primary", "fault-free",
		"lossy-wan", "partition-heal", "twins", "view-change-attack"}
	have := map[string]bool{}
	for i, info := range list {
		have[info.Name] = true
		if i > 0 && list[i-1].Name >= info.Name {
			t.Errorf("List not sorted: %q before %q", list[i-1].Name, info.Name)
		}
		if info.Description == "" || strings.HasPrefix(info.Description, "INVALID") {
			t.Errorf("%s: description %q", info.Name, info.Description)
		}
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("built-in %q missing", w)
		}
	}
	for _, info := range list {
		t.Run(info.Name, func(t *testing.T) {
			s, err := Builtin(info.Name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != info.Name {
				t.Errorf("name field %q differs from the file name", s.Name)
			}
			data, err := builtinFS.ReadFile(info.Name + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "# ") {
				t.Errorf("file does not start with a '# ' comment line")
			}
			if err := s.Validate(); err != nil {
				t.Error(err)
			}
			c, err := s.Config()
			if err != nil {
				t.Fatal(err)
			}
			if c.Seed != s.Seed || c.Seed == 0 || c.N < 4 || c.MaxTime <= 0 || c.MaxTime > 10e9 {
				t.Errorf("config: seed %d n %d max_time %v", c.Seed, c.N, c.MaxTime)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("cluster rejects the converted config: %v", err)
			}
			out, err := s.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse("again.yaml", out)
			if err != nil || !reflect.DeepEqual(s, back) {
				t.Errorf("round trip: %v\n%s", err, out)
			}
		})
	}
	if b, err := Builtin("beyond-f"); err == nil {
		c, err := b.Config()
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Byzantine) <= c.F {
			t.Errorf("beyond-f has %d faulty replicas with f=%d, want more than f", len(c.Byzantine), c.F)
		}
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse("min.yaml", []byte("name: minimal\nnetwork: {delay: \"const:1ms\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.N != 4 || c.F != 1 || c.Batch != 1 || c.CheckpointInterval != 16 || c.Window != 32 ||
		c.ViewChangeTimeout != 200*time.Millisecond || c.ClientTimeout != 300*time.Millisecond ||
		c.Clients != 2 || c.Requests != 8 || c.MaxTime != 60e9 || c.MaxEvents != cluster.DefaultMaxEvents(c) || c.MaxPending != cluster.DefaultMaxPending(c) || c.Variant != "" {
		t.Fatalf("defaults not filled: %+v", c)
	}
	s, err = Parse("seven.yaml", []byte("n: 7\nprotocol: {checkpoint_interval: 5}\nnetwork: {delay: const:1ms}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err = s.Config(); err != nil || c.F != 2 || c.Window != 10 {
		t.Fatalf("n=7: f %d window %d, want 2 and 10", c.F, c.Window)
	}
	// An empty value is the same as an omitted one.
	if s, err = Parse("nulls.yaml", []byte("n:\nprotocol:\nnetwork:\n  delay: const:1ms\n  drop:\n")); err != nil || !reflect.DeepEqual(s, &Scenario{Network: Network{Delay: "const:1ms"}}) {
		t.Fatalf("nulls: %v %+v", err, s)
	}
}

func TestConfigConversion(t *testing.T) {
	s := full(t)
	c, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != s.Seed || c.N != 7 || c.F != 2 || c.Batch != 2 || c.Window != 12 || c.Clients != 3 || c.Requests != 20 ||
		c.Payments != 7 || c.Interval != time.Millisecond || c.Mix.Refund != 0.25 || c.MaxEvents != 1<<40 || c.MaxTime != 3e9 {
		t.Errorf("scalars: %+v", c)
	}
	nw := c.Network
	if nw.Default.Drop != 0.01 || nw.Default.Duplicate != 0.125 || nw.Default.Delay.Mean != 5*time.Millisecond ||
		nw.Default.Delay.Min != time.Millisecond || nw.GST != 2e9 || nw.Delta != 50*time.Millisecond {
		t.Errorf("default link: %+v", nw)
	}
	if len(nw.Links) != 2 {
		t.Fatalf("links: %+v", nw.Links)
	}
	for k, l := range nw.Links {
		switch {
		case k.From == 0 && k.To == 1:
			if l.Drop != 0.5 || l.Duplicate != 0.125 || l.Delay.Min != 9*time.Millisecond {
				t.Errorf("link 0->1 does not override drop/delay and inherit duplicate: %+v", l)
			}
		case k.From == 9 && k.To == 0:
			if l.Drop != 0.01 || l.Duplicate != 0 || l.Delay != nw.Default.Delay {
				t.Errorf("link 9->0 does not inherit drop/delay and override duplicate: %+v", l)
			}
		default:
			t.Errorf("unexpected link %v", k)
		}
	}
	if len(nw.Partitions) != 2 || len(nw.Partitions[0].Groups[1]) != 2 || nw.Partitions[0].Groups[1][1] != 4 ||
		nw.Partitions[0].From != 1e9 || nw.Partitions[0].To != 1.5e9 || nw.Partitions[1].To != 0 {
		t.Errorf("partitions: %+v", nw.Partitions)
	}
	if len(c.Crashes) != 2 || c.Crashes[1].Node != 8 || c.Crashes[1].Recover != 2e9 || c.Crashes[0].At != 1e7 {
		t.Errorf("crashes: %+v", c.Crashes)
	}
	if len(c.Byzantine) != 2 || c.Byzantine[0].Replica != 6 || c.Byzantine[0].Strategy != s.Byzantine[0].Strategy ||
		!reflect.DeepEqual(c.Byzantine[0].Params, s.Byzantine[0].Params) {
		t.Errorf("byzantine: %+v", c.Byzantine)
	}
	r := c.NetRules[0]
	if len(c.NetRules) != 2 || r.View == nil || *r.View != 0 || r.Seq == nil || *r.Seq != 3 || r.Drop != 0.75 ||
		r.Delay != 3*time.Millisecond || r.Start != 5e6 || r.End != 1e9 || r.StartView != 1 ||
		!reflect.DeepEqual(r.Types, []string{"PREPARE", "NEW-VIEW"}) || len(r.To) != 2 || r.To[1] != 2 || c.NetRules[1].View != nil {
		t.Errorf("net rules: %+v", c.NetRules)
	}
	// The conversion copies: changing the config does not change the scenario.
	*c.NetRules[0].Seq = 99
	if *s.Adversary[0].Seq != 3 {
		t.Error("Config shares a pointer with the scenario")
	}
	bad := &Scenario{N: 2}
	if _, err := bad.Config(); err == nil || !strings.Contains(err.Error(), "n: 2 is out of range") {
		t.Errorf("Config of n=2: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte("name: mine\nn: 5\nnetwork: {delay: \"const:1ms\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Load(path); err != nil || s.N != 5 {
		t.Fatalf("Load(file): %v %+v", err, s)
	}
	if s, err := Load("fault-free"); err != nil || s.Name != "fault-free" {
		t.Fatalf("Load(builtin): %v", err)
	}
	var e *Error
	if _, err := Load("fault-fre"); !errors.As(err, &e) || !strings.Contains(e.Msg, `"fault-free"`) {
		t.Errorf("Load(typo) = %v, want the list of built-ins", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.As(err, &e) || e.File == "" {
		t.Errorf("Load(missing file) = %v", err)
	}
	if _, err := Builtin("../go"); !errors.As(err, &e) {
		t.Errorf("Builtin(../go) = %v", err)
	}
	if err := os.WriteFile(path, []byte("n: 5\nnetwork: {drop: 2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); !errors.As(err, &e) || e.File != path || e.Line != 2 {
		t.Errorf("LoadFile(bad) = %v", err)
	}
}

func TestAliasBomb(t *testing.T) {
	src := "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	if _, err := Parse("bomb.yaml", []byte(src)); err == nil {
		t.Fatal("accepted")
	}
	// A scenario that uses aliases sensibly is fine.
	src = "network:\n  delay: const:1ms\n  links:\n    - &l {from: 0, to: 1, drop: 0.5}\n    - {from: 1, to: 0, drop: 0.5}\nadversary:\n  - {from: &ids [0, 1], drop: 1}\n  - {to: *ids, delay: 1ms}\n"
	s, err := Parse("alias.yaml", []byte(src))
	if err != nil || len(s.Adversary[1].To) != 2 {
		t.Fatalf("%v %+v", err, s)
	}
}

func FuzzLoad(f *testing.F) {
	entries, err := builtinFS.ReadDir(".")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := builtinFS.ReadFile(e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("network:\n  links:\n    - {from: 0, to: 1, drop: 0.5}\n  partitions:\n    - groups: [[0, 1], [2]]\n"))
	f.Add([]byte("adversary:\n  - {types: [PREPARE], view: 1, seq: 2, drop: 1}\ncrashes: [{node: 0, at: 1s}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("n: !!binary AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			return
		}
		if _, err := s.Config(); err != nil {
			t.Fatalf("parsed scenario does not convert: %v", err)
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(s, back) {
			t.Fatalf("round trip changed the scenario\n%+v\n%+v", s, back)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data, err := builtinFS.ReadFile("lossy-wan.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("lossy-wan.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	s, err := Builtin("beyond-f")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConfig(b *testing.B) {
	s, err := Builtin("lossy-wan")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Config(); err != nil {
			b.Fatal(err)
		}
	}
}
