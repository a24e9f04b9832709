package pbft

import (
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// Store is a replica's modelled stable storage: the disk that survives a
// crash of kind sim.CrashAmnesia (and, up to its last sync, of
// sim.CrashLoseUnsynced), and that sim.CrashWipe replaces by an empty one.
// The harness owns one Store per replica and hands it in with
// Config.Store; the replica writes to it only at its persist points, at
// the end of the step that changed what they hold, and syncs it before
// that step's messages leave (the kernel sends a step's output after the
// step returns). Without a Store (Config.Store nil) a replica supports
// only sim.CrashKeep, which keeps everything.
//
// What a correct replica persists (the PBFT persistence model, README
// "Protocol notes"):
//   - its view and whether it is changing views, with its own VIEW-CHANGE
//     for that view and the NEW-VIEW it entered the view by;
//   - per sequence number in its window, what it signed in its view: the
//     PRE-PREPARE it sent or accepted, its PREPARE, its COMMIT, and the
//     prepared certificate its COMMIT was sent on (a VIEW-CHANGE must
//     carry it);
//   - its own checkpoints above the low watermark (CHECKPOINT, state
//     digest, snapshot and reply table) and the stable checkpoint (h, its
//     digest and 2f+1 proof);
//   - its service state after every execution (the state machine
//     snapshot, the reply table and the last executed sequence number),
//     so that a recovered replica never executes a sequence number again.
//
// The rest is volatile: votes received from others, pending and queued
// requests, buffered future-view messages, timers and the view-change
// timeout. Everything written by a step is synced at its end; a write and
// its sync are atomic (no torn records).
type Store struct {
	disk    map[storeKey]any // synced records
	pending []storeWrite     // written since the last sync, in order
	// initial is the state machine's initial snapshot: part of the
	// software, not of the disk (a wiped replica starts from it).
	initial Frozen
	// rejoining is set by a wipe and cleared when the replica has caught
	// up by state transfer (kept across later crashes of any kind).
	rejoining bool
	// wiped: the replica lost its disk at least once; it may have signed
	// anything before, so it proposes only in views it opened itself
	// after the wipe (see Replica.propose).
	wiped bool

	writes, syncs, lostWrites uint64
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{disk: make(map[storeKey]any)} }

// StoreStats counts a store's activity over a run.
type StoreStats struct {
	Writes     uint64 `json:"writes"`      // records written (deletions included)
	Syncs      uint64 `json:"syncs"`       // syncs that flushed at least one write
	LostWrites uint64 `json:"lost_writes"` // unsynced writes lost by lose-unsynced crashes
	Records    int    `json:"records"`     // records on the disk at the end
}

// Stats returns the store's counters.
func (s *Store) Stats() StoreStats {
	return StoreStats{Writes: s.writes, Syncs: s.syncs, LostWrites: s.lostWrites, Records: len(s.disk) + len(s.pending)}
}

// storeKind orders records by kind in a restore.
type storeKind uint8

const (
	keyStable storeKind = iota + 1
	keyCkpt
	keyState
	keyView
	keyEntry
)

type storeKey struct {
	kind storeKind
	seq  uint64
}

type storeWrite struct {
	key storeKey
	rec any // nil deletes
}

// The records. They are written once and never modified (messages are
// immutable; certificates are cloned).
type (
	viewRec struct {
		view   uint64
		active bool
		vc     *ViewChange // own VIEW-CHANGE for view (when !active)
		nv     *NewView    // the NEW-VIEW of view (when active and entered by one)
	}
	stableRec struct {
		h     uint64
		d     Digest
		proof []*Checkpoint
	}
	stateRec struct {
		lastExec uint64
		state    Frozen
		replies  []Reply
	}
	ckptRec struct {
		digest  Digest
		state   Frozen
		replies []Reply
		msg     *Checkpoint
	}
	entryRec struct {
		view    uint64
		pp      *PrePrepare
		prepare *Prepare
		commit  *Commit
		cert    *PreparedCert
	}
)

func (s *Store) put(k storeKey, rec any) {
	s.pending = append(s.pending, storeWrite{k, rec})
	s.writes++
}

// sync makes every pending write durable.
func (s *Store) sync() {
	if len(s.pending) == 0 {
		return
	}
	for _, w := range s.pending {
		if w.rec == nil {
			delete(s.disk, w.key)
		} else {
			s.disk[w.key] = w.rec
		}
	}
	clear(s.pending)
	s.pending = s.pending[:0]
	s.syncs++
}

// crash applies what a crash of kind k does to the disk.
func (s *Store) crash(k sim.CrashKind) {
	switch k {
	case sim.CrashAmnesia:
		// the process died, the operating system still writes its buffers
		n := s.syncs
		s.sync()
		s.syncs = n
	case sim.CrashLoseUnsynced:
		s.lostWrites += uint64(len(s.pending))
		clear(s.pending)
		s.pending = s.pending[:0]
	case sim.CrashWipe:
		clear(s.pending)
		s.pending = s.pending[:0]
		clear(s.disk)
		s.rejoining, s.wiped = true, true
	}
}

// keys returns the keys of the disk's records of kind k (all kinds when
// k is 0), sorted.
func (s *Store) keys(k storeKind) []storeKey {
	out := make([]storeKey, 0, len(s.disk))
	for key := range s.disk {
		if k == 0 || key.kind == k {
			out = append(out, key)
		}
	}
	slices.SortFunc(out, cmpKey)
	return out
}

func cmpKey(a, b storeKey) int {
	if a.kind != b.kind {
		return int(a.kind) - int(b.kind)
	}
	switch {
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

// ---- persist points (the replica side) ----

// dirty marks what the current step changed that the store holds.
type dirty struct {
	view, state, stable bool
	entries, ckpts      []uint64
}

// markEntry notes that the replica signed something for seq in this step.
func (r *Replica) markEntry(seq uint64) {
	if r.store != nil {
		r.dirty.entries = append(r.dirty.entries, seq)
	}
}

// persist writes what this step changed and syncs it, before the step's
// messages leave. It runs at the end of every step.
func (r *Replica) persist() {
	s, d := r.store, &r.dirty
	if d.stable {
		s.put(storeKey{keyStable, 0}, &stableRec{h: r.h, d: r.stableD, proof: r.proof})
		for _, k := range s.keysAll() {
			if (k.kind == keyEntry && k.seq <= r.h) || (k.kind == keyCkpt && k.seq < r.h) {
				s.put(k, nil)
			}
		}
	}
	if d.state {
		s.put(storeKey{keyState, 0}, &stateRec{lastExec: r.lastExec, state: r.sm.Freeze(), replies: r.replyTable()})
	}
	for _, seq := range d.ckpts {
		if cs := r.ckpts[seq]; cs != nil && cs.mine && seq >= r.h {
			s.put(storeKey{keyCkpt, seq}, &ckptRec{digest: cs.digest, state: cs.state, replies: cs.replies, msg: cs.votes[r.id]})
		}
	}
	if r.rules.persistSigned {
		slices.Sort(d.entries)
		d.entries = slices.Compact(d.entries)
		for _, seq := range d.entries {
			e := r.log.get(seq)
			if e == nil || seq <= r.h {
				continue
			}
			rec := &entryRec{view: e.view, pp: e.pp, prepare: e.prepares[r.id], commit: e.commits[r.id]}
			if e.cert != nil {
				pc := *e.cert
				pc.Prepares = slices.Clone(pc.Prepares) // the entry reuses its array
				rec.cert = &pc
			}
			s.put(storeKey{keyEntry, seq}, rec)
		}
	}
	if d.view {
		rec := &viewRec{view: r.view, active: r.active}
		if !r.active {
			rec.vc = r.vcs[r.id]
		} else if r.lastNewView != nil && r.lastNewView.View == r.view {
			rec.nv = r.lastNewView
		}
		s.put(storeKey{keyView, 0}, rec)
	}
	checkpoint := len(d.ckpts) > 0 || d.stable
	d.view, d.state, d.stable = false, false, false
	d.entries, d.ckpts = d.entries[:0], d.ckpts[:0]
	if r.rules.syncEveryStep || checkpoint {
		s.sync()
	}
}

// keysAll returns the keys of the records on the disk or pending (some
// possibly deleted by a pending write), sorted.
func (s *Store) keysAll() []storeKey {
	out := s.keys(0)
	if len(s.pending) == 0 {
		return out
	}
	for _, w := range s.pending {
		out = append(out, w.key)
	}
	slices.SortFunc(out, cmpKey)
	return slices.Compact(out)
}

// ---- recovery ----

// recoverFrom rebuilds the replica after a crash of kind k (not keep) from
// what its store holds then: a fresh replica with the records restored.
func (r *Replica) recoverFrom(k sim.CrashKind) {
	s := r.store
	if s == nil {
		panic(fmt.Sprintf("pbft: replica %d recovered from a %v crash without a stable store (Config.Store)", r.id, k))
	}
	s.crash(k)
	inv := r.inv
	fresh, err := NewReplica(r.cfg)
	if err != nil {
		panic(fmt.Sprintf("pbft: replica %d: %v", r.id, err)) // the config was valid before
	}
	fresh.out, fresh.now = r.out, r.now
	*r = *fresh
	if k != sim.CrashWipe {
		r.inv = inv // the invariants hold across an amnesia crash too
	}
	r.probe(ProbeRestored)
	if st, ok := s.disk[storeKey{keyStable, 0}].(*stableRec); ok {
		r.h, r.stableD, r.proof = st.h, st.d, st.proof
	}
	state, replies := s.initial, []Reply(nil)
	if st, ok := s.disk[storeKey{keyState, 0}].(*stateRec); ok {
		r.lastExec, state, replies = st.lastExec, st.state, st.replies
	}
	if err := r.sm.Thaw(state); err != nil {
		panic(fmt.Sprintf("pbft: replica %d cannot restore its persisted state: %v", r.id, err))
	}
	r.setReplies(replies)
	for _, key := range s.keys(keyCkpt) {
		rec := s.disk[key].(*ckptRec)
		if key.seq < r.h {
			continue
		}
		cs := r.ckpt(key.seq)
		cs.mine, cs.digest, cs.state, cs.replies = true, rec.digest, rec.state, rec.replies
		cs.votes[r.id] = rec.msg
	}
	if v, ok := s.disk[storeKey{keyView, 0}].(*viewRec); ok {
		r.view, r.active = v.view, v.active
		if !v.active && v.vc != nil {
			r.vcs[r.id] = v.vc
		}
		if v.nv != nil {
			r.lastNewView = v.nv
			if v.nv.Replica == r.id {
				r.sentNewView = v.view + 1
			}
		}
	}
	r.seq = max(r.h, r.seq)
	for _, key := range s.keys(keyEntry) {
		rec := s.disk[key].(*entryRec)
		if !r.inWindow(key.seq) {
			continue
		}
		e := r.getEntry(key.seq)
		if rec.cert != nil {
			e.certPrep = append(e.certPrep[:0], rec.cert.Prepares...)
			e.certBuf = PreparedCert{PrePrepare: rec.cert.PrePrepare, Prepares: e.certPrep}
			e.cert = &e.certBuf
		}
		e.executed = key.seq <= r.lastExec
		if rec.view != r.view && r.active {
			continue // what it signed in an older view: only the certificate matters
		}
		e.view = rec.view
		e.pp = rec.pp
		e.prepares[r.id] = rec.prepare
		if rec.commit != nil {
			e.commits[r.id], e.sentCommit, e.prepared = rec.commit, true, true
		}
		if e.pp != nil {
			r.recount(e)
			if rec.view == r.view {
				if r.primary(r.view) == r.id && e.pp.Replica == r.id {
					r.seq = max(r.seq, key.seq)
				}
				if !e.executed {
					for _, q := range e.pp.Batch {
						r.inLog[mkReqKey(q.Client, q.Timestamp)] = true
					}
				}
			}
		}
	}
	if nv := r.lastNewView; nv != nil && nv.Replica == r.id && nv.View == r.view {
		for _, pp := range nv.PrePrepares {
			r.seq = max(r.seq, pp.Seq) // O's numbers are taken even if not logged
		}
	}
	r.rejoining = s.rejoining
}

// setReplies replaces the last-reply table by replies.
func (r *Replica) setReplies(replies []Reply) {
	clear(r.lastReply)
	r.replyClients = r.replyClients[:0]
	for i := range replies {
		rep := replies[i]
		rep.Replica = r.id
		r.lastReply[rep.Client] = &rep
		r.replyClients = append(r.replyClients, rep.Client)
	}
	slices.Sort(r.replyClients)
}
