package pbft

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// TestWireTags: every message's canonical encoding starts with its fixed wire
// tag, and no two types share one, whatever MsgType numbers the registry gave
// (which follow package initialisation order).
func TestWireTags(t *testing.T) {
	msgs := []struct {
		m   interface{ AppendCanonical([]byte) []byte }
		typ sim.MsgType
		tag byte
	}{
		{&Request{Op: "a"}, TypeRequest, tagRequest},
		{&PrePrepare{}, TypePrePrepare, tagPrePrepare},
		{&Prepare{}, TypePrepare, tagPrepare},
		{&Commit{}, TypeCommit, tagCommit},
		{&Reply{}, TypeReply, tagReply},
		{&Checkpoint{}, TypeCheckpoint, tagCheckpoint},
		{&ViewChange{}, TypeViewChange, tagViewChange},
		{&NewView{}, TypeNewView, tagNewView},
		{&FetchState{}, TypeFetchState, tagFetchState},
		{&State{}, TypeState, tagState},
	}
	seen := map[byte]sim.MsgType{}
	for _, c := range msgs {
		if prev, dup := seen[c.tag]; dup {
			t.Errorf("%v and %v share wire tag %d", prev, c.typ, c.tag)
		}
		seen[c.tag] = c.typ
		b := c.m.AppendCanonical(nil)
		if len(b) == 0 || b[0] != c.tag {
			t.Errorf("%v: canonical encoding starts %v, want its wire tag %d", c.typ, b[:min(len(b), 1)], c.tag)
		}
	}
}
