package explore

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unsafe"

	"github.com/pbftsim/pbftsim/sim"
)

// Copier deep-copies and hashes node state by reflection, so that any
// sim.Node can be explored without writing a Clone method for it. The rules:
//
//   - values that implement sim.Message or sim.Event (through a pointer) are
//     immutable once sent (the sim contract) and are shared, not copied; they
//     are hashed by their canonical encoding;
//   - types listed in Shared (keyrings, run-wide verification and snapshot
//     caches, operation sources) are shared and not hashed: they are
//     configuration or caches that change nothing but speed;
//   - types listed in Zero (allocation slabs) become their zero value in a
//     copy and are not hashed: a copy must not carve messages out of the
//     same chunk as its original;
//   - struct fields named in Skip (scratch buffers, free lists) are copied
//     but not hashed, and so are fields of type sim.Time: absolute virtual
//     times are abstracted away, only the order of pending timers counts;
//   - functions and channels are shared; everything else is copied deeply,
//     preserving the aliasing of pointers (and of slices with the same
//     backing array) within one copy.
type Copier struct {
	// Shared reports types that are shared between copies and not hashed.
	Shared func(reflect.Type) bool
	// Zero reports types that are reset in a copy and not hashed.
	Zero func(reflect.Type) bool
	// Skip names struct fields ("Type.field") that are not hashed.
	Skip map[string]bool
	// Reset names struct fields (scratch buffers, free lists) that are
	// neither hashed nor copied: a copy gets their zero value.
	Reset map[string]bool
	// Shallow names struct fields that are copied as they are (read-only
	// data shared between values, such as an encoded snapshot).
	Shallow map[string]bool
	// Private maps pointer types that the nodes share and write (a
	// run-wide signature cache) to a constructor of an empty instance that
	// a node cannot tell from the shared one (its contents change speed
	// only). They are shared like Shared types, except in a copier made by
	// Worker: its copies point to its own instance (one per type), so that
	// the workers of a parallel search never write to one value.
	Private map[reflect.Type]func() any

	priv    bool                            // copies point to inst (Worker)
	inst    map[reflect.Type]unsafe.Pointer // the private instances
	plans   map[reflect.Type]*plan
	memo    map[uintptr]reflect.Value // reused by Clone
	hashFns map[reflect.Type]*hashFn
	copyFns map[reflect.Type]*copyFn
	pmemo   map[memoKey]unsafe.Pointer
	smemo   map[memoKey]sliceHeader
	spans   []span
	timed   map[reflect.Type]bool // carriesTime's answers
	msgH    map[sim.Message]uint64
	buf     []byte
}

var (
	messageType = reflect.TypeFor[sim.Message]()
	eventType   = reflect.TypeFor[sim.Event]()
	timeType    = reflect.TypeFor[sim.Time]()
	durType     = reflect.TypeFor[time.Duration]()
	wallType    = reflect.TypeFor[time.Time]()
)

// carriesTime reports whether a value of type t may hold a virtual time: t
// is, or holds at any depth (through fields, pointers, slices, arrays and
// maps), a sim.Time, a time.Duration, a time.Time or an interface (whose
// content is not known from the type). A time kept in a plain integer type
// is not seen: events must carry times in these types. The answer is
// cached per type.
func (c *Copier) carriesTime(t reflect.Type) bool {
	if r, ok := c.timed[t]; ok {
		return r
	}
	if c.timed == nil {
		c.timed = map[reflect.Type]bool{}
	}
	r := holdsTime(t, map[reflect.Type]bool{})
	c.timed[t] = r
	return r
}

// holdsTime is carriesTime's walk (seen: the types on the way, so that a
// recursive type ends; a type met again adds nothing new).
func holdsTime(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == timeType || t == durType || t == wallType || t.Kind() == reflect.Interface {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if holdsTime(t.Field(i).Type, seen) {
				return true
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsTime(t.Elem(), seen)
	case reflect.Map:
		return holdsTime(t.Key(), seen) || holdsTime(t.Elem(), seen)
	}
	return false
}

// plan is what the copier decided about a type once.
type plan struct {
	shared bool // share, do not hash (config, caches)
	immut  bool // share, hash by content (messages, events)
	// private: point to the copier's own instance, do not hash (Worker)
	private bool
	zero    bool
	skip    []bool // struct fields not hashed
	th      uint64 // hash of the type's name
	kind    reflect.Kind
	flat    bool    // no deep copy needed
	fields  []*plan // struct fields
	deep    []int   // struct fields that a shallow copy does not copy right
	elem    *plan   // pointer, slice, array, map element
	key     *plan   // map key
}

func (c *Copier) plan(t reflect.Type) *plan {
	if p, ok := c.plans[t]; ok {
		return p
	}
	if c.plans == nil {
		c.plans = map[reflect.Type]*plan{}
	}
	p := &plan{th: finalize(hashString(fnvOff, t.String())), kind: t.Kind(), flat: isFlat(t)}
	c.plans[t] = p
	switch {
	case t.Kind() == reflect.Pointer && (t.Implements(messageType) || t.Implements(eventType)):
		p.immut = true
	case c.priv && c.Private[t] != nil:
		p.private = true
	case c.Private[t] != nil || c.Shared != nil && c.Shared(t):
		p.shared = true
	case c.Zero != nil && c.Zero(t):
		p.zero = true
	case t.Kind() == reflect.Func || t.Kind() == reflect.Chan || t.Kind() == reflect.UnsafePointer:
		p.shared = true
	}
	if t.Kind() == reflect.Struct {
		p.skip = make([]bool, t.NumField())
		for i := range p.skip {
			f := t.Field(i)
			name := t.Name() + "." + f.Name
			p.skip[i] = f.Type == timeType || c.Skip[name] || c.Reset[name]
		}
		for i := range p.skip {
			fp := c.plan(t.Field(i).Type)
			name := t.Name() + "." + t.Field(i).Name
			if c.Reset[name] {
				fp = &plan{zero: true, kind: fp.kind, th: fp.th}
			} else if c.Shallow[name] {
				fp = &plan{shared: true, kind: fp.kind, th: fp.th}
			}
			p.fields = append(p.fields, fp)
			if fp.zero || !(fp.flat || fp.shared || fp.immut) {
				p.deep = append(p.deep, i)
			}
		}
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		p.elem = c.plan(t.Elem())
	case reflect.Map:
		p.elem, p.key = c.plan(t.Elem()), c.plan(t.Key())
	}
	return p
}

// settable returns an addressable, settable view of v (which must be
// addressable), also for unexported fields.
func settable(v reflect.Value) reflect.Value {
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

// Clone returns a deep copy of x under the copier's rules.
func (c *Copier) Clone(x any) any {
	if x == nil {
		return nil
	}
	if reflect.TypeOf(x).Kind() == reflect.Pointer {
		return c.fastClone(x)
	}
	src := reflect.ValueOf(x)
	if c.memo == nil {
		c.memo = map[uintptr]reflect.Value{}
	}
	memo := c.memo
	defer clear(memo)
	dst := reflect.New(src.Type()).Elem()
	c.copy(dst, src, c.plan(src.Type()), memo)
	return dst.Interface()
}

func (c *Copier) copy(dst, src reflect.Value, p *plan, memo map[uintptr]reflect.Value) {
	if !src.CanInterface() && src.CanAddr() {
		src = settable(src)
	}
	if p.flat {
		dst.Set(src)
		return
	}
	t := src.Type()
	if p.shared || p.immut {
		dst.Set(src)
		return
	}
	if p.private {
		if !src.IsNil() {
			dst.Set(reflect.NewAt(t.Elem(), c.instance(t)))
		}
		return
	}
	if p.zero {
		return // dst is already zero
	}
	switch t.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		addr := src.Pointer()
		if v, ok := memo[addr]; ok && v.Type() == t {
			dst.Set(v)
			return
		}
		nv := reflect.New(t.Elem())
		memo[addr] = nv
		c.copy(nv.Elem(), src.Elem(), p.elem, memo)
		dst.Set(nv)
	case reflect.Struct:
		if !src.CanAddr() {
			// An unaddressable struct (a map value, an interface's
			// content): make an addressable copy first.
			tmp := reflect.New(t).Elem()
			tmp.Set(src)
			src = tmp
		}
		if !src.CanInterface() {
			src = settable(src)
		}
		if !dst.CanSet() {
			dst = settable(dst)
		}
		// One shallow copy of the whole struct, then the fields that need
		// more: deep copies and resets.
		dst.Set(src)
		for _, i := range p.deep {
			df := settable(dst.Field(i))
			if p.fields[i].zero {
				df.SetZero()
				continue
			}
			c.copy(df, settable(src.Field(i)), p.fields[i], memo)
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		addr := uintptr(src.UnsafePointer())
		ep := p.elem
		if v, ok := memo[addr]; ok && v.Type() == t && v.Cap() >= src.Cap() {
			dst.Set(v.Slice3(0, src.Len(), src.Cap()))
			return
		}
		nv := reflect.MakeSlice(t, src.Len(), src.Cap())
		if src.Cap() > 0 {
			memo[addr] = nv.Slice3(0, src.Cap(), src.Cap())
		}
		if ep.shared || ep.immut || ep.flat {
			reflect.Copy(nv, src)
		} else {
			for i := 0; i < src.Len(); i++ {
				c.copy(nv.Index(i), src.Index(i), ep, memo)
			}
		}
		dst.Set(nv)
	case reflect.Array:
		for i := 0; i < src.Len(); i++ {
			c.copy(dst.Index(i), src.Index(i), p.elem, memo)
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		nv := reflect.MakeMapWithSize(t, src.Len())
		kt, vt := t.Key(), t.Elem()
		it := src.MapRange()
		if simple(p.key) && simple(p.elem) {
			for it.Next() {
				nv.SetMapIndex(it.Key(), it.Value())
			}
			dst.Set(nv)
			return
		}
		for it.Next() {
			k := reflect.New(kt).Elem()
			c.copy(k, it.Key(), p.key, memo)
			v := reflect.New(vt).Elem()
			c.copy(v, it.Value(), p.elem, memo)
			nv.SetMapIndex(k, v)
		}
		dst.Set(nv)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := src.Elem()
		ne := reflect.New(e.Type()).Elem()
		c.copy(ne, e, c.plan(e.Type()), memo)
		dst.Set(ne)
	default:
		dst.Set(src)
	}
}

// Worker returns a copier with c's rules, its own caches and its own
// instances of the Private types, for one worker of a parallel search:
// copies made by different workers share no value that a node writes.
func (c *Copier) Worker() *Copier {
	return &Copier{Shared: c.Shared, Zero: c.Zero, Skip: c.Skip, Reset: c.Reset, Shallow: c.Shallow,
		Private: c.Private, priv: true}
}

// instance returns the copier's own instance of Private type t.
func (c *Copier) instance(t reflect.Type) unsafe.Pointer {
	if p, ok := c.inst[t]; ok {
		return p
	}
	if c.inst == nil {
		c.inst = map[reflect.Type]unsafe.Pointer{}
	}
	v := reflect.ValueOf(c.Private[t]())
	if v.Type() != t {
		panic(fmt.Sprintf("explore: Copier.Private[%v] made a %v", t, v.Type()))
	}
	c.inst[t] = v.UnsafePointer()
	return c.inst[t]
}

// simple reports whether values of p are copied as they are.
func simple(p *plan) bool { return p.flat || p.shared || p.immut }

// isFlat reports whether t holds no pointers, maps, slices, interfaces or
// strings that need a deep copy (strings are immutable, so they count as flat).
func isFlat(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	case reflect.Array:
		return isFlat(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if !isFlat(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// Hash returns a 64-bit hash of x's canonical state under the copier's
// rules: equal states give equal hashes whatever the history that built
// them (map order, slice capacity, pointer identity do not count).
func (c *Copier) Hash(x any) uint64 {
	if x == nil {
		return 0
	}
	t := reflect.TypeOf(x)
	if t.Kind() == reflect.Pointer {
		q := reflect.ValueOf(x).UnsafePointer()
		return (*c.hasher(t))(c, unsafe.Pointer(&q), fnvOff)
	}
	return c.hash(reflect.ValueOf(x), c.plan(t), fnvOff)
}

const (
	fnvOff   = 14695981039346656037
	fnvPrime = 1099511628211
)

func mix(h, v uint64) uint64 {
	h ^= v
	h *= fnvPrime
	h ^= h >> 29
	return h
}

// finalize spreads the bits of h (splitmix64's finaliser).
func finalize(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

func hashString(h uint64, s string) uint64 {
	h = mix(h, uint64(len(s)))
	for len(s) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64([]byte(s[:8])))
		s = s[8:]
	}
	var w uint64
	for i := 0; i < len(s); i++ {
		w = w<<8 | uint64(s[i])
	}
	return mix(h, w)
}

func hashBytes(h uint64, b []byte) uint64 {
	h = mix(h, uint64(len(b)))
	for len(b) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	var w uint64
	for _, x := range b {
		w = w<<8 | uint64(x)
	}
	return mix(h, w)
}

// MessageHash returns the hash of m's canonical encoding (cached: messages
// are immutable).
func (c *Copier) MessageHash(m sim.Message) uint64 {
	if m == nil {
		return 0
	}
	if h, ok := c.msgH[m]; ok {
		return h
	}
	if c.msgH == nil || len(c.msgH) >= 1<<16 {
		// Bounded: the cache would otherwise keep every message of the
		// exploration alive.
		c.msgH = make(map[sim.Message]uint64, 1<<10)
	}
	c.buf = m.AppendCanonical(c.buf[:0])
	h := finalize(hashBytes(mix(fnvOff, uint64(m.Type())+1), c.buf))
	c.msgH[m] = h
	return h
}

func (c *Copier) hash(v reflect.Value, p *plan, h uint64) uint64 {
	switch p.kind {
	case reflect.Bool:
		if v.Bool() {
			return mix(h, 1)
		}
		return mix(h, 2)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return mix(h, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return mix(h, v.Uint())
	}
	t := v.Type()
	if p.shared || p.zero || p.private {
		return h
	}
	if p.immut {
		if v.IsNil() {
			return mix(h, 0)
		}
		x := reflect.NewAt(t.Elem(), v.UnsafePointer()).Interface()
		if m, ok := x.(sim.Message); ok {
			return mix(h, c.MessageHash(m))
		}
		e := x.(sim.Event)
		c.buf = e.AppendCanonical(c.buf[:0])
		return hashBytes(hashString(h, e.Name()), c.buf)
	}
	switch t.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return mix(h, 1)
		}
		return mix(h, 2)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return mix(h, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return mix(h, v.Uint())
	case reflect.Float32, reflect.Float64:
		return mix(h, math.Float64bits(v.Float()))
	case reflect.String:
		return hashString(h, v.String())
	case reflect.Pointer:
		if v.IsNil() {
			return mix(h, 0)
		}
		return c.hash(v.Elem(), p.elem, mix(h, 1))
	case reflect.Interface:
		if v.IsNil() {
			return mix(h, 0)
		}
		e := v.Elem()
		ep := c.plan(e.Type())
		return c.hash(e, ep, mix(h, ep.th))
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if p.skip[i] {
				continue
			}
			h = c.hash(v.Field(i), p.fields[i], h)
		}
		return h
	case reflect.Slice, reflect.Array:
		n := v.Len()
		h = mix(h, uint64(n))
		if t.Kind() == reflect.Array && t.Elem().Kind() == reflect.Uint8 && v.CanAddr() {
			return hashBytes(h, unsafe.Slice((*byte)(unsafe.Pointer(v.UnsafeAddr())), n))
		}
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return hashBytes(h, v.Bytes())
		}
		for i := 0; i < n; i++ {
			h = c.hash(v.Index(i), p.elem, h)
		}
		return h
	case reflect.Map:
		// Order-independent: the sum of the entries' hashes.
		var sum uint64
		it := v.MapRange()
		for it.Next() {
			eh := c.hash(it.Key(), p.key, fnvOff)
			eh = c.hash(it.Value(), p.elem, eh)
			sum += finalize(eh)
		}
		return mix(mix(h, uint64(v.Len())), sum)
	}
	return h
}

// TypeNamed returns a predicate matching types whose name (without the
// package) is one of names, or starts with a name ending in "[" (a generic
// type such as "slab[").
func TypeNamed(names ...string) func(reflect.Type) bool {
	return func(t reflect.Type) bool {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		n := t.Name()
		for _, x := range names {
			if n == x || strings.HasSuffix(x, "[") && strings.HasPrefix(n, x) {
				return true
			}
		}
		return false
	}
}
