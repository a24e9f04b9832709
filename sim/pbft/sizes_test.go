package pbft

import (
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// TestMessageSizesExact pins the modelled wire size of every message type,
// each figure worked out by hand from the model (encoding.go): a 16-byte
// header, 8 bytes per integer, 4 per node id, 32 per digest, 64 per
// signature, 4 + length per string or list; nested messages count without
// their header (and a reply inside a STATE without its signature).
func TestMessageSizesExact(t *testing.T) {
	q := &Request{Op: "abcd"}                   // 16 + (4+4) + 8 + 4 + 64
	pp0 := &PrePrepare{}                        // 16 + 2*8 + 32 + 4 + 64 + 4
	pp2 := &PrePrepare{Batch: []*Request{q, q}} // 136 + 2*(100-16)
	p := &Prepare{}                             // 16 + 2*8 + 32 + 4 + 64
	c := &Checkpoint{}                          // 16 + 8 + 32 + 4 + 64
	rep := Reply{Result: "ok"}                  // 16 + 2*8 + 2*4 + (4+2) + 64
	cert := PreparedCert{PrePrepare: pp0, Prepares: []*Prepare{p, p}}
	vc := &ViewChange{Checkpoints: []*Checkpoint{c, c}, Prepared: []PreparedCert{cert}}
	nv := &NewView{ViewChanges: []*ViewChange{{}}, PrePrepares: []*PrePrepare{pp0}}
	st := &State{Snapshot: make([]byte, 10), LastReplies: []Reply{rep}, Proof: []*Checkpoint{c}}
	stNV := &State{Snapshot: make([]byte, 10), LastReplies: []Reply{rep}, Proof: []*Checkpoint{c}, NewView: &NewView{}}
	cases := []struct {
		name string
		m    sim.Message
		want int
	}{
		{"REQUEST", q, 100},
		{"PRE-PREPARE empty", pp0, 136},
		{"PRE-PREPARE of 2 requests", pp2, 304},
		{"PREPARE", p, 132},
		{"COMMIT", &Commit{}, 132},
		{"REPLY", &rep, 110},
		{"CHECKPOINT", c, 124},
		{"VIEW-CHANGE empty", &ViewChange{}, 108},
		// 108 + 2*(124-16) + [4 + (136-16) + 2*(132-16)]
		{"VIEW-CHANGE with proof and certificate", vc, 108 + 216 + 356},
		{"NEW-VIEW empty", &NewView{}, 100},
		// 100 + (108-16) + (136-16)
		{"NEW-VIEW with V and O", nv, 312},
		{"FETCH-STATE", &FetchState{}, 36},
		// 16 + 8 + 32 + 4 + 2*4 + 10, + (110-16-64), + 4 + 1, + (124-16)
		{"STATE", st, 221},
		// + (100-16)
		{"STATE with NEW-VIEW", stNV, 305},
	}
	for _, tc := range cases {
		if got := tc.m.Size(); got != tc.want {
			t.Errorf("%s: size %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestConfigErrorTexts: the computed bounds in configuration errors.
func TestConfigErrorTexts(t *testing.T) {
	kr := NewKeyring(1, 6)
	base := Config{ID: 0, N: 4, F: 1, CheckpointInterval: 2, Window: 4, Batch: 1, ViewChangeTimeout: 1, Keyring: kr, SM: &logSM{}}
	c := base
	c.N, c.F = 6, 2
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "need N >= 3F+1 = 7") {
		t.Errorf("N=6 F=2: %v", err)
	}
	c = base
	c.ID = 4
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "in [0, 3]") {
		t.Errorf("ID=4: %v", err)
	}
	_, err := NewClient(ClientConfig{ID: 6, N: 4, F: 1, Ops: []string{"x"}, Timeout: 1, Keyring: kr})
	if err == nil || !strings.Contains(err.Error(), "ids 0..5 only") {
		t.Errorf("client id 6 with 6 keys: %v", err)
	}
}
