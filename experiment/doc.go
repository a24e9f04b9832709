// Package experiment is the one orchestration layer of pbftsim: every
// command of the CLI (cmd/pbftsim) goes through it. Each experiment takes
// an options struct and returns a result the CLI prints:
//
//   - Run: one scenario, checked or not, with its trace, and the replay
//     file and counterexample of a violation; Check validates a scenario
//     the same way without running it.
//   - Replay, ReplayUntil: rerun a replay file and check it against its
//     record, or stop it at a step and read the replicas' state.
//   - Search: the property search on the correct protocol (check).
//   - NewHunt, NewHuntAll: the search for a violation of a broken variant,
//     or of every one (hunt).
//   - Sweep, Merge: one scenario over many seeds into a sweep file
//     (sweep), and the shards of one joined (merge).
//   - Report: the message-complexity sweep and its report folder (report).
//   - NewTriage: group, rerun and shrink a sweep's failing seeds (triage).
//   - Explore, ExploreAll: exhaustive exploration of a small cluster and
//     the replay file of its shortest counterexample, or the table of every
//     variant (explore; properties/explore runs the search itself).
//
// The trace command only renders a trace file and runs nothing.
//
// An experiment applies its defaults once, checks its options (an
// *InputError names the option in Field), writes its outputs and returns
// an error that classes how it ended: bad input (*InputError), stopped by
// its context (wraps ErrInterrupted), or a failure (a violation within
// the fault model, nothing checked, a variant not found). The rules that
// judge and end a run live in properties and sim/cluster; this package
// applies them, and no package below it imports it.
package experiment
