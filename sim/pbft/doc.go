// Package pbft implements Practical Byzantine Fault Tolerance (Castro and
// Liskov, OSDI'99 / TOCS'02) as pure state machines for the sim kernel.
//
// A Replica (NewReplica) and a closed-loop Client (NewClient) implement
// sim.Node: they never read the clock or start goroutines; they react to one
// sim.Input at a time and append sends, timers and events to a sim.Output.
//
// Protocol summary (the rules, quorums and message counts are in
// ../../docs/protocol.md, docs/protocol.md at the repository root):
//   - normal case: REQUEST to the primary (v mod n), PRE-PREPARE multicast to
//     the n-1 backups, PREPARE from every backup to all other replicas,
//     prepared = PRE-PREPARE + 2f matching PREPAREs from distinct backups,
//     COMMIT from every replica, committed-local = 2f+1 matching COMMITs, then
//     execution in sequence order and a REPLY to the client, who accepts f+1
//     matching replies. Own PREPAREs/COMMITs are counted locally, never sent
//     to oneself.
//   - checkpoints every K sequence numbers, stable with 2f+1 matching
//     CHECKPOINTs; the log holds only (h, h+L] and is garbage-collected at each
//     stable checkpoint. The state digest covers the state machine and the
//     last-reply table.
//   - batching: the primary orders up to B requests per PRE-PREPARE, flushing a
//     partial batch after BatchTimeout.
//   - request timer (OSDI'99 §4.5.2): a replica waiting for a request runs
//     one timer that belongs to that request; it stops only when that
//     request is no longer awaited and restarts for another awaited one
//     (other clients' executions do not reset it). On expiry: VIEW-CHANGE.
//   - view change: VIEW-CHANGE with checkpoint proof C and prepared
//     certificates P, NEW-VIEW with V and O; backups verify V and recompute O.
//     Timer T starts after 2f+1 VIEW-CHANGEs for this view or later ones.
//     T doubles for every view that ends before a request executes in it
//     and returns to its base only once one does (not at NEW-VIEW). f+1
//     VIEW-CHANGEs for higher views make a replica join the smallest of them.
//     A replica retransmits its VIEW-CHANGE every ViewChangeTimeout while it
//     waits; a replica of view v that receives a retransmitted VIEW-CHANGE
//     for v or an older view forwards the NEW-VIEW of v (signed by v's
//     primary). After a view change replicas resend their unstable
//     CHECKPOINTs.
//   - state transfer (TOCS'02 §6.2): FETCH-STATE asks for any stable state
//     above the requester's last executed sequence number; STATE carries the
//     snapshot, the last-reply table and the 2f+1 CHECKPOINT proof. It is
//     installed only if the restored state has the digest the proof fixes;
//     otherwise it is rolled back, a BadState event accuses the sender (its
//     STATEs are ignored from then on) and another replica's STATE is used.
//     STATE also carries the sender's NEW-VIEW so that a replica that
//     missed a view change can rejoin.
//   - persistence (store.go): under a crash of kind keep a replica keeps
//     all its state (as if on stable storage before every send); with a
//     Store it persists, and syncs before a step's messages leave, its view
//     and view-change state, what it signed per (v, n) with the prepared
//     certificate, its checkpoints and the stable one, and its service
//     state; after amnesia or lose-unsynced it is rebuilt from the store,
//     after a wipe it starts empty and signs nothing until a state
//     transfer. Recovery then re-arms timers and asks for newer state.
//
// Quorums are 2f+1 when n = 3f+1; with more replicas every "2f+1" above
// (prepared, committed, stable checkpoint, V) is Quorum(n, f) =
// ceil((n+f+1)/2) and "2f" is Quorum(n, f)-1, so quorums still intersect in a
// correct replica.
//
// Authentication is modelled by a Keyring: every message in a certificate
// carries a Sig that only its author's Signer can produce.
//
// Broken variants (Variants, ParseVariant) deliberately violate one rule each
// so that checkers and property tests can be shown to catch real bugs.
//
// Events are reported as pointers (*Executed, *Committed, ...).
package pbft
