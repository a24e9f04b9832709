package pbft

import "github.com/pbftsim/pbftsim/sim"

// Probe is a coverage probe (FoundationDB's CODE_PROBE, Antithesis'
// "sometimes" assertions): replica Replica reached the rare protocol path
// Path (one of ProbeNames; the event's Name is "probe"). Probes never affect the run; a search counts them to see which
// paths its scenarios reach (properties.Probes lists them).
type Probe struct {
	Replica sim.NodeID
	View    uint64
	Path    string
}

// The probe names (see ProbeNames).
const (
	ProbeNVReproposal    = "newview-reproposes-request" // a NEW-VIEW entered whose O re-proposes a request
	ProbeNVNull          = "newview-null-request"       // a NEW-VIEW entered whose O holds a null request
	ProbeNVRejected      = "newview-rejected"           // a signed NEW-VIEW failed validation
	ProbeStateInstalled  = "state-transfer-completed"   // a state transfer installed a snapshot
	ProbeStateRejected   = "state-transfer-rejected"    // a snapshot did not hash to its proven digest
	ProbeWatermarkStall  = "watermark-stall"            // the primary had requests but the high watermark stopped it
	ProbeVCInCheckpoint  = "view-change-during-checkpoint"
	ProbeSkipView        = "view-change-skips-a-view" // a view change to v+2 or beyond
	ProbeDupExecution    = "duplicate-request-at-execution"
	ProbeReplyCache      = "retransmission-answered-from-cache"
	ProbeTimeoutGrew     = "view-change-timeout-doubled"
	ProbeRecovered       = "replica-recovered"
	ProbeRecoveredInVC   = "replica-recovered-during-view-change"
	ProbeReplicaFetching = "state-fetch-started"
	ProbeRestored        = "replica-restored-from-store" // recovered from its stable store (amnesia, lose-unsynced, wipe)
	ProbeRejoined        = "wiped-replica-caught-up"     // a wiped replica installed a state and signs again
)

// ProbeNames lists every probe a replica can report, in a fixed order.
func ProbeNames() []string {
	return []string{ProbeNVReproposal, ProbeNVNull, ProbeNVRejected, ProbeStateInstalled, ProbeStateRejected,
		ProbeWatermarkStall, ProbeVCInCheckpoint, ProbeSkipView, ProbeDupExecution, ProbeReplyCache,
		ProbeTimeoutGrew, ProbeRecovered, ProbeRecoveredInVC, ProbeReplicaFetching,
		ProbeRestored, ProbeRejoined}
}

// Name implements sim.Event.
func (*Probe) Name() string { return "probe" }

// AppendCanonical implements sim.Event.
func (p *Probe) AppendCanonical(b []byte) []byte {
	b = append(b, '?')
	b = appendNode(b, int32(p.Replica))
	b = appendU64(b, p.View)
	return append(b, p.Path...)
}

// probe reports that the replica reached the path name.
func (r *Replica) probe(name string) { r.out.Report(&Probe{Replica: r.id, View: r.view, Path: name}) }

// probeNewView reports what the O of an entered NEW-VIEW holds.
func (r *Replica) probeNewView(nv *NewView) {
	null, req := false, false
	for _, pp := range nv.PrePrepares {
		null, req = null || len(pp.Batch) == 0, req || len(pp.Batch) > 0
	}
	if req {
		r.probe(ProbeNVReproposal)
	}
	if null {
		r.probe(ProbeNVNull)
	}
}

// probeViewChange reports a view change from view from to v that skips a
// view or starts while a checkpoint is taken but not yet stable.
func (r *Replica) probeViewChange(from, v uint64) {
	if v >= from+2 {
		r.probe(ProbeSkipView)
	}
	if k := uint64(r.cfg.CheckpointInterval); r.lastExec/k*k > r.h {
		r.probe(ProbeVCInCheckpoint)
	}
}

// probeRecover reports a recovery, during a view change or not.
func (r *Replica) probeRecover() {
	if r.active {
		r.probe(ProbeRecovered)
	} else {
		r.probe(ProbeRecoveredInVC)
	}
}
