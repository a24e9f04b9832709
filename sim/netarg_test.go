package sim

import "testing"

// sizedMsg is a message of a given size (of type typeBench).
type sizedMsg struct{ size int }

func (*sizedMsg) Type() MsgType { return typeBench }
func (m *sizedMsg) Size() int   { return m.size }
func (m *sizedMsg) AppendCanonical(b []byte) []byte {
	return append(b, byte(m.size), byte(m.size>>8), byte(m.size>>16))
}

// TestNetArg packs and unpacks network event args: a reference, type index
// and size that fit come back from the arg alone; one that does not fit
// (a large reference or size) leaves the reference alone in the arg and
// the type and size come from the message.
func TestNetArg(t *testing.T) {
	var k Kernel
	k.stats.SentByType = make([]Counter, MsgTypes())
	k.stats.DeliveredByType = make([]Counter, MsgTypes())
	k.stats.DroppedByType = make([]Counter, MsgTypes())
	k.stats.LocalByType = make([]Counter, MsgTypes())
	bt := int(typeBench)
	for _, c := range []struct {
		ref       uint64
		typ, size int
		packed    bool
	}{
		{1, bt, 0, true},
		{1, 255, 8, true},
		{1<<argRefBits - 1, bt, argSizeMax, true},
		{12345, 0, 77, true},
		{1 << argRefBits, 200, 8, false},
		{1<<62 + 5, 200, 8, false},
		{7, 200, argSizeMax + 1, false},
		{7, 200, 1 << 30, false},
		{7, 256, 8, false},
	} {
		arg := packArg(c.ref, c.typ, c.size)
		if got := arg&argPacked != 0; got != c.packed {
			t.Errorf("packArg(%d, %d, %d) = %#x: packed %v, want %v", c.ref, c.typ, c.size, arg, got, c.packed)
		}
		wantT := c.typ
		if !c.packed {
			wantT = bt // from the message (bt != 200)
		}
		ref, typ, size := k.netArg(arg, &sizedMsg{size: c.size})
		if ref != c.ref || typ != wantT || size != c.size {
			t.Errorf("netArg(packArg(%d, %d, %d)) = (%d, %d, %d), want (%d, %d, %d)", c.ref, c.typ, c.size, ref, typ, size, c.ref, wantT, c.size)
		}
	}
}

// sizeSender sends one message of every size in sizes to node 1 at start.
type sizeSender struct{ sizes []int }

func (s *sizeSender) Start(_ Time, out *Output) {
	for _, n := range s.sizes {
		out.Send(1, &sizedMsg{size: n})
	}
}
func (s *sizeSender) Step(Time, Input, *Output) {}

// TestDeliveredBytesAllSizes sends messages whose sizes fit the packed arg
// and others that do not, with duplication on: the delivered bytes (total
// and by type) are the sent and duplicated bytes.
func TestDeliveredBytesAllSizes(t *testing.T) {
	sizes := []int{0, 1, 8, argSizeMax, argSizeMax + 1, 1 << 20}
	k, err := New(Config{Seed: 3, Nodes: []Node{&sizeSender{sizes: sizes}, &sizeSender{}},
		Network: NetworkConfig{Default: LinkConfig{Delay: Delay{Kind: DelayConst, Min: 1000}, Duplicate: 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	st := k.Run()
	var sent uint64
	for _, n := range sizes {
		sent += uint64(n)
	}
	want := sent + st.Duplicated.Bytes
	if st.Sent.Bytes != sent || st.Delivered.Bytes != want || st.DeliveredByType[typeBench].Bytes != want {
		t.Errorf("sent %d bytes, delivered %d (by type %d), duplicated %d: want %d sent, %d delivered",
			st.Sent.Bytes, st.Delivered.Bytes, st.DeliveredByType[typeBench].Bytes, st.Duplicated.Bytes, sent, want)
	}
	if st.Delivered.Messages != uint64(len(sizes))+st.Duplicated.Messages {
		t.Errorf("delivered %d messages, want %d", st.Delivered.Messages, uint64(len(sizes))+st.Duplicated.Messages)
	}
}
