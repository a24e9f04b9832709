package reports

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// PBFT message type names as they appear in cluster.Result.Messages.ByType.
const (
	TypeRequest    = "REQUEST"
	TypePrePrepare = "PRE-PREPARE"
	TypePrepare    = "PREPARE"
	TypeCommit     = "COMMIT"
	TypeReply      = "REPLY"
	TypeCheckpoint = "CHECKPOINT"
	TypeViewChange = "VIEW-CHANGE"
	TypeNewView    = "NEW-VIEW"
	TypeFetchState = "FETCH-STATE"
	TypeState      = "STATE"
)

// KnownTypes lists the PBFT message types in protocol order (the column
// order of the tables and of results.csv).
var KnownTypes = []string{TypeRequest, TypePrePrepare, TypePrepare, TypeCommit, TypeReply,
	TypeCheckpoint, TypeViewChange, TypeNewView, TypeFetchState, TypeState}

// Phase names.
const (
	PhaseNormal     = "normal"      // REQUEST, PRE-PREPARE, PREPARE, COMMIT, REPLY
	PhaseCheckpoint = "checkpoint"  // CHECKPOINT
	PhaseViewChange = "view_change" // VIEW-CHANGE, NEW-VIEW, FETCH-STATE, STATE
	PhaseOther      = "other"       // any type not listed above
)

// PhaseOf returns the phase a message type belongs to.
func PhaseOf(typ string) string {
	switch typ {
	case TypeRequest, TypePrePrepare, TypePrepare, TypeCommit, TypeReply:
		return PhaseNormal
	case TypeCheckpoint:
		return PhaseCheckpoint
	case TypeViewChange, TypeNewView, TypeFetchState, TypeState:
		return PhaseViewChange
	}
	return PhaseOther
}

// ClosedForm holds the closed-form PBFT message counts for n replicas
// (self-deliveries not counted; see the table in ../docs/protocol.md).
type ClosedForm struct {
	N     int `json:"n"`
	F     int `json:"f"`
	Batch int `json:"batch"`
	K     int `json:"checkpoint_interval"`
	// PerType is messages per committed request by normal-case type:
	// REQUEST 1, PRE-PREPARE (n-1)/b, PREPARE (n-1)²/b, COMMIT n(n-1)/b, REPLY n.
	PerType map[string]float64 `json:"per_type"`
	// NormalPerRequest is 2n²-n+1 without batching, (2n²-2n)/b + n + 1 with batches of b.
	NormalPerRequest float64 `json:"normal_per_request"`
	// CheckpointPerRound is n(n-1).
	CheckpointPerRound float64 `json:"checkpoint_per_round"`
	// CheckpointPerRequest is n(n-1)/(K·b).
	CheckpointPerRequest float64 `json:"checkpoint_per_request"`
	// ViewChange is n²-1: n VIEW-CHANGEs and one NEW-VIEW, each to n-1 replicas.
	ViewChange float64 `json:"view_change"`
}

// ClosedFormCounts returns the closed-form counts for n replicas, batches of
// batch requests (values below 1 mean 1) and checkpoint interval k (values
// below 1 mean the default 16).
func ClosedFormCounts(n, batch, k int) ClosedForm {
	batch = max(batch, 1)
	if k < 1 {
		k = defaultCheckpointInterval
	}
	fn, b := float64(n), float64(batch)
	c := ClosedForm{N: n, F: (n - 1) / 3, Batch: batch, K: k, PerType: map[string]float64{
		TypeRequest:    1,
		TypePrePrepare: (fn - 1) / b,
		TypePrepare:    (fn - 1) * (fn - 1) / b,
		TypeCommit:     fn * (fn - 1) / b,
		TypeReply:      fn,
	}}
	c.NormalPerRequest = (2*fn*fn-2*fn)/b + fn + 1
	c.CheckpointPerRound = fn * (fn - 1)
	c.CheckpointPerRequest = c.CheckpointPerRound / float64(k) / b
	c.ViewChange = fn*fn - 1
	return c
}

// Run is one simulation of the sweep: one row of results.csv and results.json.
// Per-request values divide by Committed and are 0 when nothing committed.
type Run struct {
	N          int    `json:"n"`
	F          int    `json:"f"`
	Seed       uint64 `json:"seed"`
	Submitted  int    `json:"submitted"`
	Committed  int    `json:"committed"`
	Completed  bool   `json:"completed"`
	Messages   uint64 `json:"messages"`
	Bytes      uint64 `json:"bytes"`
	Dropped    uint64 `json:"dropped"`
	Duplicated uint64 `json:"duplicated"`

	ByType      map[string]uint64 `json:"messages_by_type"`
	BytesByType map[string]uint64 `json:"bytes_by_type"`

	MessagesPerRequest    float64 `json:"messages_per_request"`
	BytesPerRequest       float64 `json:"bytes_per_request"`
	NormalPerRequest      float64 `json:"normal_per_request"`
	NormalBytesPerRequest float64 `json:"normal_bytes_per_request"`
	CheckpointPerRequest  float64 `json:"checkpoint_per_request"`
	ViewChangePerRequest  float64 `json:"view_change_per_request"`
	OtherPerRequest       float64 `json:"other_per_request"`

	// CheckpointRounds is floor(highest sequence number executed by a
	// non-faulty replica / K).
	CheckpointRounds   int     `json:"checkpoint_rounds"`
	CheckpointPerRound float64 `json:"checkpoint_per_round"`

	ViewChanges int `json:"view_changes"`
	// MessagesPerViewChange is (VIEW-CHANGE + NEW-VIEW) / view changes.
	MessagesPerViewChange float64 `json:"messages_per_view_change"`
	// BytesPerViewChange is the bytes of VIEW-CHANGE + NEW-VIEW / view changes.
	BytesPerViewChange float64 `json:"bytes_per_view_change"`

	LatencyP50Ns int64   `json:"latency_p50_ns"`
	LatencyP99Ns int64   `json:"latency_p99_ns"`
	LatencyMaxNs int64   `json:"latency_max_ns"`
	Throughput   float64 `json:"throughput_per_sim_s"` // committed requests per simulated second
	SimTimeNs    int64   `json:"sim_time_ns"`
	Events       uint64  `json:"events"`
	TraceHash    string  `json:"trace_hash"`
	// DivergedPayments counts the payments on which honest replicas
	// disagree at the end of the run (safety lost: only outside the fault
	// model of a correct protocol).
	DivergedPayments int `json:"diverged_payments"`
	// OutsideFaultModel is true when more replicas were faulty than the
	// protocol tolerates (or the network never stabilised).
	OutsideFaultModel bool `json:"outside_fault_model"`

	// Link load (see BandwidthReport): all bytes sent on the network / n /
	// simulated second; the busiest sender's bytes per second, the mean and
	// longest wait in a sender's queue and the mean wait at a receiver's
	// (rate-limited runs only); the longest time without progress.
	BytesPerSecPerReplica float64 `json:"bytes_per_sec_per_replica"`
	MaxSenderBytesPerSec  float64 `json:"max_sender_bytes_per_sec,omitempty"`
	QueueWaitMeanMs       float64 `json:"queue_wait_mean_ms,omitempty"`
	QueueWaitMaxMs        float64 `json:"queue_wait_max_ms,omitempty"`
	IngressWaitMeanMs     float64 `json:"ingress_wait_mean_ms,omitempty"`
	StallMs               float64 `json:"longest_stall_ms"`

	// WallTimeNs is the wall-clock time of the run, measured around it by the
	// report. It is the only field that differs between identical sweeps.
	WallTimeNs int64 `json:"wall_time_ns"`
}

func newRun(n int, seed uint64, k int, res *cluster.Result) Run {
	m := res.Messages
	r := Run{
		N: n, F: res.F, Seed: seed,
		Submitted: res.Requests.Submitted, Committed: res.Requests.Committed, Completed: res.Completed,
		Messages: m.Total, Bytes: m.Bytes, Dropped: m.Dropped, Duplicated: m.Duplicated,
		ByType: copyCounts(m.ByType), BytesByType: copyCounts(m.BytesByType),
		ViewChanges:  res.Views.Changes,
		LatencyP50Ns: res.LatencyNs.P50, LatencyP99Ns: res.LatencyNs.P99, LatencyMaxNs: res.LatencyNs.Max,
		SimTimeNs: res.SimTimeNs, Events: res.Events, TraceHash: res.TraceHash,
		OutsideFaultModel: !res.WithinFaultModel,
	}
	r.DivergedPayments = res.Payments.Count(cluster.StateDiverged)
	if r.F == 0 {
		r.F = (n - 1) / 3
	}
	var phase = map[string]uint64{}
	var normalBytes uint64
	for t, c := range r.ByType {
		phase[PhaseOf(t)] += c
		if PhaseOf(t) == PhaseNormal {
			normalBytes += r.BytesByType[t]
		}
	}
	var executed uint64
	for _, rep := range res.Replicas {
		if !rep.Faulty {
			executed = max(executed, rep.Executed)
		}
	}
	if len(res.Replicas) == 0 {
		executed = uint64(r.Committed)
	}
	r.CheckpointRounds = int(executed / uint64(k))
	if r.CheckpointRounds > 0 {
		r.CheckpointPerRound = float64(r.ByType[TypeCheckpoint]) / float64(r.CheckpointRounds)
	}
	if c := float64(r.Committed); c > 0 {
		r.MessagesPerRequest = float64(r.Messages) / c
		r.BytesPerRequest = float64(r.Bytes) / c
		r.NormalPerRequest = float64(phase[PhaseNormal]) / c
		r.NormalBytesPerRequest = float64(normalBytes) / c
		r.CheckpointPerRequest = float64(phase[PhaseCheckpoint]) / c
		r.ViewChangePerRequest = float64(phase[PhaseViewChange]) / c
		r.OtherPerRequest = float64(phase[PhaseOther]) / c
	}
	if r.ViewChanges > 0 {
		vc := float64(r.ViewChanges)
		r.MessagesPerViewChange = float64(r.ByType[TypeViewChange]+r.ByType[TypeNewView]) / vc
		r.BytesPerViewChange = float64(r.BytesByType[TypeViewChange]+r.BytesByType[TypeNewView]) / vc
	}
	if r.SimTimeNs > 0 {
		r.Throughput = float64(r.Committed) / (float64(r.SimTimeNs) / 1e9)
		r.BytesPerSecPerReplica = float64(r.Bytes) / float64(n) / (float64(r.SimTimeNs) / 1e9)
	}
	if e := m.Egress; e != nil {
		r.MaxSenderBytesPerSec = e.MaxBytesPerSec
		r.QueueWaitMeanMs, r.QueueWaitMaxMs = float64(e.QueueWaitMeanNs)/1e6, float64(e.QueueWaitMaxNs)/1e6
		r.IngressWaitMeanMs = float64(e.IngressWaitMeanNs) / 1e6
	}
	r.StallMs = float64(res.Views.NoProgress) / 1e6
	return r
}

func copyCounts(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// Stat summarises one quantity over the seeds of a point: mean, sample
// standard deviation and the 95% Student-t confidence interval of the mean
// (t with N-1 degrees of freedom, so small samples get wide intervals). The
// quantities of a report are never negative, and neither is the interval's
// lower end for samples that are not. With fewer than MinCISamples seeds
// the interval says little: Meaningful is false and the report says so.
type Stat struct {
	Mean       float64    `json:"mean"`
	Std        float64    `json:"std"`
	CI         [2]float64 `json:"ci95"`
	N          int        `json:"samples"`
	Meaningful bool       `json:"ci_meaningful"`
}

// MinCISamples is the fewest samples whose confidence interval a report
// shows as meaningful.
const MinCISamples = 3

// Summarize computes a Stat with gonum/stat.
func Summarize(x []float64) Stat {
	if len(x) == 0 {
		return Stat{}
	}
	if len(x) == 1 {
		return Stat{Mean: x[0], CI: [2]float64{x[0], x[0]}, N: 1}
	}
	mean, std := stat.MeanStdDev(x, nil)
	half := tQuantile975(len(x)-1) * std / math.Sqrt(float64(len(x)))
	lo := mean - half
	if slices.Min(x) >= 0 {
		lo = max(lo, 0)
	}
	return Stat{Mean: mean, Std: std, CI: [2]float64{lo, mean + half}, N: len(x), Meaningful: len(x) >= MinCISamples}
}

// tQuantile975 is the 97.5% quantile of Student's t with df degrees of freedom.
func tQuantile975(df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}

// Point aggregates the runs of one n over the seeds. Per-request quantities
// use only the runs that committed at least one request; per-view-change
// quantities only the runs with view changes; per-round quantities only runs
// with a checkpoint round.
type Point struct {
	N             int `json:"n"`
	F             int `json:"f"`
	Runs          int `json:"runs"`
	CommittedRuns int `json:"runs_with_commits"`
	CompletedRuns int `json:"runs_completed"` // every request committed

	Committed             Stat `json:"committed"`
	MessagesPerRequest    Stat `json:"messages_per_request"`
	BytesPerRequest       Stat `json:"bytes_per_request"`
	NormalPerRequest      Stat `json:"normal_per_request"`
	NormalBytesPerRequest Stat `json:"normal_bytes_per_request"`
	CheckpointPerRequest  Stat `json:"checkpoint_per_request"`
	ViewChangePerRequest  Stat `json:"view_change_per_request"`
	OtherPerRequest       Stat `json:"other_per_request"`

	// ByType and BytesByType are per committed request.
	ByType      map[string]Stat `json:"messages_per_request_by_type"`
	BytesByType map[string]Stat `json:"bytes_per_request_by_type"`

	CheckpointPerRound    Stat `json:"checkpoint_per_round"`
	ViewChanges           Stat `json:"view_changes"`
	MessagesPerViewChange Stat `json:"messages_per_view_change"`
	BytesPerViewChange    Stat `json:"bytes_per_view_change"`

	Dropped    Stat `json:"dropped"`
	Duplicated Stat `json:"duplicated"`

	LatencyP50Ms Stat `json:"latency_p50_ms"`
	LatencyP99Ms Stat `json:"latency_p99_ms"`
	Throughput   Stat `json:"throughput_per_sim_s"`
	SimTimeS     Stat `json:"sim_time_s"`

	// Link load (see Run and BandwidthReport). LinkMs is the time a view
	// change's bytes (VIEW-CHANGE and NEW-VIEW), spread over the n senders,
	// occupy one sender's link at the egress rate (runs with view changes,
	// rate-limited reports only).
	BytesPerSecPerReplica Stat `json:"bytes_per_sec_per_replica"`
	MaxSenderBytesPerSec  Stat `json:"max_sender_bytes_per_sec"`
	QueueWaitMeanMs       Stat `json:"queue_wait_mean_ms"`
	QueueWaitMaxMs        Stat `json:"queue_wait_max_ms"`
	StallMs               Stat `json:"longest_stall_ms"`
	LinkMs                Stat `json:"view_change_link_ms"`

	ClosedForm ClosedForm `json:"closed_form"`
	// Ratio is NormalPerRequest.Mean / ClosedForm.NormalPerRequest (0 when
	// nothing committed).
	Ratio float64 `json:"ratio"`
}

// aggregate builds one Point from the runs of one n.
func aggregate(n int, runs []Run, types []string, batch, k int) Point {
	p := Point{N: n, F: (n - 1) / 3, Runs: len(runs), ClosedForm: ClosedFormCounts(n, batch, k),
		ByType: map[string]Stat{}, BytesByType: map[string]Stat{}}
	col := func(keep func(Run) bool, f func(Run) float64) Stat {
		var x []float64
		for _, r := range runs {
			if keep(r) {
				x = append(x, f(r))
			}
		}
		return Summarize(x)
	}
	all := func(Run) bool { return true }
	committed := func(r Run) bool { return r.Committed > 0 }
	withVC := func(r Run) bool { return r.ViewChanges > 0 }
	withCP := func(r Run) bool { return r.CheckpointRounds > 0 }
	for _, r := range runs {
		if r.Committed > 0 {
			p.CommittedRuns++
		}
		if r.Completed {
			p.CompletedRuns++
		}
	}
	p.Committed = col(all, func(r Run) float64 { return float64(r.Committed) })
	p.MessagesPerRequest = col(committed, func(r Run) float64 { return r.MessagesPerRequest })
	p.BytesPerRequest = col(committed, func(r Run) float64 { return r.BytesPerRequest })
	p.NormalPerRequest = col(committed, func(r Run) float64 { return r.NormalPerRequest })
	p.NormalBytesPerRequest = col(committed, func(r Run) float64 { return r.NormalBytesPerRequest })
	p.CheckpointPerRequest = col(committed, func(r Run) float64 { return r.CheckpointPerRequest })
	p.ViewChangePerRequest = col(committed, func(r Run) float64 { return r.ViewChangePerRequest })
	p.OtherPerRequest = col(committed, func(r Run) float64 { return r.OtherPerRequest })
	for _, t := range types {
		p.ByType[t] = col(committed, func(r Run) float64 { return float64(r.ByType[t]) / float64(r.Committed) })
		p.BytesByType[t] = col(committed, func(r Run) float64 { return float64(r.BytesByType[t]) / float64(r.Committed) })
	}
	p.CheckpointPerRound = col(withCP, func(r Run) float64 { return r.CheckpointPerRound })
	p.ViewChanges = col(all, func(r Run) float64 { return float64(r.ViewChanges) })
	p.MessagesPerViewChange = col(withVC, func(r Run) float64 { return r.MessagesPerViewChange })
	p.BytesPerViewChange = col(withVC, func(r Run) float64 { return r.BytesPerViewChange })
	p.Dropped = col(all, func(r Run) float64 { return float64(r.Dropped) })
	p.Duplicated = col(all, func(r Run) float64 { return float64(r.Duplicated) })
	p.LatencyP50Ms = col(committed, func(r Run) float64 { return float64(r.LatencyP50Ns) / 1e6 })
	p.LatencyP99Ms = col(committed, func(r Run) float64 { return float64(r.LatencyP99Ns) / 1e6 })
	p.Throughput = col(all, func(r Run) float64 { return r.Throughput })
	p.SimTimeS = col(all, func(r Run) float64 { return float64(r.SimTimeNs) / 1e9 })
	p.BytesPerSecPerReplica = col(all, func(r Run) float64 { return r.BytesPerSecPerReplica })
	p.MaxSenderBytesPerSec = col(all, func(r Run) float64 { return r.MaxSenderBytesPerSec })
	p.QueueWaitMeanMs = col(all, func(r Run) float64 { return r.QueueWaitMeanMs })
	p.QueueWaitMaxMs = col(all, func(r Run) float64 { return r.QueueWaitMaxMs })
	p.StallMs = col(all, func(r Run) float64 { return r.StallMs })
	if p.CommittedRuns > 0 {
		p.Ratio = p.NormalPerRequest.Mean / p.ClosedForm.NormalPerRequest
	}
	return p
}

// typesOf returns the message types seen in runs: KnownTypes first (only those
// seen, unless all is true), then others sorted.
func typesOf(runs []Run, all bool) []string {
	seen := map[string]bool{}
	for _, r := range runs {
		for t, c := range r.ByType {
			if c > 0 {
				seen[t] = true
			}
		}
	}
	var out []string
	for _, t := range KnownTypes {
		if all || seen[t] {
			out = append(out, t)
		}
		delete(seen, t)
	}
	var rest []string
	for t := range seen {
		rest = append(rest, t)
	}
	slices.Sort(rest)
	return append(out, rest...)
}
