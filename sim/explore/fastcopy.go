package explore

import (
	"reflect"
	"unsafe"
)

// copyFn deep-copies the value of one type at src into dst, which holds
// either zero memory or a shallow copy of src (it is overwritten). Copy
// functions are compiled once per type from the copier's plan; pointer
// stores go through typed pointers, so the garbage collector's write
// barriers apply.
type copyFn func(c *Copier, dst, src unsafe.Pointer)

// memoKey identifies a copied pointer target.
type memoKey struct {
	p unsafe.Pointer
	t reflect.Type
}

// span is a struct copied during the current Clone: pointers into it (to
// one of its fields) are redirected into its copy.
type span struct {
	src, dst unsafe.Pointer
	size     uintptr
}

func (c *Copier) copier(t reflect.Type) *copyFn {
	return compiled(&c.copyFns, t, func(t reflect.Type) copyFn { return c.compileCopy(t, c.plan(t)) })
}

// shallow copies size bytes of type t from src to dst with write barriers.
func shallow(t reflect.Type, dst, src unsafe.Pointer) {
	reflect.NewAt(t, dst).Elem().Set(reflect.NewAt(t, src).Elem())
}

func (c *Copier) compileCopy(t reflect.Type, p *plan) copyFn {
	if p.zero {
		return func(_ *Copier, dst, _ unsafe.Pointer) { reflect.NewAt(t, dst).Elem().SetZero() }
	}
	if p.private {
		return func(c *Copier, dst, src unsafe.Pointer) {
			if *(*unsafe.Pointer)(src) == nil {
				*(*unsafe.Pointer)(dst) = nil
				return
			}
			*(*unsafe.Pointer)(dst) = c.instance(t)
		}
	}
	if simple(p) {
		return func(_ *Copier, dst, src unsafe.Pointer) { shallow(t, dst, src) }
	}
	switch t.Kind() {
	case reflect.Struct:
		type field struct {
			off uintptr
			fn  *copyFn
		}
		var fs []field
		for _, i := range p.deep {
			fp := p.fields[i]
			ft := t.Field(i).Type
			var fn *copyFn
			if fp != c.plan(ft) { // a Reset or Shallow field: its own rule
				f := c.compileCopy(ft, fp)
				fn = &f
			} else {
				fn = c.copier(ft)
			}
			fs = append(fs, field{t.Field(i).Offset, fn})
		}
		return func(c *Copier, dst, src unsafe.Pointer) {
			shallow(t, dst, src)
			for _, f := range fs {
				(*f.fn)(c, unsafe.Add(dst, f.off), unsafe.Add(src, f.off))
			}
		}
	case reflect.Pointer:
		et := t.Elem()
		size := et.Size()
		elem := c.copier(et)
		return func(c *Copier, dst, src unsafe.Pointer) {
			q := *(*unsafe.Pointer)(src)
			if q == nil {
				*(*unsafe.Pointer)(dst) = nil
				return
			}
			k := memoKey{q, et}
			if np, ok := c.pmemo[k]; ok {
				*(*unsafe.Pointer)(dst) = np
				return
			}
			// A pointer into a struct being copied: into its copy.
			for i := len(c.spans) - 1; i >= 0; i-- {
				s := c.spans[i]
				if uintptr(q) >= uintptr(s.src) && uintptr(q)+size <= uintptr(s.src)+s.size {
					*(*unsafe.Pointer)(dst) = unsafe.Add(s.dst, uintptr(q)-uintptr(s.src))
					return
				}
			}
			np := reflect.New(et).UnsafePointer()
			c.pmemo[k] = np
			c.spans = append(c.spans, span{q, np, size})
			(*elem)(c, np, q)
			c.spans = c.spans[:len(c.spans)-1]
			*(*unsafe.Pointer)(dst) = np
		}
	case reflect.Slice:
		et := t.Elem()
		size := et.Size()
		ep := c.plan(et)
		elem := c.copier(et)
		return func(c *Copier, dst, src unsafe.Pointer) {
			h := (*sliceHeader)(src)
			if h.data == nil {
				*(*sliceHeader)(dst) = sliceHeader{}
				return
			}
			k := memoKey{h.data, t}
			if a, ok := c.smemo[k]; ok && a.cap >= h.cap {
				*(*sliceHeader)(dst) = sliceHeader{a.data, h.len, h.cap}
				return
			}
			nv := reflect.MakeSlice(t, h.len, h.cap)
			np := nv.UnsafePointer()
			if h.cap > 0 {
				c.smemo[k] = sliceHeader{np, h.cap, h.cap}
			}
			if simple(ep) {
				reflect.Copy(nv, reflect.NewAt(t, src).Elem())
			} else {
				for i := 0; i < h.len; i++ {
					off := uintptr(i) * size
					(*elem)(c, unsafe.Add(np, off), unsafe.Add(h.data, off))
				}
			}
			*(*sliceHeader)(dst) = sliceHeader{np, h.len, h.cap}
		}
	case reflect.Array:
		n, size := t.Len(), t.Elem().Size()
		elem := c.copier(t.Elem())
		return func(c *Copier, dst, src unsafe.Pointer) {
			for i := 0; i < n; i++ {
				off := uintptr(i) * size
				(*elem)(c, unsafe.Add(dst, off), unsafe.Add(src, off))
			}
		}
	case reflect.Interface:
		return func(c *Copier, dst, src unsafe.Pointer) {
			v := reflect.NewAt(t, src).Elem()
			d := reflect.NewAt(t, dst).Elem()
			if v.IsNil() {
				d.SetZero()
				return
			}
			e := v.Elem()
			et := e.Type()
			ep := c.plan(et)
			switch {
			case simple(ep):
				d.Set(e)
			case et.Kind() == reflect.Pointer:
				q := e.UnsafePointer()
				var np unsafe.Pointer
				(*c.copier(et))(c, unsafe.Pointer(&np), unsafe.Pointer(&q))
				d.Set(reflect.NewAt(et.Elem(), np))
			default:
				ne := reflect.New(et).Elem()
				c.copy(ne, e, ep, c.memo)
				d.Set(ne)
			}
		}
	}
	if t.Kind() == reflect.Map {
		kt, vt := t.Key(), t.Elem()
		kp, vp := c.plan(kt), c.plan(vt)
		kf, vf := c.copier(kt), c.copier(vt)
		return func(c *Copier, dst, src unsafe.Pointer) {
			sv := reflect.NewAt(t, src).Elem()
			d := reflect.NewAt(t, dst).Elem()
			if sv.IsNil() {
				d.SetZero()
				return
			}
			nv := reflect.MakeMapWithSize(t, sv.Len())
			it := sv.MapRange()
			for it.Next() {
				k, v := it.Key(), it.Value()
				if !simple(kp) {
					k = c.viaCopy(kt, kf, k)
				}
				if !simple(vp) {
					v = c.viaCopy(vt, vf, v)
				}
				nv.SetMapIndex(k, v)
			}
			d.Set(nv)
		}
	}
	// Anything else (none in practice): the reflective copy.
	return func(c *Copier, dst, src unsafe.Pointer) {
		d := reflect.NewAt(t, dst).Elem()
		d.SetZero()
		c.copy(d, reflect.NewAt(t, src).Elem(), p, c.memo)
	}
}

// viaCopy copies the (unaddressable) value v of type t with f.
func (c *Copier) viaCopy(t reflect.Type, f *copyFn, v reflect.Value) reflect.Value {
	from := reflect.New(t)
	from.Elem().Set(v)
	to := reflect.New(t)
	(*f)(c, to.UnsafePointer(), from.UnsafePointer())
	return to.Elem()
}

// fastClone copies the pointer x (a *T) with the compiled copy functions.
func (c *Copier) fastClone(x any) any {
	v := reflect.ValueOf(x)
	t := v.Type()
	if c.pmemo == nil {
		c.pmemo = map[memoKey]unsafe.Pointer{}
		c.smemo = map[memoKey]sliceHeader{}
		c.memo = map[uintptr]reflect.Value{}
	}
	defer func() {
		clear(c.pmemo)
		clear(c.smemo)
		clear(c.memo)
		c.spans = c.spans[:0]
	}()
	q := v.UnsafePointer()
	var np unsafe.Pointer
	(*c.copier(t))(c, unsafe.Pointer(&np), unsafe.Pointer(&q))
	return reflect.NewAt(t.Elem(), np).Interface()
}
