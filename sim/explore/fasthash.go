package explore

import (
	"math"
	"reflect"
	"unsafe"

	"github.com/pbftsim/pbftsim/sim"
)

// hashFn hashes the value of one type at p into h. Hash functions are
// compiled once per type from the copier's plan and read memory directly,
// without a reflect.Value per field; they give the same hash as the
// reflective walk (hash).
type hashFn func(c *Copier, p unsafe.Pointer, h uint64) uint64

// hasher returns the compiled hash function of t.
func (c *Copier) hasher(t reflect.Type) *hashFn {
	return compiled(&c.hashFns, t, func(t reflect.Type) hashFn { return c.compileHash(t, c.plan(t)) })
}

// compiled returns the function of t in *fns, compiling it on first use.
// The entry is registered before compile runs, so a recursive type's
// compiled function refers to its own entry.
func compiled[F any](fns *map[reflect.Type]*F, t reflect.Type, compile func(reflect.Type) F) *F {
	if f, ok := (*fns)[t]; ok {
		return f
	}
	if *fns == nil {
		*fns = map[reflect.Type]*F{}
	}
	f := new(F)
	(*fns)[t] = f
	*f = compile(t)
	return f
}

type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

func (c *Copier) compileHash(t reflect.Type, p *plan) hashFn {
	if p.shared || p.zero || p.private {
		return func(_ *Copier, _ unsafe.Pointer, h uint64) uint64 { return h }
	}
	if p.immut {
		elem := t.Elem()
		return func(c *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			q := *(*unsafe.Pointer)(ptr)
			if q == nil {
				return mix(h, 0)
			}
			x := reflect.NewAt(elem, q).Interface()
			if m, ok := x.(sim.Message); ok {
				return mix(h, c.MessageHash(m))
			}
			e := x.(sim.Event)
			c.buf = e.AppendCanonical(c.buf[:0])
			return hashBytes(hashString(h, e.Name()), c.buf)
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			if *(*bool)(ptr) {
				return mix(h, 1)
			}
			return mix(h, 2)
		}
	case reflect.Int8:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*int8)(ptr))) }
	case reflect.Int16:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*int16)(ptr))) }
	case reflect.Int32:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*int32)(ptr))) }
	case reflect.Int64:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*int64)(ptr))) }
	case reflect.Int:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*int)(ptr))) }
	case reflect.Uint8:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*uint8)(ptr))) }
	case reflect.Uint16:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*uint16)(ptr))) }
	case reflect.Uint32:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*uint32)(ptr))) }
	case reflect.Uint64:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, *(*uint64)(ptr)) }
	case reflect.Uint, reflect.Uintptr:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return mix(h, uint64(*(*uintptr)(ptr))) }
	case reflect.Float32:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			return mix(h, math.Float64bits(float64(*(*float32)(ptr))))
		}
	case reflect.Float64:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			return mix(h, math.Float64bits(*(*float64)(ptr)))
		}
	case reflect.String:
		return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 { return hashString(h, *(*string)(ptr)) }
	case reflect.Pointer:
		elem := c.hasher(t.Elem())
		return func(c *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			q := *(*unsafe.Pointer)(ptr)
			if q == nil {
				return mix(h, 0)
			}
			return (*elem)(c, q, mix(h, 1))
		}
	case reflect.Struct:
		type field struct {
			off uintptr
			fn  *hashFn
		}
		var fs []field
		for i := 0; i < t.NumField(); i++ {
			if p.skip[i] {
				continue
			}
			fs = append(fs, field{t.Field(i).Offset, c.hasher(t.Field(i).Type)})
		}
		return func(c *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			for _, f := range fs {
				h = (*f.fn)(c, unsafe.Add(ptr, f.off), h)
			}
			return h
		}
	case reflect.Array:
		n, size := t.Len(), t.Elem().Size()
		if t.Elem().Kind() == reflect.Uint8 {
			return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 {
				return hashBytes(mix(h, uint64(n)), unsafe.Slice((*byte)(ptr), n))
			}
		}
		elem := c.hasher(t.Elem())
		return func(c *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			h = mix(h, uint64(n))
			for i := 0; i < n; i++ {
				h = (*elem)(c, unsafe.Add(ptr, uintptr(i)*size), h)
			}
			return h
		}
	case reflect.Slice:
		size := t.Elem().Size()
		if t.Elem().Kind() == reflect.Uint8 {
			return func(_ *Copier, ptr unsafe.Pointer, h uint64) uint64 {
				s := (*sliceHeader)(ptr)
				return hashBytes(mix(h, uint64(s.len)), unsafe.Slice((*byte)(s.data), s.len))
			}
		}
		elem := c.hasher(t.Elem())
		return func(c *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			s := (*sliceHeader)(ptr)
			h = mix(h, uint64(s.len))
			for i := 0; i < s.len; i++ {
				h = (*elem)(c, unsafe.Add(s.data, uintptr(i)*size), h)
			}
			return h
		}
	case reflect.Interface:
		return func(c *Copier, ptr unsafe.Pointer, h uint64) uint64 {
			v := reflect.NewAt(t, ptr).Elem()
			if v.IsNil() {
				return mix(h, 0)
			}
			e := v.Elem()
			ep := c.plan(e.Type())
			h = mix(h, ep.th)
			if e.Kind() == reflect.Pointer {
				q := e.UnsafePointer()
				return (*c.hasher(e.Type()))(c, unsafe.Pointer(&q), h)
			}
			return c.hash(e, ep, h)
		}
	}
	// Maps and anything else: the reflective walk.
	return func(c *Copier, ptr unsafe.Pointer, h uint64) uint64 {
		return c.hash(reflect.NewAt(t, ptr).Elem(), p, h)
	}
}
