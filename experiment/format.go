package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// recordJSON renders a record as its JSON Lines trace object.
func recordJSON(r *sim.Record) json.RawMessage {
	var b bytes.Buffer
	s := sim.NewJSONLSink(&b)
	s.Record(r)
	if err := s.Flush(); err != nil {
		return json.RawMessage("null")
	}
	return json.RawMessage(bytes.TrimSpace(b.Bytes()))
}

// nodeName names a node as traces do: r0.. for replicas, c4.. for clients.
func nodeName(id sim.NodeID, n int) string {
	if int(id) < n {
		return "r" + strconv.Itoa(int(id))
	}
	return "c" + strconv.Itoa(int(id))
}

// recordLine formats a record on one line: "#seq time kind nodes what".
func recordLine(r *sim.Record, n int) string {
	name := func(id sim.NodeID) string { return nodeName(id, n) }
	head := fmt.Sprintf("#%d %v %s", r.Seq, r.Time, r.Kind)
	switch r.Kind {
	case sim.RecSend, sim.RecDeliver, sim.RecDrop, sim.RecDuplicate, sim.RecLocal:
		s := fmt.Sprintf("%s %s -> %s %s", head, name(r.From), name(r.To), msgLine(r.Msg, n))
		if r.Reason != sim.DropNone {
			s += " (" + r.Reason.String() + ")"
		}
		return s
	case sim.RecTimer:
		return fmt.Sprintf("%s %s timer %d", head, name(r.To), r.Timer)
	case sim.RecEvent:
		if r.Event == nil {
			return fmt.Sprintf("%s %s", head, name(r.From))
		}
		data, err := json.Marshal(r.Event)
		if err != nil {
			data = []byte("?")
		}
		data = longDigest.ReplaceAll(data, []byte(`"$1"`))
		return fmt.Sprintf("%s %s %s %s", head, name(r.From), r.Event.Name(), data)
	}
	return fmt.Sprintf("%s %s", head, name(r.From))
}

// longDigest matches a full hex digest in JSON, to shorten it to 8 digits
// as the rest of the line prints digests.
var longDigest = regexp.MustCompile(`"([0-9a-f]{8})[0-9a-f]{56}"`)

// msgLine summarises a message in a few fields.
func msgLine(m sim.Message, n int) string {
	name := func(id sim.NodeID) string { return nodeName(id, n) }
	switch m := m.(type) {
	case nil:
		return "(no message)"
	case *pbft.Request:
		return fmt.Sprintf("REQUEST %s t%d %q", name(m.Client), m.Timestamp, m.Op)
	case *pbft.PrePrepare:
		return fmt.Sprintf("PRE-PREPARE v%d n%d d=%s by %s, %d requests", m.View, m.Seq, m.Digest, name(m.Replica), len(m.Batch))
	case *pbft.Prepare:
		return fmt.Sprintf("PREPARE v%d n%d d=%s by %s", m.View, m.Seq, m.Digest, name(m.Replica))
	case *pbft.Commit:
		return fmt.Sprintf("COMMIT v%d n%d d=%s by %s", m.View, m.Seq, m.Digest, name(m.Replica))
	case *pbft.Reply:
		return fmt.Sprintf("REPLY v%d %s t%d by %s %q", m.View, name(m.Client), m.Timestamp, name(m.Replica), m.Result)
	case *pbft.Checkpoint:
		return fmt.Sprintf("CHECKPOINT n%d d=%s by %s", m.Seq, m.StateDigest, name(m.Replica))
	case *pbft.ViewChange:
		seqs := make([]string, len(m.Prepared))
		for i, pc := range m.Prepared {
			if pc.PrePrepare != nil {
				seqs[i] = fmt.Sprintf("n%d", pc.PrePrepare.Seq)
			}
		}
		return fmt.Sprintf("VIEW-CHANGE to v%d stable n%d prepared [%s] by %s", m.NewView, m.StableSeq, strings.Join(seqs, " "), name(m.Replica))
	case *pbft.NewView:
		seqs := make([]string, len(m.PrePrepares))
		for i, pp := range m.PrePrepares {
			seqs[i] = fmt.Sprintf("n%d", pp.Seq)
		}
		return fmt.Sprintf("NEW-VIEW v%d by %s with %d VIEW-CHANGEs, O=[%s]", m.View, name(m.Replica), len(m.ViewChanges), strings.Join(seqs, " "))
	case *pbft.FetchState:
		return fmt.Sprintf("FETCH-STATE n%d v%d by %s", m.Seq, m.View, name(m.Replica))
	case *pbft.State:
		s := fmt.Sprintf("STATE n%d d=%s by %s", m.Seq, m.StateDigest, name(m.Replica))
		if m.NewView != nil {
			s += fmt.Sprintf(" with NEW-VIEW v%d", m.NewView.View)
		}
		return s
	}
	return m.Type().String()
}
