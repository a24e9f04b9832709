package sim

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// network is the kernel's fault model. Randomness is drawn per directed link
// and per purpose from named streams of Streams{Seed}:
//
//	"network/drop/F>T", "network/dup/F>T", "network/delay/F>T", "network/dupdelay/F>T"
//
// so turning a fault on for one link, or turning on duplication, does not
// reshuffle the delays or losses of any other link or purpose. Streams are
// created lazily on a link's first message.
type network struct {
	n       int
	streams Streams
	def     LinkConfig
	links   map[Link]int // index into over
	over    []LinkConfig
	parts   []partPlan
	rule    bool // the partial-synchrony (GST) rule is on
	gst     Time
	delta   time.Duration
	faulty  []bool
	filters []Filter
	rng     []*linkRNG // n*n, lazily filled
	// plain: no fault, filter, partition, GST rule, link override or rate
	// limit is configured, so a send only samples the default delay (see
	// Kernel.send).
	plain bool
	eg    egress
	in    egress // ingress queues (receivers' links)
}

// linkRNG holds a directed link's random streams.
type linkRNG struct {
	drop, dup, delay, dupDelay *rand.Rand

	pcg  [4]rand.PCG
	rand [4]rand.Rand
}

// partPlan is a Partition compiled to a group number per node.
type partPlan struct {
	from, to Time
	group    []int32 // -1: not named (the implicit extra group)
}

func (nw *network) init(seed uint64, n int, cfg *NetworkConfig) {
	nw.n = n
	nw.streams = Streams{Seed: seed}
	nw.def = cfg.Default
	if len(cfg.Links) > 0 {
		nw.links = make(map[Link]int, len(cfg.Links))
		for l, c := range cfg.Links { // the index order is irrelevant: lookups only
			nw.links[l] = len(nw.over)
			nw.over = append(nw.over, c)
		}
	}
	for _, p := range cfg.Partitions {
		pp := partPlan{from: p.From, to: p.To, group: make([]int32, n)}
		for i := range pp.group {
			pp.group[i] = -1
		}
		for g, nodes := range p.Groups {
			for _, id := range nodes {
				pp.group[id] = int32(g)
			}
		}
		nw.parts = append(nw.parts, pp)
	}
	nw.gst, nw.delta = cfg.GST, cfg.Delta
	nw.rule = cfg.GST > 0 || cfg.Delta > 0
	nw.faulty = make([]bool, n)
	for _, id := range cfg.Faulty {
		nw.faulty[id] = true
	}
	nw.filters = append([]Filter(nil), cfg.Filters...)
	nw.rng = make([]*linkRNG, n*n)
	nw.eg.init(n, cfg.Bandwidth, cfg.NodeBandwidth)
	nw.in.init(n, cfg.IngressBandwidth, cfg.NodeIngress)
	nw.plain = len(nw.filters) == 0 && len(nw.parts) == 0 && nw.links == nil && !nw.rule &&
		nw.def.Drop == 0 && nw.def.Duplicate == 0 && nw.eg.rate == nil && nw.in.rate == nil
}

// link returns the fault model and streams of from->to.
func (nw *network) link(from, to NodeID) (*LinkConfig, *linkRNG) {
	lc := &nw.def
	if nw.links != nil {
		if i, ok := nw.links[Link{From: from, To: to}]; ok {
			lc = &nw.over[i]
		}
	}
	i := int(from)*nw.n + int(to)
	r := nw.rng[i]
	if r == nil {
		r = nw.newLinkRNG(from, to)
		nw.rng[i] = r
	}
	return lc, r
}

// newLinkRNG creates the streams of from->to: the streams
// "network/drop/F>T", "network/dup/F>T", "network/delay/F>T" and
// "network/dupdelay/F>T" of nw.streams (see Streams.Stream), in one
// allocation and without building their names.
func (nw *network) newLinkRNG(from, to NodeID) *linkRNG {
	var name [24]byte
	suffix := strconv.AppendInt(name[:0], int64(from), 10)
	suffix = append(suffix, '>')
	suffix = strconv.AppendInt(suffix, int64(to), 10)
	r := &linkRNG{}
	for i, prefix := range [4]string{"network/drop/", "network/dup/", "network/delay/", "network/dupdelay/"} {
		r.pcg[i] = *rand.NewPCG(nw.streams.Seed, streamKey(fnvString(fnvOffset, prefix), suffix))
		r.rand[i] = *rand.New(&r.pcg[i])
	}
	r.drop, r.dup, r.delay, r.dupDelay = &r.rand[0], &r.rand[1], &r.rand[2], &r.rand[3]
	return r
}

// FNV-1a 64, as Streams.Stream hashes a stream's name.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// streamKey finishes the FNV-1a hash h of a stream name with the bytes b
// and returns the PCG stream key Streams.Stream derives from the name.
func streamKey(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h ^ 0x9e3779b97f4a7c15
}

// protected reports whether the GST rule covers from->to (neither is faulty).
func (nw *network) protected(from, to NodeID) bool {
	return nw.rule && !nw.faulty[from] && !nw.faulty[to]
}

// partitioned reports whether a partition active at now separates a and b.
func (nw *network) partitioned(now Time, a, b NodeID) bool {
	for i := range nw.parts {
		p := &nw.parts[i]
		if now >= p.from && (p.to == 0 || now < p.to) && p.group[a] != p.group[b] {
			return true
		}
	}
	return false
}

// arrival returns the delivery time of a message sent at now with delay d.
func (nw *network) arrival(now Time, d time.Duration, protected bool) Time {
	at := addSat(now, int64(max(d, 0)))
	if protected {
		if limit := addSat(max(now, nw.gst), int64(nw.delta)); at > limit {
			at = limit
		}
	}
	return at
}

// send runs a network send from != to through the fault model.
func (k *Kernel) send(from, to NodeID, m Message) {
	nw := &k.net
	now := k.now
	// A multicast sends one message to many nodes: its type and size are
	// asked once (a message is immutable once sent).
	if !sameValue(m, k.sent.msg) {
		k.sent.msg, k.sent.size, k.sent.t = m, m.Size(), k.typeIndex(m.Type())
	}
	size, t := k.sent.size, k.sent.t
	li := int(from)*k.n + int(to)
	k.stats.Sent.Add(size)
	k.stats.SentByType[t].Add(size)
	k.stats.SentByLink[li].Add(size)
	ref := k.tr.record(now, RecSend, from, to, m, 0, 0, nil, DropNone) + 1
	if nw.plain {
		// What the general path below does when nothing but the default
		// delay is configured: the same draws, the same event.
		r := nw.rng[li]
		if r == nil {
			r = nw.newLinkRNG(from, to)
			nw.rng[li] = r
		}
		at := addSat(now, int64(max(sampleFrom(&nw.def.Delay, &r.pcg[2], r.delay), 0)))
		k.schedule(event{at: at, from: from, to: to, msg: m, arg: packArg(ref, t, size)}, evDeliver)
		return
	}

	// The message leaves the sender's link at dep (now when unlimited);
	// its sampled delay runs from there.
	dep, wait := nw.eg.depart(now, from, size)
	if nw.eg.rate != nil {
		k.stats.QueueWait += wait
		k.stats.MaxQueueWait = max(k.stats.MaxQueueWait, wait)
	}
	protected := nw.protected(from, to)
	synchronous := protected && now >= nw.gst
	var extra, dupExtra time.Duration
	var deliverAt, dupAt Time
	filterDup, lose := false, false
	if !synchronous {
		for _, f := range nw.filters {
			v := f.Filter(now, from, to, m)
			if v.Drop {
				k.drop(from, to, m, ref, t, size, DropFilter)
				return
			}
			extra += v.ExtraDelay
			if v.At > 0 {
				deliverAt = v.At
			}
			if v.DuplicateAt > 0 {
				dupAt = v.DuplicateAt
			}
			lose = lose || v.Lose
			if v.Duplicate {
				filterDup, dupExtra = true, dupExtra+v.DuplicateDelay
			}
		}
		if len(nw.parts) > 0 && nw.partitioned(now, from, to) {
			k.drop(from, to, m, ref, t, size, DropPartition)
			return
		}
	}
	lc, r := nw.link(from, to)
	if !synchronous && lc.Drop > 0 && r.drop.Float64() < lc.Drop {
		k.drop(from, to, m, ref, t, size, DropRandom)
		return
	}
	// With an ingress limit at the receiver the message first arrives at
	// its link (evArrive), where it queues in arrival order.
	kind := evDeliver
	if nw.in.limited(to) {
		kind = evArrive
	}
	at := nw.arrival(dep, sampleFrom(&lc.Delay, &r.pcg[2], r.delay)+extra, protected)
	first := kind
	if deliverAt > 0 {
		at = max(deliverAt, dep)
	}
	if lose {
		first = evLose
	}
	arg := packArg(ref, t, size)
	k.schedule(event{at: at, from: from, to: to, msg: m, arg: arg}, first)
	if lc.Duplicate > 0 && r.dup.Float64() < lc.Duplicate || filterDup {
		if filterDup {
			extra = dupExtra
		}
		k.stats.Duplicated.Add(size)
		k.tr.record(now, RecDuplicate, from, to, m, ref, 0, nil, DropNone)
		at := nw.arrival(dep, sampleFrom(&lc.Delay, &r.pcg[3], r.dupDelay)+extra, protected)
		k.schedule(event{at: at, from: from, to: to, msg: m, arg: arg}, kind)
	}
	if dupAt > 0 {
		k.stats.Duplicated.Add(size)
		k.tr.record(now, RecDuplicate, from, to, m, ref, 0, nil, DropNone)
		k.schedule(event{at: max(dupAt, dep), from: from, to: to, msg: m, arg: arg}, kind)
	}
}

// The arg of a network event (evDeliver, evArrive, evLose) is the
// reference of its send record (1 + the record's trace sequence number)
// and, when they fit, the message's type index and size as the send
// computed them, so that the delivery does not ask the message again (a
// message is immutable once sent): with bit 63 set, bits 47-62 hold the
// size, bits 39-46 the type index and bits 0-38 the reference; with bit 63
// clear, arg is the reference alone.
const (
	argPacked    = 1 << 63
	argRefBits   = 39
	argTypeShift = argRefBits
	argSizeShift = argTypeShift + 8
	argSizeMax   = 1<<(63-argSizeShift) - 1
)

// packArg returns the arg of a network event for the send record ref of a
// message of type index t and size size.
func packArg(ref uint64, t, size int) uint64 {
	if ref < 1<<argRefBits && t >= 0 && t < 256 && size >= 0 && size <= argSizeMax {
		return argPacked | uint64(size)<<argSizeShift | uint64(t)<<argTypeShift | ref
	}
	return ref
}

// netArg returns the send record reference of a network event with arg
// arg carrying m, and m's type index and size.
func (k *Kernel) netArg(arg uint64, m Message) (ref uint64, t, size int) {
	if arg&argPacked != 0 {
		return arg & (1<<argRefBits - 1), int(arg >> argTypeShift & 0xff), int(arg >> argSizeShift & argSizeMax)
	}
	return arg, k.typeIndex(m.Type()), m.Size()
}

// arrive queues a message that reached its receiver's rate-limited
// ingress link: it is delivered once it has crossed the link, after the
// messages that arrived before it.
func (k *Kernel) arrive(e *event) {
	_, _, size := k.netArg(e.arg, e.msg)
	end, wait := k.net.in.depart(k.now, e.to, size)
	k.stats.IngressWait += wait
	k.stats.MaxIngressWait = max(k.stats.MaxIngressWait, wait)
	k.stats.IngressQueued++
	d := *e
	d.at = end
	k.schedule(d, evDeliver)
}

// drop counts and traces a lost network message.
func (k *Kernel) drop(from, to NodeID, m Message, ref uint64, t, size int, why DropReason) {
	k.stats.Dropped.Add(size)
	k.stats.DroppedByType[t].Add(size)
	k.stats.DroppedByLink[int(from)*k.n+int(to)].Add(size)
	k.tr.record(k.now, RecDrop, from, to, m, ref, 0, nil, why)
}

// deliver hands a network message to its receiver, unless the receiver is
// down or (before GST, or on a faulty link) a partition now separates them.
func (k *Kernel) deliver(e *event) {
	m := e.msg
	ref, t, size := k.netArg(e.arg, m)
	if k.down[e.to] {
		k.drop(e.from, e.to, m, ref, t, size, DropCrashed)
		return
	}
	nw := &k.net
	if len(nw.parts) > 0 && !(nw.protected(e.from, e.to) && k.now >= nw.gst) && nw.partitioned(k.now, e.from, e.to) {
		k.drop(e.from, e.to, m, ref, t, size, DropPartition)
		return
	}
	k.checkSeal(e)
	k.stats.Delivered.Add(size)
	k.stats.DeliveredByType[t].Add(size)
	k.tr.record(k.now, RecDeliver, e.from, e.to, m, ref, 0, nil, DropNone)
	k.nodes[e.to].Step(k.now, Input{Kind: InputMessage, From: e.from, Msg: m}, &k.out)
	k.apply(e.to)
}
