package sim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

func TestConfigErrorMessage(t *testing.T) {
	cfg := sim.Config{Nodes: pingPong(1, time.Millisecond, 1), Network: sim.NetworkConfig{Default: sim.LinkConfig{Drop: -0.1}}}
	err := cfg.Validate()
	want := "network.drop: -0.1 is out of range: want a probability in [0, 1]"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestValidate(t *testing.T) {
	okDelay := sim.Delay{Kind: sim.DelayConst, Min: time.Millisecond}
	tests := []struct {
		name    string
		mod     func(c *sim.Config)
		field   string // "" means valid
		allowed string // substring of Allowed
	}{
		{"valid", func(c *sim.Config) {}, "", ""},
		{"valid everything", func(c *sim.Config) {
			c.Network = sim.NetworkConfig{Default: sim.LinkConfig{Delay: okDelay, Drop: 1, Duplicate: 0},
				Links:      map[sim.Link]sim.LinkConfig{{From: 0, To: 1}: {Drop: 0.5}},
				Partitions: []sim.Partition{{Groups: [][]sim.NodeID{{0}}, From: 1, To: 2}},
				GST:        5, Delta: 1, Faulty: []sim.NodeID{1}}
			c.Crashes = []sim.Crash{{Node: 1, At: 1, Recover: 2}}
		}, "", ""},
		{"no nodes", func(c *sim.Config) { c.Nodes = nil }, "nodes", "at least 1"},
		{"nil node", func(c *sim.Config) { c.Nodes[1] = nil }, "nodes[1]", "non-nil"},
		{"names", func(c *sim.Config) { c.Names = []string{"a"} }, "names", "0 or 2"},
		{"drop NaN", func(c *sim.Config) { c.Network.Default.Drop = math.NaN() }, "network.drop", "[0, 1]"},
		{"drop > 1", func(c *sim.Config) { c.Network.Default.Drop = 1.5 }, "network.drop", "[0, 1]"},
		{"duplicate < 0", func(c *sim.Config) { c.Network.Default.Duplicate = -1 }, "network.duplicate", "[0, 1]"},
		{"link drop", func(c *sim.Config) {
			c.Network.Links = map[sim.Link]sim.LinkConfig{{From: 1, To: 0}: {Drop: 2}}
		}, "network.links[1->0].drop", "[0, 1]"},
		{"link unknown node", func(c *sim.Config) {
			c.Network.Links = map[sim.Link]sim.LinkConfig{{From: 0, To: 2}: {}}
		}, "network.links[0->2].to", "[0, 2)"},
		{"uniform min > max", func(c *sim.Config) {
			c.Network.Default.Delay = sim.Delay{Kind: sim.DelayUniform, Min: 2, Max: 1}
		}, "network.delay.max", ">= min"},
		{"negative min", func(c *sim.Config) { c.Network.Default.Delay = sim.Delay{Min: -1} }, "network.delay.min", ">= 0"},
		{"negative exp mean", func(c *sim.Config) {
			c.Network.Default.Delay = sim.Delay{Kind: sim.DelayExponential, Mean: -1}
		}, "network.delay.mean", ">= 0"},
		{"lognormal sigma 0", func(c *sim.Config) {
			c.Network.Default.Delay = sim.Delay{Kind: sim.DelayLogNormal, Mean: 1, Sigma: 0}
		}, "network.delay.sigma", "> 0"},
		{"lognormal median 0", func(c *sim.Config) {
			c.Network.Default.Delay = sim.Delay{Kind: sim.DelayLogNormal, Sigma: 1}
		}, "network.delay.median", "> 0"},
		{"pareto alpha", func(c *sim.Config) {
			c.Network.Default.Delay = sim.Delay{Kind: sim.DelayPareto, Mean: 1, Alpha: -1}
		}, "network.delay.alpha", "> 0"},
		{"pareto scale", func(c *sim.Config) {
			c.Network.Default.Delay = sim.Delay{Kind: sim.DelayPareto, Alpha: 1}
		}, "network.delay.scale", "> 0"},
		{"delay kind", func(c *sim.Config) { c.Network.Default.Delay = sim.Delay{Kind: 9} }, "network.delay.kind", "[0, 4]"},
		{"partition node", func(c *sim.Config) {
			c.Network.Partitions = []sim.Partition{{Groups: [][]sim.NodeID{{0}, {5}}}}
		}, "network.partitions[0].groups[1][0]", "[0, 2)"},
		{"partition twice", func(c *sim.Config) {
			c.Network.Partitions = []sim.Partition{{Groups: [][]sim.NodeID{{0}, {0}}}}
		}, "network.partitions[0].groups[1][0]", "at most one group"},
		{"partition to <= from", func(c *sim.Config) {
			c.Network.Partitions = []sim.Partition{{From: 5, To: 5}}
		}, "network.partitions[0].to", "after from"},
		{"partition from < 0", func(c *sim.Config) {
			c.Network.Partitions = []sim.Partition{{From: -5}}
		}, "network.partitions[0].from", ">= 0"},
		{"gst < 0", func(c *sim.Config) { c.Network.GST = -1 }, "network.gst", ">= 0"},
		{"delta < 0", func(c *sim.Config) { c.Network.Delta = -1 }, "network.delta", ">= 0"},
		{"gst without delta", func(c *sim.Config) { c.Network.GST = 1 }, "network.delta", "> 0 when network.gst"},
		{"faulty unknown", func(c *sim.Config) { c.Network.Faulty = []sim.NodeID{-1} }, "network.faulty[0]", "[0, 2)"},
		{"nil filter", func(c *sim.Config) { c.Network.Filters = []sim.Filter{nil} }, "network.filters[0]", "non-nil"},
		{"crash node", func(c *sim.Config) { c.Crashes = []sim.Crash{{Node: 2}} }, "crashes[0].node", "[0, 2)"},
		{"crash at < 0", func(c *sim.Config) { c.Crashes = []sim.Crash{{At: -1}} }, "crashes[0].at", ">= 0"},
		{"crash recover <= at", func(c *sim.Config) { c.Crashes = []sim.Crash{{At: 5, Recover: 3}} }, "crashes[0].recover", "after at"},
		{"max time", func(c *sim.Config) { c.MaxTime = -1 }, "max_time", ">= 0"},
		{"nil sink", func(c *sim.Config) { c.Sinks = []sim.Sink{nil} }, "sinks[0]", "non-nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sim.Config{Nodes: pingPong(1, time.Millisecond, 1)}
			tc.mod(&cfg)
			err := cfg.Validate()
			_, newErr := sim.New(cfg)
			if (err == nil) != (newErr == nil) {
				t.Fatalf("Validate %v but New %v", err, newErr)
			}
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid config rejected: %v", err)
				}
				return
			}
			var ce *sim.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v (%T), want *ConfigError", err, err)
			}
			if ce.Field != tc.field || !strings.Contains(ce.Allowed, tc.allowed) {
				t.Errorf("got field %q allowed %q, want field %q allowed containing %q", ce.Field, ce.Allowed, tc.field, tc.allowed)
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("message %q does not start with the field", err)
			}
		})
	}
}

func TestParseDelay(t *testing.T) {
	ms := time.Millisecond
	good := []struct {
		in   string
		want sim.Delay
	}{
		{"const:2ms", sim.Delay{Kind: sim.DelayConst, Min: 2 * ms}},
		{"const:0s", sim.Delay{}},
		{"uniform:1ms:20ms", sim.Delay{Kind: sim.DelayUniform, Min: ms, Max: 20 * ms}},
		{"uniform:1ms:1ms", sim.Delay{Kind: sim.DelayUniform, Min: ms, Max: ms}},
		{"exp:5ms", sim.Delay{Kind: sim.DelayExponential, Mean: 5 * ms}},
		{"exp:5ms:1ms", sim.Delay{Kind: sim.DelayExponential, Mean: 5 * ms, Min: ms}},
		{"lognormal:10ms:0.5", sim.Delay{Kind: sim.DelayLogNormal, Mean: 10 * ms, Sigma: 0.5}},
		{"lognormal:10ms:0.5:3ms", sim.Delay{Kind: sim.DelayLogNormal, Mean: 10 * ms, Sigma: 0.5, Min: 3 * ms}},
		{"pareto:2ms:1.5", sim.Delay{Kind: sim.DelayPareto, Mean: 2 * ms, Alpha: 1.5}},
		{"pareto:1.5ms:0.25:100us", sim.Delay{Kind: sim.DelayPareto, Mean: 1500 * time.Microsecond, Alpha: 0.25, Min: 100 * time.Microsecond}},
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			d, err := sim.ParseDelay(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if d != tc.want {
				t.Fatalf("got %+v, want %+v", d, tc.want)
			}
			back, err := sim.ParseDelay(d.String())
			if err != nil || back != d {
				t.Errorf("round trip via %q: %+v, %v", d.String(), back, err)
			}
		})
	}
	bad := []struct{ in, field, allowed string }{
		{"", "delay", "const:D"},
		{"gauss:1ms", "delay", "const:D"},
		{"const", "delay", "const:D"},
		{"const:2", "delay", "duration"},
		{"const:-2ms", "delay.min", ">= 0"},
		{"uniform:5ms", "delay", "uniform:MIN:MAX"},
		{"uniform:5ms:1ms", "delay.max", ">= min"},
		{"exp:x", "delay", "exp:MEAN"},
		{"exp:-1ms", "delay.mean", ">= 0"},
		{"exp:1ms:2ms:3ms", "delay", "exp:MEAN"},
		{"lognormal:10ms", "delay", "lognormal:D:SHAPE"},
		{"lognormal:10ms:0", "delay.sigma", "> 0"},
		{"lognormal:10ms:NaN", "delay.sigma", "> 0"},
		{"lognormal:10ms:Inf", "delay.sigma", "> 0"},
		{"lognormal:0s:1", "delay.median", "> 0"},
		{"pareto:2ms:0", "delay.alpha", "> 0"},
		{"pareto:2ms:-1.5", "delay.alpha", "> 0"},
		{"pareto:0s:1.5", "delay.scale", "> 0"},
		{"pareto:2ms:1:x", "delay", "MIN a duration"},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.in, func(t *testing.T) {
			_, err := sim.ParseDelay(tc.in)
			var ce *sim.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want *ConfigError", err)
			}
			if ce.Field != tc.field || !strings.Contains(ce.Allowed, tc.allowed) {
				t.Errorf("got %q, want field %q, allowed containing %q", err, tc.field, tc.allowed)
			}
		})
	}
}

func TestParsePartition(t *testing.T) {
	good := []struct {
		in   string
		want sim.Partition
	}{
		{"0,1|2,3@100ms-2s", sim.Partition{Groups: [][]sim.NodeID{{0, 1}, {2, 3}}, From: 100 * ms, To: 2000 * ms}},
		{"0@100ms", sim.Partition{Groups: [][]sim.NodeID{{0}}, From: 100 * ms}},
		{"0, 1|2@0s-1s", sim.Partition{Groups: [][]sim.NodeID{{0, 1}, {2}}, To: 1000 * ms}},
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			p, err := sim.ParsePartition(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.From != tc.want.From || p.To != tc.want.To || len(p.Groups) != len(tc.want.Groups) {
				t.Fatalf("got %+v, want %+v", p, tc.want)
			}
			for i := range p.Groups {
				if len(p.Groups[i]) != len(tc.want.Groups[i]) {
					t.Fatalf("got %+v, want %+v", p, tc.want)
				}
				for j := range p.Groups[i] {
					if p.Groups[i][j] != tc.want.Groups[i][j] {
						t.Fatalf("got %+v, want %+v", p, tc.want)
					}
				}
			}
		})
	}
	bad := []struct{ in, field, allowed string }{
		{"", "partition", "GROUPS@FROM"},
		{"0,1|2,3", "partition", "GROUPS@FROM"},
		{"@1s", "partition", "GROUPS@FROM"},
		{"0,x@1s", "partition", "GROUPS@FROM"},
		{"0,|1@1s", "partition", "GROUPS@FROM"},
		{"0|1@1s-", "partition", "GROUPS@FROM"},
		{"0|1@1s-x", "partition", "GROUPS@FROM"},
		{"0|1@2s-1s", "partition.to", "after from"},
		{"0|1@1s-0s", "partition.to", "after from"},
		{"0|1@-1s", "partition.from", ">= 0"},
		{"0|0@1s", "partition.groups[1][0]", "at most one group"},
		{"-1|0@1s", "partition.groups[0][0]", ">= 0"},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.in, func(t *testing.T) {
			_, err := sim.ParsePartition(tc.in)
			var ce *sim.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(ce.Allowed, tc.allowed) {
				t.Errorf("got %v, want field %q, allowed containing %q", err, tc.field, tc.allowed)
			}
		})
	}
}

func TestParseCrash(t *testing.T) {
	good := []struct {
		in   string
		want sim.Crash
	}{
		{"0@1s:3s", sim.Crash{Node: 0, At: 1000 * ms, Recover: 3000 * ms}},
		{"3@250ms", sim.Crash{Node: 3, At: 250 * ms}},
		{"2@0s", sim.Crash{Node: 2}},
		{"0@1s:3s:amnesia", sim.Crash{Node: 0, At: 1000 * ms, Recover: 3000 * ms, Kind: sim.CrashAmnesia}},
		{"1@1s:3s:keep", sim.Crash{Node: 1, At: 1000 * ms, Recover: 3000 * ms}},
		{"1@1s:2s:lose-unsynced", sim.Crash{Node: 1, At: 1000 * ms, Recover: 2000 * ms, Kind: sim.CrashLoseUnsynced}},
		{"2@1s:wipe", sim.Crash{Node: 2, At: 1000 * ms, Kind: sim.CrashWipe}},
	}
	for _, tc := range good {
		c, err := sim.ParseCrash(tc.in)
		if err != nil || c != tc.want {
			t.Errorf("ParseCrash(%q) = %+v, %v; want %+v", tc.in, c, err, tc.want)
		}
	}
	bad := []struct{ in, field, allowed string }{
		{"", "crash", "NODE@TIME"},
		{"0", "crash", "NODE@TIME"},
		{"a@1s", "crash", "NODE@TIME"},
		{"0@x", "crash", "NODE@TIME"},
		{"0@1s:x", "crash.kind", "keep, amnesia, lose-unsynced, wipe"},
		{"0@1s:3s:forget", "crash.kind", "keep, amnesia, lose-unsynced, wipe"},
		{"0@1s:3s:wipe:x", "crash", "NODE@TIME"},
		{"0@1s:x:wipe", "crash", "NODE@TIME"},
		{"-1@1s", "crash.node", ">= 0"},
		{"0@-1s", "crash.at", ">= 0"},
		{"0@3s:1s", "crash.recover", "after at"},
		{"0@3s:3s", "crash.recover", "after at"},
	}
	for _, tc := range bad {
		_, err := sim.ParseCrash(tc.in)
		var ce *sim.ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(ce.Allowed, tc.allowed) {
			t.Errorf("ParseCrash(%q) = %v, want field %q, allowed containing %q", tc.in, err, tc.field, tc.allowed)
		}
	}
}

func FuzzParseDelay(f *testing.F) {
	for _, s := range []string{"const:2ms", "uniform:1ms:20ms", "exp:5ms:1ms", "lognormal:10ms:0.5", "pareto:2ms:1.5:1ms", "pareto:1ns:1e-300"} {
		f.Add(s)
	}
	f.Add("uniform:0s:2562047h47m16.854775807s")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := sim.ParseDelay(s)
		if err != nil {
			return
		}
		back, err := sim.ParseDelay(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, d, d.String(), back, err)
		}
		r := sim.Streams{Seed: 1}.Stream("fuzz")
		for range 4 {
			if x := d.Sample(r); x < d.Min {
				t.Fatalf("%q sampled %v below min", s, x)
			}
		}
	})
}

func FuzzParsePartition(f *testing.F) {
	for _, s := range []string{"0,1|2,3@100ms-2s", "0@100ms", "0|1@1s-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := sim.ParsePartition(s)
		if err == nil && p.To != 0 && p.To <= p.From {
			t.Fatalf("%q accepted with To <= From", s)
		}
	})
}

func FuzzParseCrash(f *testing.F) {
	for _, s := range []string{"0@1s:3s", "3@250ms", "x@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := sim.ParseCrash(s)
		if err == nil && (c.Node < 0 || c.At < 0 || (c.Recover != 0 && c.Recover <= c.At)) {
			t.Fatalf("%q accepted as %+v", s, c)
		}
	})
}

func TestStrings(t *testing.T) {
	kinds := map[sim.RecordKind]string{sim.RecSend: "send", sim.RecDeliver: "deliver", sim.RecDrop: "drop",
		sim.RecDuplicate: "duplicate", sim.RecLocal: "local", sim.RecTimer: "timer", sim.RecEvent: "event",
		sim.RecCrash: "crash", sim.RecRecover: "recover"}
	for k, want := range kinds {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), want)
		}
	}
	reasons := map[sim.DropReason]string{sim.DropRandom: "random", sim.DropPartition: "partition", sim.DropFilter: "filter", sim.DropCrashed: "crashed"}
	for r, want := range reasons {
		if r.String() != want {
			t.Errorf("%d.String() = %q, want %q", r, r.String(), want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestJSONLSink(t *testing.T) {
	var buf bytes.Buffer
	sink := sim.NewJSONLSink(&buf)
	pinger := echo.NewPinger(0, []sim.NodeID{1}, 10*time.Millisecond, 50)
	cfg := sim.Config{Nodes: []sim.Node{pinger, echo.NewPonger(1)}, Sinks: []sim.Sink{sink},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms"), Drop: 0.2, Duplicate: 0.2}},
		Crashes: []sim.Crash{{Node: 1, At: 100 * ms, Recover: 200 * ms}}}
	_, st := mustRun(t, cfg)
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	kinds := map[string]int{}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if m["seq"] != float64(i) {
			t.Fatalf("line %d has seq %v", i, m["seq"])
		}
		kind, _ := m["kind"].(string)
		kinds[kind]++
		switch kind {
		case "send", "deliver", "drop", "duplicate":
			if m["type"] != "PING" && m["type"] != "PONG" || m["msg"] == nil || m["from"] == nil || m["to"] == nil {
				t.Fatalf("message record missing fields: %s", line)
			}
			if (kind == "drop") != (m["reason"] != nil) {
				t.Fatalf("reason present iff drop: %s", line)
			}
		case "timer":
			if m["timer"] == nil || m["to"] == nil {
				t.Fatalf("timer record missing fields: %s", line)
			}
		case "event":
			if m["event"] != "pong" || m["data"].(map[string]any)["RTT"] == nil {
				t.Fatalf("event record missing fields: %s", line)
			}
		}
	}
	for _, k := range []string{"send", "deliver", "drop", "duplicate", "timer", "event", "crash", "recover"} {
		if kinds[k] == 0 {
			t.Errorf("no %q record in the JSON trace", k)
		}
	}
	if uint64(kinds["send"]) != st.Sent.Messages || uint64(kinds["drop"]) != st.Dropped.Messages {
		t.Errorf("JSON sends/drops %d/%d, stats %d/%d", kinds["send"], kinds["drop"], st.Sent.Messages, st.Dropped.Messages)
	}

	bad := sim.NewJSONLSink(failWriter{})
	cfg.Sinks = []sim.Sink{bad}
	cfg.Nodes = pingPong(1, time.Millisecond, 5000)
	mustRun(t, cfg)
	if err := bad.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush = %v, want the write error", err)
	}
}
