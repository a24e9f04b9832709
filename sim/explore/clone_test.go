package explore

import (
	"reflect"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

type inner struct {
	a    int8
	b    uint16
	c    float64
	d    string
	arr  [3]byte
	ptrs []*inner
	ia   *int8 // points into the struct itself
}

type kitchen struct {
	i       int
	u       uint
	b       bool
	f32     float32
	s       []int
	bs      []byte
	m       map[string]*inner
	mi      map[int]int
	iface   any
	node    sim.Node
	msg     sim.Message
	msgs    []sim.Message
	p       *inner
	alias   *inner
	arr     [2]inner
	at      sim.Time // not hashed
	scratch []byte   // reset
}

func newKitchen() *kitchen {
	in := &inner{a: -3, b: 7, c: 1.5, d: "x", arr: [3]byte{1, 2, 3}}
	in.ptrs = []*inner{{d: "y"}, nil}
	in.ia = &in.a
	return &kitchen{
		i: -1, u: 2, b: true, f32: 0.25, s: []int{1, 2, 3}, bs: []byte("abc"),
		m: map[string]*inner{"k": in, "z": {a: 1}}, mi: map[int]int{1: 2, 3: 4},
		iface: inner{d: "in iface"}, node: echo.NewPonger(3), msg: &echo.Ping{Round: 1},
		msgs: []sim.Message{&echo.Pong{Round: 2}, nil}, p: in, alias: in,
		arr: [2]inner{{a: 1}, {d: "q"}}, at: 99, scratch: []byte("junk"),
	}
}

// TestCopierCloneAndHash: a copy is deep (no shared mutable memory, aliasing
// kept), equal to the original under the hash, the compiled hash equals the
// reflective walk, and any hashed change changes the hash.
func TestCopierCloneAndHash(t *testing.T) {
	c := &Copier{Reset: map[string]bool{"kitchen.scratch": true}}
	k := newKitchen()
	x := c.Clone(k).(*kitchen)
	h := c.Hash(k)
	if h != c.Hash(x) {
		t.Fatal("copy hashes differently")
	}
	if h != c.hash(reflect.ValueOf(k), c.plan(reflect.TypeOf(k)), fnvOff) {
		t.Fatal("compiled hash differs from the reflective walk")
	}
	if x.p.ia != &x.p.a {
		t.Fatal("a pointer into a copied struct does not point into its copy")
	}
	if x.p == k.p || x.p != x.alias || x.m["k"] != x.p || &x.s[0] == &k.s[0] || x.msg != k.msg || x.scratch != nil {
		t.Fatalf("copy shares or loses the wrong things: %+v", x)
	}
	k.at = 1000 // times are not state
	if c.Hash(k) != h {
		t.Fatal("a sim.Time field changed the hash")
	}
	for i, mutate := range []func(k *kitchen){
		func(k *kitchen) { k.i++ },
		func(k *kitchen) { k.p.arr[2]++ },
		func(k *kitchen) { k.m["new"] = nil },
		func(k *kitchen) { k.mi[1] = 5 },
		func(k *kitchen) { k.iface = inner{d: "other"} },
		func(k *kitchen) { k.msg = &echo.Ping{Round: 2} },
		func(k *kitchen) { k.p.ptrs[0].d = "w" },
		func(k *kitchen) { k.arr[1].c = 2 },
		func(k *kitchen) { k.node.(*echo.Ponger).Step(0, sim.Input{Kind: sim.InputRecover}, &sim.Output{}) },
	} {
		y := c.Clone(k).(*kitchen)
		mutate(y)
		if c.Hash(y) == h || c.Hash(k) != h {
			t.Errorf("change %d: hash %x, original %x (original now %x)", i, c.Hash(y), h, c.Hash(k))
		}
		if c.Hash(y) != c.hash(reflect.ValueOf(y), c.plan(reflect.TypeOf(y)), fnvOff) {
			t.Errorf("change %d: compiled hash differs from the reflective walk", i)
		}
	}
}

type memoCache struct{ hits map[int]int }

type cached struct {
	n     int
	cache *memoCache
	byVal any // a private type behind an interface (the reflective copy)
}

// TestCopierPrivate: a Private type is shared by the plain copier's copies
// and left out of the hash; a Worker copier's copies point to its own
// instance (the same for all its copies, another for another worker), by
// the compiled and the reflective copy alike.
func TestCopierPrivate(t *testing.T) {
	made := 0
	c := &Copier{Private: map[reflect.Type]func() any{
		reflect.TypeFor[*memoCache](): func() any { made++; return &memoCache{hits: map[int]int{}} },
	}}
	orig := &memoCache{hits: map[int]int{1: 1}}
	x := &cached{n: 1, cache: orig, byVal: orig}
	if y := c.Clone(x).(*cached); y.cache != orig || y.byVal.(*memoCache) != orig {
		t.Fatal("plain copier: the private type was not shared")
	}
	w1, w2 := c.Worker(), c.Worker()
	a, b := w1.Clone(x).(*cached), w1.Clone(x).(*cached)
	d := w2.Clone(x).(*cached)
	if a.cache == orig || a.cache != b.cache || d.cache == a.cache || d.cache == orig {
		t.Fatalf("worker copies: %p %p %p (original %p): want one instance per worker", a.cache, b.cache, d.cache, orig)
	}
	if a.byVal.(*memoCache) != a.cache {
		t.Fatal("worker copy behind an interface: not the worker's instance")
	}
	if made != 2 {
		t.Fatalf("%d instances made, want 2 (one per worker)", made)
	}
	a.cache.hits[5] = 5
	if c.Hash(x) != w1.Hash(a) || c.Hash(x) != w2.Hash(d) {
		t.Fatal("the private type changed the hash")
	}
}

// TestCarriesTime: the types whose values may hold a time (so that a step
// reporting such an event is not replayed from the step memo while records
// are kept), through fields, pointers, slices, maps and recursion.
func TestCarriesTime(t *testing.T) {
	type plain struct {
		N    int
		Name string
		IDs  []sim.NodeID
	}
	type withTime struct {
		N  int
		At sim.Time
	}
	type deep struct {
		P *plain
		M map[string][]*withTime
	}
	type list struct {
		Next *list
		V    int
	}
	type timedList struct {
		Next *timedList
		D    time.Duration
	}
	type boxed struct{ X any }
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{&plain{}, false},
		{&withTime{}, true},
		{&deep{}, true},
		{&list{}, false},
		{&timedList{}, true},
		{&boxed{}, true}, // an interface: its content is unknown
		{&stepEvent{}, false},
		{&echo.PongEvent{}, true},
		{[]plain{}, false},
		{map[int]time.Duration{}, true},
		{&struct{ At time.Time }{}, true}, // integers and a location pointer
	} {
		c := &Copier{}
		ty := reflect.TypeOf(tc.v)
		if got := c.carriesTime(ty); got != tc.want {
			t.Errorf("carriesTime(%v) = %v, want %v", ty, got, tc.want)
		}
		if got := c.carriesTime(ty); got != tc.want { // cached
			t.Errorf("carriesTime(%v) again = %v, want %v", ty, got, tc.want)
		}
	}
}
