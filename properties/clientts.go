package properties

// clientTS maps client ids to a timestamp: a slice indexed by id for the
// ids below maxDenseClient (clients are numbered after the replicas), a map
// for the others. It replaces a map[int64]uint64 on timeliness's path (a
// few lookups per request and replica) with an index.
type clientTS struct {
	dense []clientTSEntry
	big   map[int64]uint64
	n     int // ids held
}

type clientTSEntry struct {
	ts uint64
	ok bool
}

// maxDenseClient bounds the ids kept in clientTS.dense.
const maxDenseClient = 1 << 16

// get returns id's timestamp (ok false: none).
func (m *clientTS) get(id int64) (uint64, bool) {
	if uint64(id) < uint64(len(m.dense)) {
		e := m.dense[id]
		return e.ts, e.ok
	}
	if id >= 0 && id < maxDenseClient || m.big == nil {
		return 0, false
	}
	ts, ok := m.big[id]
	return ts, ok
}

// put sets id's timestamp.
func (m *clientTS) put(id int64, ts uint64) {
	if id >= 0 && id < maxDenseClient {
		if id >= int64(len(m.dense)) {
			m.dense = append(m.dense, make([]clientTSEntry, int(id)+1-len(m.dense))...)
		}
		if !m.dense[id].ok {
			m.n++
		}
		m.dense[id] = clientTSEntry{ts, true}
		return
	}
	if m.big == nil {
		m.big = map[int64]uint64{}
	}
	if _, ok := m.big[id]; !ok {
		m.n++
	}
	m.big[id] = ts
}

// raise sets id's timestamp to ts unless it holds a later one.
func (m *clientTS) raise(id int64, ts uint64) {
	if old, ok := m.get(id); !ok || old < ts {
		m.put(id, ts)
	}
}

// len is the number of ids held.
func (m *clientTS) len() int { return m.n }

// each calls f for every id held: the dense ones in id order, then the
// others in the map's order (callers must not depend on the order).
func (m *clientTS) each(f func(id int64, ts uint64)) {
	for i, e := range m.dense {
		if e.ok {
			f(int64(i), e.ts)
		}
	}
	for id, ts := range m.big {
		f(id, ts)
	}
}

// reset empties m, keeping its memory.
func (m *clientTS) reset() {
	clear(m.dense)
	m.dense = m.dense[:0]
	clear(m.big)
	m.n = 0
}
