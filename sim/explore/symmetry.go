package explore

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"unsafe"

	"github.com/pbftsim/pbftsim/sim"
)

// Symmetry declares node-id permutations under which a model is symmetric:
// renaming every node id of a world by one of them gives a world whose
// futures are those of the original, renamed. With Model.Symmetry set, the
// state hash (World.Hash, the visited-set key) is the minimum over the
// permutations (and the identity) of the hash of the renamed world, so one
// world per orbit is explored. The search still keeps the actual worlds:
// checks judge them and counterexamples are real paths.
//
// Renaming is done by the hash, not on copies: a value of type sim.NodeID
// hashes as its new id wherever it lives (node state, messages, map keys);
// a slice field named in Indexed hashes its elements in the order of the
// new ids; a slice field named in Sets hashes as a multiset; a node at
// position i hashes at position π(i); in-flight messages, timers and down
// nodes are renamed likewise. Messages are hashed field by field (their
// canonical encodings are not renamed), and a signature (a value of
// SigType) hashes as SigKey of its message: a valid signature is a valid
// signature of the renamed author over the renamed content (re-signed),
// whatever its bytes; an invalid one keeps its bytes. This is sound when
// nodes use signatures only through verification.
//
// A permutation is used only if it leaves the initial world unchanged
// (its renamed hash equals its hash): one that a per-node difference of
// the model (a configuration, a strategy's target set) breaks is dropped.
// That the node code is equivariant (that it treats ids only as names) is
// not checked here: VerifySymmetry tests it on random schedules.
type Symmetry struct {
	// Perms are permutations of the node ids (Perms[k][i] is the new id
	// of node i; each has one entry per node). The identity is implied.
	Perms [][]sim.NodeID
	// Indexed names slice fields ("Type.field") indexed by node id.
	Indexed map[string]bool
	// Sets names slice fields whose order carries no meaning.
	Sets map[string]bool
	// SigType is the type of signatures (not hashed under renaming).
	SigType reflect.Type
	// SigKey returns what a message's signature contributes to its hash
	// under renaming: 0 for an unsigned message, 1 for a valid signature,
	// and a value depending on the signature's bytes otherwise (never 0
	// or 1).
	SigKey func(m sim.Message) uint64
}

// symGroup is the group a search uses: the identity first, then the
// permutations of Model.Symmetry that fix the initial world.
type symGroup struct {
	perms [][]sim.NodeID
	inv   [][]sim.NodeID
}

// rhashFn hashes the value of one type at p, renamed, into h.
type rhashFn func(s *symHasher, p unsafe.Pointer, h uint64) uint64

// symHasher computes renamed hashes for one engine (not safe for
// concurrent use: each worker's engine has its own).
type symHasher struct {
	sym *Symmetry
	cp  *Copier
	g   *symGroup
	cur int // the permutation hashed under (index in g.perms)
	fns map[reflect.Type]*rhashFn
	msg []map[sim.Message]uint64 // per permutation
	ts  []Timer
	// Renamed hashes by the plain hash they rename (direct-mapped): a
	// node's state hash (with its position) or an in-flight message's
	// content hash stands for the value, as it does for merging worlds,
	// so a node value the step memo hands out again, or a message
	// delivered in another order, is not hashed again.
	cache []symCacheEntry
	// flightTerms' cache: the keys, and per key the terms under every
	// permutation.
	fkey  []flightKey
	fterm []uint64
}

type symCacheEntry struct {
	key  uint64 // the plain hash
	tag  uint64 // permutation, position, node or message
	h    uint64
	full bool
}

const symCacheSize = 1 << 16

// slot returns the cache entry of the renamed hash under permutation
// s.cur of the value whose plain hash is key (tag tells positions and kinds
// apart), and whether it holds it; on a miss the caller fills it (put).
func (s *symHasher) slot(key, tag uint64) (*symCacheEntry, bool) {
	if s.cache == nil {
		s.cache = make([]symCacheEntry, symCacheSize)
	}
	tag = tag<<16 | uint64(s.cur)
	e := &s.cache[finalize(mix(key, tag))&(symCacheSize-1)]
	if e.full && e.key == key && e.tag == tag {
		return e, true
	}
	e.key, e.tag, e.full = key, tag, false
	return e, false
}

var nodeIDType = reflect.TypeFor[sim.NodeID]()

func (s *symHasher) rename(id sim.NodeID) sim.NodeID {
	p := s.g.perms[s.cur]
	if id >= 0 && int(id) < len(p) {
		return p[id]
	}
	return id
}

func (s *symHasher) hasher(t reflect.Type) *rhashFn {
	return compiled(&s.fns, t, s.compile)
}

func (s *symHasher) compile(t reflect.Type) rhashFn {
	p := s.cp.plan(t)
	if p.shared || p.zero || p.private || t == s.sym.SigType {
		return func(_ *symHasher, _ unsafe.Pointer, h uint64) uint64 { return h }
	}
	if p.immut {
		elem, th := t.Elem(), p.th
		return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 {
			q := *(*unsafe.Pointer)(ptr)
			if q == nil {
				return mix(h, 0)
			}
			if m, ok := reflect.NewAt(elem, q).Interface().(sim.Message); ok {
				return mix(h, s.message(m))
			}
			return (*s.hasher(elem))(s, q, mix(h, th)) // an event
		}
	}
	if t == nodeIDType {
		return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 {
			return mix(h, uint64(s.rename(*(*sim.NodeID)(ptr))))
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := s.hasher(t.Elem())
		return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 {
			q := *(*unsafe.Pointer)(ptr)
			if q == nil {
				return mix(h, 0)
			}
			return (*elem)(s, q, mix(h, 1))
		}
	case reflect.Struct:
		return s.compileStruct(t, p)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			break
		}
		n, size, elem := t.Len(), t.Elem().Size(), s.hasher(t.Elem())
		return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 {
			h = mix(h, uint64(n))
			for i := 0; i < n; i++ {
				h = (*elem)(s, unsafe.Add(ptr, uintptr(i)*size), h)
			}
			return h
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			break
		}
		return s.sliceHash(t, sliceAsIs)
	case reflect.Interface:
		return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 {
			v := reflect.NewAt(t, ptr).Elem()
			if v.IsNil() {
				return mix(h, 0)
			}
			e := v.Elem()
			h = mix(h, s.cp.plan(e.Type()).th)
			if e.Kind() == reflect.Pointer {
				q := e.UnsafePointer()
				return (*s.hasher(e.Type()))(s, unsafe.Pointer(&q), h)
			}
			c := reflect.New(e.Type())
			c.Elem().Set(e)
			return (*s.hasher(e.Type()))(s, c.UnsafePointer(), h)
		}
	case reflect.Map:
		kt, vt := t.Key(), t.Elem()
		return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 {
			v := reflect.NewAt(t, ptr).Elem()
			kh, vh := s.hasher(kt), s.hasher(vt)
			k, x := reflect.New(kt).Elem(), reflect.New(vt).Elem()
			var sum uint64
			for it := v.MapRange(); it.Next(); {
				k.SetIterKey(it)
				x.SetIterValue(it)
				eh := (*kh)(s, k.Addr().UnsafePointer(), fnvOff)
				sum += finalize((*vh)(s, x.Addr().UnsafePointer(), eh))
			}
			return mix(mix(h, uint64(v.Len())), sum)
		}
	}
	// Scalars, strings, byte arrays and slices: no ids inside.
	f := s.cp.compileHash(t, p)
	return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 { return f(s.cp, ptr, h) }
}

// How a slice's elements are hashed.
const (
	sliceAsIs    = iota
	sliceIndexed // element i at the new position of node i
	sliceSet     // as a multiset
)

func (s *symHasher) sliceHash(t reflect.Type, how int) rhashFn {
	size, elem := t.Elem().Size(), s.hasher(t.Elem())
	return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 {
		sh := (*sliceHeader)(ptr)
		h = mix(h, uint64(sh.len))
		switch how {
		case sliceSet:
			var sum uint64
			for i := 0; i < sh.len; i++ {
				sum += finalize((*elem)(s, unsafe.Add(sh.data, uintptr(i)*size), fnvOff))
			}
			return mix(h, sum)
		case sliceIndexed:
			inv := s.g.inv[s.cur]
			for j := 0; j < sh.len; j++ {
				i := j
				if j < len(inv) && int(inv[j]) < sh.len {
					i = int(inv[j])
				}
				h = (*elem)(s, unsafe.Add(sh.data, uintptr(i)*size), h)
			}
			return h
		}
		for i := 0; i < sh.len; i++ {
			h = (*elem)(s, unsafe.Add(sh.data, uintptr(i)*size), h)
		}
		return h
	}
}

func (s *symHasher) compileStruct(t reflect.Type, p *plan) rhashFn {
	type field struct {
		off uintptr
		fn  *rhashFn
	}
	// A message's times are part of it (its canonical encoding has them);
	// a node's absolute times are abstracted away, as in Copier.Hash.
	isMsg := reflect.PointerTo(t).Implements(messageType)
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := t.Name() + "." + f.Name
		if p.skip[i] && !(isMsg && f.Type == timeType && !s.cp.Skip[name] && !s.cp.Reset[name]) {
			continue
		}
		fn := s.hasher(f.Type)
		switch {
		case s.sym.Indexed[name] && f.Type.Kind() == reflect.Slice:
			x := s.sliceHash(f.Type, sliceIndexed)
			fn = &x
		case s.sym.Sets[name] && f.Type.Kind() == reflect.Slice:
			x := s.sliceHash(f.Type, sliceSet)
			fn = &x
		}
		fs = append(fs, field{f.Offset, fn})
	}
	return func(s *symHasher, ptr unsafe.Pointer, h uint64) uint64 {
		for _, f := range fs {
			h = (*f.fn)(s, unsafe.Add(ptr, f.off), h)
		}
		return h
	}
}

// message returns the renamed hash of m (cached per permutation: messages
// are immutable).
func (s *symHasher) message(m sim.Message) uint64 {
	c := s.msg[s.cur]
	if h, ok := c[m]; ok {
		return h
	}
	if c == nil || len(c) >= 1<<16 {
		c = make(map[sim.Message]uint64, 1<<10)
		s.msg[s.cur] = c
	}
	t := reflect.TypeOf(m)
	h := mix(fnvOff, s.cp.plan(t).th)
	if t.Kind() == reflect.Pointer {
		h = (*s.hasher(t.Elem()))(s, reflect.ValueOf(m).UnsafePointer(), h)
	} else {
		h = mix(h, s.cp.MessageHash(m))
	}
	if s.sym.SigKey != nil {
		h = mix(h, s.sym.SigKey(m))
	}
	h = finalize(h)
	c[m] = h
	return h
}

// node returns the renamed hash of node x.
func (s *symHasher) node(x sim.Node) uint64 {
	t := reflect.TypeOf(x)
	h := mix(fnvOff, s.cp.plan(t).th)
	if t.Kind() == reflect.Pointer {
		q := reflect.ValueOf(x).UnsafePointer()
		return finalize((*s.hasher(t))(s, unsafe.Pointer(&q), h))
	}
	c := reflect.New(t)
	c.Elem().Set(reflect.ValueOf(x))
	return finalize((*s.hasher(t))(s, c.UnsafePointer(), h))
}

// nodes fills w.snh for node i under every permutation.
func (s *symHasher) nodes(w *World, i int) {
	n := len(w.Nodes)
	for k := range s.g.perms {
		s.cur = k
		e, ok := s.slot(w.nh[i], uint64(i)<<1)
		if !ok {
			e.h, e.full = s.node(w.Nodes[i]), true
		}
		w.snh[k*n+i] = e.h
	}
}

// world returns the hash of w renamed by permutation k (w.snh filled).
func (s *symHasher) world(w *World, k int) uint64 {
	var sum uint64
	for i := range w.Flight {
		sum += s.flightTerm(&w.Flight[i], k)
	}
	return s.worldSum(w, k, sum)
}

// flightTerm returns what in-flight message f adds to the hash of its world
// renamed by permutation k (a multiset: the terms are summed).
func (s *symHasher) flightTerm(f *Flight, k int) uint64 {
	s.cur = k
	perm := s.g.perms[k]
	e, ok := s.slot(f.H, 1)
	if !ok {
		e.h, e.full = s.message(f.Msg), true
	}
	fh := mix(mix(mix(e.h, uint64(perm[f.From])), uint64(perm[f.To])), boolBit(f.Duped))
	return finalize(fh)
}

// worldSum returns the hash of w renamed by permutation k, given the sum
// of its in-flight messages' terms under k (w.snh filled).
func (s *symHasher) worldSum(w *World, k int, sum uint64) uint64 {
	n := len(w.Nodes)
	perm, inv := s.g.perms[k], s.g.inv[k]
	h := uint64(fnvOff)
	for j := 0; j < n; j++ {
		i := int(inv[j])
		h = mix(h, w.snh[k*n+i])
		if w.Down[i] {
			h = mix(h, uint64(j)+1)
		}
	}
	h = mix(mix(h, uint64(len(w.Flight))), sum)
	return w.hashRest(h, s.ts, perm)
}

// flightTerms returns the terms of in-flight message f under every
// permutation (flightTerm), from a small direct-mapped cache keyed by
// what they depend on: the message's content hash, its sender and
// receiver, and whether it was duplicated. One look-up there replaces one
// per permutation in the larger cache of renamed hashes (slot), which
// misses the processor's caches more often. The slice is valid until
// the next call.
func (s *symHasher) flightTerms(f *Flight) []uint64 {
	np := len(s.g.perms)
	if s.fterm == nil {
		s.fkey = make([]flightKey, flightCacheSize)
		s.fterm = make([]uint64, flightCacheSize*np)
	}
	k := flightKey{h: f.H, ends: uint64(uint32(f.From))<<33 | uint64(uint32(f.To))<<1, full: true}
	if !brokenFlightKey {
		k.ends |= boolBit(f.Duped)
	}
	i := int(finalize(mix(k.h, k.ends)) & (flightCacheSize - 1))
	terms := s.fterm[i*np : (i+1)*np : (i+1)*np]
	if s.fkey[i] != k {
		for p := range terms {
			terms[p] = s.flightTerm(f, p)
		}
		s.fkey[i] = k
	}
	return terms
}

// flightKey is what a flight's terms depend on (flightTerms).
type flightKey struct {
	h, ends uint64
	full    bool
}

// flightCacheSize is the number of entries of flightTerms' cache.
const flightCacheSize = 1 << 12

// brokenFlightKey leaves the duplicated bit out of flightTerms' key (tests
// show that the comparison with world catches it).
var brokenFlightKey bool

// sortTimers puts w's timers in firing order into s.ts (by insertion:
// there are few; with asynchronous timers, whose hash is that of a set, in
// any order).
func (s *symHasher) sortTimers(w *World) {
	if w.async {
		s.ts = append(s.ts[:0], w.Timers...)
		return
	}
	ts := s.ts[:0]
	for _, t := range w.Timers {
		ts = insertTimer(ts, t)
	}
	s.ts = ts
}

// key sets w.skey: the least hash of w over the group (world's, with the
// in-flight messages' terms of every permutation taken at once), and the
// sums of those terms that w keeps (flightSums).
func (s *symHasher) key(w *World) {
	sums := s.flightSums(w)
	clear(sums)
	for i := range w.Flight {
		for k, t := range s.flightTerms(&w.Flight[i]) {
			sums[k] += t
		}
	}
	s.least(w, sums)
}

// keyFrom sets nw.skey as key does, for nw made from w by a transition:
// the sums of the in-flight messages' terms are w's (nw's copy of them)
// with the terms of the messages the transition removed taken away and
// those of the messages it added, or duplicated, put in, so only the
// messages that changed are looked up. A transition removes messages
// (delivered, dropped, discarded) and marks one duplicated without moving
// the others, and appends the new ones, so one walk over both flights,
// matching messages by send index and copy flag (unique in a flight),
// finds the changes.
func (s *symHasher) keyFrom(w, nw *World) {
	sums := s.flightSums(nw)
	add := func(f *Flight, sign uint64) {
		for k, t := range s.flightTerms(f) {
			sums[k] += sign * t
		}
	}
	j := 0
	for i := range w.Flight {
		a := &w.Flight[i]
		if j < len(nw.Flight) && nw.Flight[j].Send == a.Send && nw.Flight[j].Copy == a.Copy {
			if b := &nw.Flight[j]; b.Duped != a.Duped && !brokenKeyFrom {
				add(a, ^uint64(0)) // -1: the terms of a duplicated message differ
				add(b, 1)
			}
			j++
			continue
		}
		add(a, ^uint64(0))
	}
	for ; j < len(nw.Flight); j++ {
		add(&nw.Flight[j], 1)
	}
	s.least(nw, sums)
}

// flightSums returns w's sums of its in-flight messages' terms, one per
// permutation: they follow the renamed node hashes in w.snh.
func (s *symHasher) flightSums(w *World) []uint64 {
	return w.snh[len(s.g.perms)*len(w.Nodes):]
}

// least sets w.skey to the least renamed hash of w, given the sums of its
// in-flight messages' terms per permutation.
func (s *symHasher) least(w *World, sums []uint64) {
	s.sortTimers(w)
	best := s.worldSum(w, 0, sums[0])
	for k := 1; k < len(s.g.perms); k++ {
		best = min(best, s.worldSum(w, k, sums[k]))
	}
	w.skey = best
}

// brokenKeyFrom makes keyFrom miss a message marked duplicated (tests show
// that the comparison with key catches it).
var brokenKeyFrom bool

func (e *Engine) symHasher(g *symGroup) *symHasher {
	if e.sym == nil || e.sym.g != g {
		e.sym = &symHasher{sym: e.m.Symmetry, cp: e.cp, g: g, msg: make([]map[sim.Message]uint64, len(g.perms))}
	}
	return e.sym
}

// symInitial sets up symmetry on the initial world w: the group (the
// declared permutations that fix w), w's renamed node hashes and its key.
func (e *Engine) symInitial(w *World) error {
	sym := e.m.Symmetry
	n := len(w.Nodes)
	id := make([]sim.NodeID, n)
	for i := range id {
		id[i] = sim.NodeID(i)
	}
	all := &symGroup{perms: [][]sim.NodeID{id}, inv: [][]sim.NodeID{id}}
	for _, p := range sym.Perms {
		if len(p) != n {
			return fmt.Errorf("explore: symmetry permutation %v: want one entry per node (%d)", p, n)
		}
		inv := make([]sim.NodeID, n)
		seen := make([]bool, n)
		for i, x := range p {
			if x < 0 || int(x) >= n || seen[x] {
				return fmt.Errorf("explore: symmetry permutation %v is not a permutation of 0..%d", p, n-1)
			}
			seen[x] = true
			inv[x] = sim.NodeID(i)
		}
		if slices.Equal(p, id) || slices.ContainsFunc(all.perms, func(q []sim.NodeID) bool { return slices.Equal(p, q) }) {
			continue
		}
		all.perms = append(all.perms, slices.Clone(p))
		all.inv = append(all.inv, inv)
	}
	w.snh = make([]uint64, len(all.perms)*n)
	s := e.symHasher(all)
	for i := range w.Nodes {
		s.nodes(w, i)
	}
	s.sortTimers(w)
	g := &symGroup{perms: all.perms[:1], inv: all.inv[:1]}
	h0 := s.world(w, 0)
	for k := 1; k < len(all.perms); k++ {
		if s.world(w, k) == h0 {
			g.perms = append(g.perms, all.perms[k])
			g.inv = append(g.inv, all.inv[k])
		}
	}
	w.sg = g
	w.snh = make([]uint64, len(g.perms)*(n+1)) // the renamed node hashes, then the flight sums
	s = e.symHasher(g)
	for i := range w.Nodes {
		s.nodes(w, i)
	}
	s.key(w)
	return nil
}

// symApply updates the renamed hashes and the key of nw, made from w by
// Apply (the nodes stepped are those in e.stepped).
func (e *Engine) symApply(w, nw *World) {
	s := e.symHasher(w.sg)
	nw.sg = w.sg
	nw.snh = append(nw.snh[:0], w.snh...) // a released world's, or new
	for i, cl := range e.stepped {
		if cl {
			s.nodes(nw, i)
		}
	}
	s.keyFrom(w, nw)
}

// Symmetry returns the permutations w's hash is minimised over (the
// identity first), or nil when the model declares no symmetry.
func (w *World) Symmetry() [][]sim.NodeID {
	if w.sg == nil {
		return nil
	}
	return w.sg.perms
}

// VerifySymmetry tests that m's node code is equivariant under its
// symmetry group (a test of the renaming rules and of the nodes, for
// tests): for paths random schedules of at most depth transitions within
// b, and every permutation π of the group, it runs the schedule s and its
// renaming π(s) side by side from the initial world and checks after every
// transition that the hash of the first world renamed by π equals the hash
// of the second. A field that holds an id but is not renamed, or node code
// that treats ids other than as names, makes it fail (unless no explored
// path tells them apart).
func VerifySymmetry(m *Model, b Bounds, paths, depth int, seed uint64) error {
	if m.Symmetry == nil {
		return fmt.Errorf("explore: VerifySymmetry: the model declares no symmetry")
	}
	e, e2 := NewEngine(m), NewEngine(m)
	e.countFires, e2.countFires = b.TimerLimit, b.TimerLimit
	w0, _, err := e.Initial()
	if err != nil {
		return err
	}
	g := w0.sg
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	s := e.symHasher(g)
	for k := 1; k < len(g.perms); k++ {
		for p := 0; p < paths; p++ {
			w, v := w0, w0
			var path []Choice
			for d := 0; d < depth; d++ {
				cs := e.Choices(nil, w, b)
				if len(cs) == 0 || m.Prune != nil && m.Prune(w) {
					break
				}
				c := cs[rng.IntN(len(cs))]
				path = append(path, c)
				rc, ok := renameChoice(s, k, w, v, c)
				if !ok {
					return fmt.Errorf("explore: symmetry %v: after %v, choice %v has no renamed counterpart", g.perms[k], path[:d], c)
				}
				w, _ = e.Apply(w, c)
				v, _ = e2.Apply(v, rc)
				s.sortTimers(w)
				hw := s.world(w, k)
				s.sortTimers(v)
				if hv := s.world(v, 0); hw != hv {
					return fmt.Errorf("explore: symmetry %v: the renamed world after %v differs from the world after the renamed schedule (%s)", g.perms[k], path, diffNodes(s, k, w, v))
				}
			}
		}
	}
	return nil
}

// diffNodes names the positions whose renamed node hashes differ.
func diffNodes(s *symHasher, k int, w, v *World) string {
	n := len(w.Nodes)
	var out []int
	for j := 0; j < n; j++ {
		if w.snh[k*n+int(s.g.inv[k][j])] != v.snh[j] {
			out = append(out, j)
		}
	}
	if len(out) == 0 {
		return "the network or timers differ"
	}
	j := out[0]
	x, y := w.Nodes[s.g.inv[k][j]], v.Nodes[j]
	fields := s.fieldDiff(reflect.ValueOf(x), reflect.ValueOf(y), k, "", 6)
	return fmt.Sprintf("node states differ at positions %v; at %d in %v", out, j, fields)
}

// fieldDiff names the fields (to depth levels) whose hash differs between
// x renamed by permutation k and y.
func (s *symHasher) fieldDiff(x, y reflect.Value, k int, path string, depth int) []string {
	for x.Kind() == reflect.Pointer || x.Kind() == reflect.Interface {
		if x.IsNil() && y.IsNil() {
			return nil
		}
		if x.IsNil() || y.IsNil() {
			return []string{path}
		}
		x, y = x.Elem(), y.Elem()
	}
	if x.Kind() == reflect.Slice && depth > 0 && x.Len() == y.Len() && x.Type() == y.Type() {
		var out []string
		for i := 0; i < x.Len(); i++ {
			out = append(out, s.fieldDiff(x.Index(i), y.Index(i), k, fmt.Sprintf("%s[%d]", path, i), depth-1)...)
		}
		if len(out) > 0 {
			return out
		}
	}
	if x.Kind() != reflect.Struct || depth == 0 || x.Type() != y.Type() {
		return []string{path}
	}
	t := x.Type()
	skip := s.cp.plan(t).skip
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if skip[i] {
			continue
		}
		fx := reflect.NewAt(f.Type, unsafe.Pointer(x.Field(i).UnsafeAddr()))
		fy := reflect.NewAt(f.Type, unsafe.Pointer(y.Field(i).UnsafeAddr()))
		fn := s.hasher(f.Type)
		name := t.Name() + "." + f.Name
		if s.sym.Indexed[name] {
			x := s.sliceHash(f.Type, sliceIndexed)
			fn = &x
		} else if s.sym.Sets[name] {
			x := s.sliceHash(f.Type, sliceSet)
			fn = &x
		}
		s.cur = k
		hx := (*fn)(s, fx.UnsafePointer(), fnvOff)
		s.cur = 0
		hy := (*fn)(s, fy.UnsafePointer(), fnvOff)
		if hx != hy {
			out = append(out, s.fieldDiff(fx.Elem(), fy.Elem(), k, path+"."+f.Name, depth-1)...)
		}
	}
	return out
}

// renameChoice returns the choice of v (the renamed world of w under
// permutation k) that corresponds to c of w.
func renameChoice(s *symHasher, k int, w, v *World, c Choice) (Choice, bool) {
	switch c.Kind {
	case Crash, Recover:
		s.cur = k
		return Choice{Kind: c.Kind, Node: s.rename(c.Node)}, true
	case Fire:
		if w.async {
			s.cur = k
			return Choice{Kind: Fire, Node: s.rename(c.Node), Timer: c.Timer}, true
		}
		return c, true
	}
	f := &w.Flight[c.Msg]
	s.cur = k
	want := [4]uint64{s.message(f.Msg), uint64(s.rename(f.From)), uint64(s.rename(f.To)), boolBit(f.Duped)}
	s.cur = 0
	for j := range v.Flight {
		g := &v.Flight[j]
		if [4]uint64{s.message(g.Msg), uint64(g.From), uint64(g.To), boolBit(g.Duped)} == want {
			return Choice{Kind: c.Kind, Msg: j}, true
		}
	}
	return c, false
}
