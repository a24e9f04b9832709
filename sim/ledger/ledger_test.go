package ledger

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// TestRules checks every state rule: the exact result string, the resulting
// state, and that a rejected op leaves the snapshot unchanged.
func TestRules(t *testing.T) {
	const id = "PAY001"
	tests := []struct {
		name  string
		setup []string
		op    string
		want  string
		state string // "" means the payment must not exist
	}{
		{"authorize new", nil, Authorize(id, 100),
			"ok PAY001 authorized authorized=100 captured=0 refunded=0", StateAuthorized},
		{"authorize existing", []string{Authorize(id, 100)}, Authorize(id, 50),
			"error PAY001 duplicate-authorize state=authorized authorized=100 captured=0 refunded=0", StateAuthorized},
		{"authorize existing cancelled", []string{Authorize(id, 100), Cancel(id)}, Authorize(id, 100),
			"error PAY001 duplicate-authorize state=cancelled authorized=100 captured=0 refunded=0", StateCancelled},
		{"confirm authorized", []string{Authorize(id, 100)}, Confirm(id),
			"ok PAY001 confirmed authorized=100 captured=100 refunded=0", StateConfirmed},
		{"confirm before authorize", nil, Confirm(id),
			"error PAY001 unknown-payment state=none authorized=0 captured=0 refunded=0", ""},
		{"double confirm", []string{Authorize(id, 100), Confirm(id)}, Confirm(id),
			"error PAY001 double-confirm state=confirmed authorized=100 captured=100 refunded=0", StateConfirmed},
		{"confirm after partial refund", []string{Authorize(id, 100), Confirm(id), Refund(id, 10)}, Confirm(id),
			"error PAY001 double-confirm state=partially-refunded authorized=100 captured=100 refunded=10", StatePartiallyRefunded},
		{"confirm cancelled", []string{Authorize(id, 100), Cancel(id)}, Confirm(id),
			"error PAY001 confirm-cancelled state=cancelled authorized=100 captured=0 refunded=0", StateCancelled},
		{"partial refund", []string{Authorize(id, 100), Confirm(id)}, Refund(id, 40),
			"ok PAY001 partially-refunded authorized=100 captured=100 refunded=40", StatePartiallyRefunded},
		{"cumulative refund to full", []string{Authorize(id, 100), Confirm(id), Refund(id, 40)}, Refund(id, 60),
			"ok PAY001 refunded authorized=100 captured=100 refunded=100", StateRefunded},
		{"full refund at once", []string{Authorize(id, 100), Confirm(id)}, Refund(id, 100),
			"ok PAY001 refunded authorized=100 captured=100 refunded=100", StateRefunded},
		{"refund exceeds captured", []string{Authorize(id, 100), Confirm(id)}, Refund(id, 101),
			"error PAY001 refund-exceeds-captured state=confirmed authorized=100 captured=100 refunded=0", StateConfirmed},
		{"cumulative refund exceeds captured", []string{Authorize(id, 100), Confirm(id), Refund(id, 40)}, Refund(id, 61),
			"error PAY001 refund-exceeds-captured state=partially-refunded authorized=100 captured=100 refunded=40", StatePartiallyRefunded},
		{"refund after full refund", []string{Authorize(id, 100), Confirm(id), Refund(id, 100)}, Refund(id, 1),
			"error PAY001 refund-exceeds-captured state=refunded authorized=100 captured=100 refunded=100", StateRefunded},
		{"refund uncaptured", []string{Authorize(id, 100)}, Refund(id, 10),
			"error PAY001 refund-not-captured state=authorized authorized=100 captured=0 refunded=0", StateAuthorized},
		{"refund cancelled", []string{Authorize(id, 100), Cancel(id)}, Refund(id, 10),
			"error PAY001 refund-not-captured state=cancelled authorized=100 captured=0 refunded=0", StateCancelled},
		{"refund unknown", nil, Refund(id, 10),
			"error PAY001 unknown-payment state=none authorized=0 captured=0 refunded=0", ""},
		{"cancel authorized", []string{Authorize(id, 100)}, Cancel(id),
			"ok PAY001 cancelled authorized=100 captured=0 refunded=0", StateCancelled},
		{"cancel captured", []string{Authorize(id, 100), Confirm(id)}, Cancel(id),
			"error PAY001 cancel-captured state=confirmed authorized=100 captured=100 refunded=0", StateConfirmed},
		{"cancel refunded", []string{Authorize(id, 100), Confirm(id), Refund(id, 100)}, Cancel(id),
			"error PAY001 cancel-captured state=refunded authorized=100 captured=100 refunded=100", StateRefunded},
		{"double cancel", []string{Authorize(id, 100), Cancel(id)}, Cancel(id),
			"error PAY001 double-cancel state=cancelled authorized=100 captured=0 refunded=0", StateCancelled},
		{"cancel unknown", nil, Cancel(id),
			"error PAY001 unknown-payment state=none authorized=0 captured=0 refunded=0", ""},
		{"get existing", []string{Authorize(id, 100), Confirm(id)}, Get(id),
			"ok PAY001 confirmed authorized=100 captured=100 refunded=0", StateConfirmed},
		{"get unknown", nil, Get(id),
			"error PAY001 unknown-payment state=none authorized=0 captured=0 refunded=0", ""},
		{"malformed verb", nil, "pay PAY001 1", "error malformed " + reasonVerb, ""},
		{"malformed empty", nil, "   ", "error malformed " + reasonEmpty, ""},
		{"malformed missing amount", nil, "authorize PAY001", "error malformed " + reasonArgs, ""},
		{"malformed extra field", nil, "confirm PAY001 100", "error malformed " + reasonArgs, ""},
		{"malformed zero amount", nil, "authorize PAY001 0", "error malformed " + reasonAmount, ""},
		{"malformed negative amount", nil, "authorize PAY001 -5", "error malformed " + reasonAmount, ""},
		{"malformed leading zero", nil, "authorize PAY001 0100", "error malformed " + reasonAmount, ""},
		{"malformed amount too large", nil, "authorize PAY001 1000000000001", "error malformed " + reasonAmount, ""},
		{"malformed amount not number", nil, "refund PAY001 1e3", "error malformed " + reasonAmount, ""},
		{"malformed id chars", nil, "confirm PAY/001", "error malformed " + reasonID, ""},
		{"malformed id too long", nil, "get " + strings.Repeat("A", MaxIDLen+1), "error malformed " + reasonID, ""},
		{"malformed too long op", nil, "get " + strings.Repeat(" ", 300) + "X", "error malformed " + reasonTooLong, ""},
		{"max amount accepted", nil, Authorize(id, MaxAmount),
			"ok PAY001 authorized authorized=1000000000000 captured=0 refunded=0", StateAuthorized},
		{"blanks tolerated", nil, "\tauthorize  PAY001\t7 ",
			"ok PAY001 authorized authorized=7 captured=0 refunded=0", StateAuthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			for _, op := range tc.setup {
				if r := l.Execute(op); !strings.HasPrefix(r, "ok ") {
					t.Fatalf("setup %q: %s", op, r)
				}
			}
			before := l.Snapshot()
			got := l.Execute(tc.op)
			if got != tc.want {
				t.Fatalf("Execute(%q)\n got %q\nwant %q", tc.op, got, tc.want)
			}
			st, ok := l.State(id)
			if tc.state == "" {
				if ok {
					t.Fatalf("payment exists in state %q, want none", st)
				}
			} else if st != tc.state {
				t.Fatalf("state %q, want %q", st, tc.state)
			}
			if strings.HasPrefix(got, "error ") && !bytes.Equal(before, l.Snapshot()) {
				t.Fatalf("rejected op %q changed the ledger", tc.op)
			}
			if strings.HasPrefix(tc.op, "get ") && !bytes.Equal(before, l.Snapshot()) {
				t.Fatalf("get changed the ledger")
			}
			if err := l.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseOp(t *testing.T) {
	tests := []struct {
		in      string
		want    Op
		wantErr string // substring of the error; "" means success
	}{
		{"authorize PAY001 100", Op{KindAuthorize, "PAY001", 100}, ""},
		{"confirm PAY001", Op{KindConfirm, "PAY001", 0}, ""},
		{"refund PAY001 40", Op{KindRefund, "PAY001", 40}, ""},
		{"cancel PAY001", Op{KindCancel, "PAY001", 0}, ""},
		{"get a.b-c_D9", Op{KindGet, "a.b-c_D9", 0}, ""},
		{"", Op{}, "empty operation"},
		{"Confirm PAY001", Op{}, "unknown verb"},
		{"refund PAY001", Op{}, "wrong number of fields"},
		{"refund PAY001 x", Op{}, "amount must be"},
		{"get PAY 001", Op{}, "wrong number of fields"},
		{"get PAYé", Op{}, "id must be"},
	}
	for _, tc := range tests {
		got, err := ParseOp(tc.in)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseOp(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if rt, err := ParseOp(got.String()); err != nil || rt != got {
				t.Errorf("round trip of %q via %q = %+v, %v", tc.in, got.String(), rt, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "malformed op") {
			t.Errorf("ParseOp(%q) error = %v, want it to mention %q", tc.in, err, tc.wantErr)
		}
	}
	if Authorize("P", 5) != "authorize P 5" || Confirm("P") != "confirm P" || Refund("P", 2) != "refund P 2" ||
		Cancel("P") != "cancel P" || Get("P") != "get P" {
		t.Error("constructors do not produce the documented forms")
	}
}

func TestDigestEquality(t *testing.T) {
	seq := []string{Authorize("PAY002", 300), Authorize("PAY001", 100), Confirm("PAY001"), Refund("PAY001", 30), Cancel("PAY002")}
	a, b := New(), New()
	for _, op := range seq {
		a.Execute(op)
		b.Execute(op)
	}
	if a.Digest() != b.Digest() {
		t.Fatal("same op sequence gave different digests")
	}
	// Same final state reached in a different order of independent ops.
	c := New()
	for _, op := range []string{Authorize("PAY001", 100), Authorize("PAY002", 300), Cancel("PAY002"), Confirm("PAY001"), Refund("PAY001", 30)} {
		c.Execute(op)
	}
	if a.Digest() != c.Digest() {
		t.Fatal("equal states (different insertion order) gave different digests")
	}
	// Each variation changes the digest.
	variants := [][]string{
		{Refund("PAY001", 1)},
		{Authorize("PAY003", 1)},
		{Refund("PAY001", 70)},
	}
	seen := map[[32]byte]bool{a.Digest(): true}
	for _, v := range variants {
		d := New()
		for _, op := range append(append([]string{}, seq...), v...) {
			d.Execute(op)
		}
		if seen[d.Digest()] {
			t.Fatalf("variant %v: digest collides with another state", v)
		}
		seen[d.Digest()] = true
	}
	// A rejected op does not change the digest; the cache is invalidated on change.
	before := a.Digest()
	a.Execute(Confirm("PAY002"))
	if a.Digest() != before {
		t.Fatal("rejected op changed the digest")
	}
	a.Execute(Refund("PAY001", 1))
	if a.Digest() == before {
		t.Fatal("accepted op did not change the (cached) digest")
	}
	if New().Digest() == a.Digest() {
		t.Fatal("empty ledger digest equals non-empty one")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	src := New()
	for range 500 {
		src.Execute(randomOp(r, 40))
	}
	if src.Len() == 0 {
		t.Fatal("random sequence created no payments")
	}
	snap := src.Snapshot()
	dst := New()
	dst.Execute(Authorize("ZZZ", 5)) // pre-existing state must be replaced
	if err := dst.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.Snapshot(), snap) || dst.Digest() != src.Digest() {
		t.Fatal("restored ledger differs from source")
	}
	if _, ok := dst.State("ZZZ"); ok {
		t.Fatal("restore kept a payment absent from the snapshot")
	}
	// Both continue identically.
	for range 200 {
		op := randomOp(r, 40)
		if a, b := src.Execute(op), dst.Execute(op); a != b {
			t.Fatalf("after restore %q: %q vs %q", op, a, b)
		}
	}
	if src.Digest() != dst.Digest() {
		t.Fatal("diverged after restore")
	}
	// Empty round trip.
	e := New()
	if err := e.Restore(New().Snapshot()); err != nil || e.Len() != 0 {
		t.Fatalf("empty round trip: %v, len %d", err, e.Len())
	}
}

func TestRestoreRejects(t *testing.T) {
	good := New()
	good.Execute(Authorize("A1", 100))
	good.Execute(Authorize("B2", 200))
	good.Execute(Confirm("B2"))
	snap := good.Snapshot()
	hdr := len(snapshotMagic)
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), snap...)) }
	tests := []struct {
		name, want string
		in         []byte
	}{
		{"nil", "not a ledger snapshot", nil},
		{"garbage", "not a ledger snapshot", []byte("hello world, not a snapshot")},
		{"truncated", "truncated", snap[:len(snap)-3]},
		{"trailing", "trailing bytes", append(append([]byte(nil), snap...), 0)},
		{"count too big", "exceeds", mut(func(b []byte) []byte { b[hdr] = 100; return b })},
		{"bad state", "invalid state", mut(func(b []byte) []byte { b[hdr+1+1+2] = 9; return b })},
		{"inconsistent amounts", "inconsistent", mut(func(b []byte) []byte {
			// the first record's state, to one its amounts contradict
			if b[hdr+1+1+2] == byte(stConfirmed) {
				b[hdr+1+1+2] = byte(stRefunded)
			} else {
				b[hdr+1+1+2] = byte(stConfirmed)
			}
			return b
		})},
		{"unsorted", "not in canonical order", func() []byte {
			first, second := "A1", "B1"
			if less(keyOf(first), first, keyOf(second), second) {
				first, second = second, first
			}
			b := []byte(snapshotMagic)
			b = append(b, 2)
			b = append(b, 2, first[0], first[1], byte(stAuthorized), 5, 0, 0)
			b = append(b, 2, second[0], second[1], byte(stAuthorized), 5, 0, 0)
			return b
		}()},
		{"duplicate", "not in canonical order", func() []byte {
			b := []byte(snapshotMagic)
			b = append(b, 2)
			b = append(b, 2, 'A', '1', byte(stAuthorized), 5, 0, 0)
			b = append(b, 2, 'A', '1', byte(stAuthorized), 5, 0, 0)
			return b
		}()},
		{"non-minimal varint", "non-minimal", func() []byte {
			b := []byte(snapshotMagic)
			return append(b, 0x81, 0x00, 1, 'A', byte(stAuthorized), 5, 0, 0)
		}()},
		{"bad id", "id", func() []byte {
			b := []byte(snapshotMagic)
			return append(b, 1, 1, ' ', byte(stAuthorized), 5, 0, 0)
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			l.Execute(Authorize("KEEP", 1))
			before := l.Snapshot()
			err := l.Restore(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore error = %v, want it to mention %q", err, tc.want)
			}
			if !bytes.Equal(before, l.Snapshot()) {
				t.Fatal("failed restore changed the ledger")
			}
		})
	}
}

// randomOp draws a mostly-valid op over a small id space so that every rule fires.
func randomOp(r *rand.Rand, ids int) string {
	id := "P" + itoa(r.IntN(ids))
	switch r.IntN(7) {
	case 0, 1:
		return Authorize(id, 1+r.Int64N(1000))
	case 2, 3:
		return Confirm(id)
	case 4:
		return Refund(id, 1+r.Int64N(600))
	case 5:
		return Cancel(id)
	default:
		return Get(id)
	}
}

func TestInvariantsRandom(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		l := New()
		var okCount, errCount int
		// Shadow model of totals computed from results.
		for range 2000 {
			op := randomOp(r, 30)
			before := l.Snapshot()
			res := l.Execute(op)
			switch {
			case strings.HasPrefix(res, "ok "):
				okCount++
			case strings.HasPrefix(res, "error "):
				errCount++
				if !bytes.Equal(before, l.Snapshot()) {
					t.Fatalf("seed %d: rejected %q changed state", seed, op)
				}
			default:
				t.Fatalf("seed %d: result %q has neither ok nor error form", seed, res)
			}
			if err := l.CheckInvariants(); err != nil {
				t.Fatalf("seed %d after %q: %v", seed, op, err)
			}
		}
		if okCount == 0 || errCount == 0 {
			t.Fatalf("seed %d: degenerate sequence ok=%d err=%d", seed, okCount, errCount)
		}
		var sa, sc, sr int64
		for _, p := range l.Payments() {
			sa += p.Authorized
			sc += p.Captured
			sr += p.Refunded
			if st, _ := l.State(p.ID); st != p.State {
				t.Fatalf("State(%s)=%q, Payments says %q", p.ID, st, p.State)
			}
		}
		a, c, rf := l.Totals()
		if a != sa || c != sc || rf != sr || !(rf <= c && c <= a) {
			t.Fatalf("seed %d: Totals=(%d,%d,%d), sums=(%d,%d,%d)", seed, a, c, rf, sa, sc, sr)
		}
	}
}

func TestTotalsAndPayments(t *testing.T) {
	l := New()
	for _, op := range []string{
		Authorize("PAY003", 500), Authorize("PAY001", 100), Authorize("PAY002", 200),
		Confirm("PAY001"), Refund("PAY001", 25), Confirm("PAY002"), Cancel("PAY003"),
	} {
		if r := l.Execute(op); !strings.HasPrefix(r, "ok ") {
			t.Fatalf("%q: %s", op, r)
		}
	}
	a, c, r := l.Totals()
	if a != 800 || c != 300 || r != 25 {
		t.Fatalf("Totals = %d,%d,%d; want 800,300,25", a, c, r)
	}
	want := []Payment{
		{"PAY001", StatePartiallyRefunded, 100, 100, 25},
		{"PAY002", StateConfirmed, 200, 200, 0},
		{"PAY003", StateCancelled, 500, 0, 0},
	}
	got := l.Payments()
	if len(got) != len(want) {
		t.Fatalf("Payments len %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Payments[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestCheckInvariantsDetects(t *testing.T) {
	tests := []struct {
		name string
		mut  func(p *payment)
	}{
		{"refund exceeds capture", func(p *payment) { p.refunded = p.captured() + 1 }},
		{"authorization out of range", func(p *payment) { p.authorized = MaxAmount + 1 }},
		{"confirmed with a refund", func(p *payment) { p.refunded = 1 }},
		{"authorized with a refund", func(p *payment) { p.st, p.refunded = stAuthorized, 1 }},
		{"bad state", func(p *payment) { p.st = 42 }},
		{"partially-refunded with nothing refunded", func(p *payment) { p.st = stPartiallyRefunded }},
	}
	for _, tc := range tests {
		l := New()
		l.Execute(Authorize("X", 100))
		l.Execute(Confirm("X"))
		if err := l.CheckInvariants(); err != nil {
			t.Fatalf("valid ledger: %v", err)
		}
		mutate(l, "X", tc.mut)
		if err := l.CheckInvariants(); err == nil {
			t.Errorf("%s: CheckInvariants found nothing", tc.name)
		}
	}
}

func TestZeroValueLedger(t *testing.T) {
	var l Ledger
	if r := l.Execute(Authorize("A", 1)); r != "ok A authorized authorized=1 captured=0 refunded=0" {
		t.Fatalf("zero-value ledger: %q", r)
	}
}

func BenchmarkExecute(b *testing.B) {
	b.Run("confirm", func(b *testing.B) {
		// Every iteration confirms a fresh authorized payment; ledgers of
		// 4096 authorized payments are prepared outside the timer.
		const batch = 4096
		confirms := make([]string, batch)
		auths := make([]string, batch)
		for i := range confirms {
			confirms[i] = Confirm("PAY" + itoa(i))
			auths[i] = Authorize("PAY"+itoa(i), 100)
		}
		var l *Ledger
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%batch == 0 {
				b.StopTimer()
				l = New()
				for _, op := range auths {
					l.Execute(op)
				}
				b.StartTimer()
			}
			l.Execute(confirms[i%batch])
		}
	})
	b.Run("double-confirm", func(b *testing.B) {
		l := New()
		l.Execute(Authorize("PAY001", 100))
		l.Execute(Confirm("PAY001"))
		op := Confirm("PAY001")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			l.Execute(op)
		}
	})
	b.Run("authorize", func(b *testing.B) {
		ops := make([]string, b.N)
		for i := range ops {
			ops[i] = Authorize("PAY"+itoa(i), 100)
		}
		l := New()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			l.Execute(ops[i])
		}
	})
	b.Run("digest-1000", func(b *testing.B) {
		l := New()
		for i := range 1000 {
			l.Execute(Authorize("PAY"+itoa(i), 100))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			forget(l.root)
			l.Digest()
		}
	})
}

func itoa(i int) string {
	s := []byte{'0', '0', '0', '0', '0', '0', '0', '0'}
	for j := len(s) - 1; j >= 0; j-- {
		s[j] = byte('0' + i%10)
		i /= 10
	}
	return string(s)
}

// TestSnapshotCache checks that ledgers sharing a SnapshotCache report the
// same results, snapshots and digests as ledgers that do not, share their
// tries and results when their states are equal, and never see each other's
// later changes.
func TestSnapshotCache(t *testing.T) {
	c := NewSnapshotCache()
	a, b, plain := NewShared(c), NewShared(c), New()
	ops := []string{Authorize("PAY001", 100), Authorize("PAY002", 50), Confirm("PAY001"), Refund("PAY001", 30), Cancel("PAY002"), Get("PAY001")}
	for i, op := range ops {
		ra, rb, rp := a.Execute(op), b.Execute(op), plain.Execute(op)
		if ra != rp || rb != rp {
			t.Fatalf("op %d: shared ledgers returned %q and %q, an unshared one %q", i, ra, rb, rp)
		}
		if unsafe.StringData(ra) != unsafe.StringData(rb) {
			t.Fatalf("op %d: equal results are not shared", i)
		}
		sa, sb, sp := a.Snapshot(), b.Snapshot(), plain.Snapshot()
		if !bytes.Equal(sa, sp) || !bytes.Equal(sb, sp) || a.Digest() != plain.Digest() || b.Digest() != plain.Digest() {
			t.Fatalf("op %d: shared ledgers' snapshots or digests differ from an unshared ledger's", i)
		}
		if a.root != b.root {
			t.Fatalf("op %d: equal states do not share their trie", i)
		}
	}
	before := bytes.Clone(a.Snapshot())
	kept := a.Freeze()
	b.Execute(Authorize("PAY003", 7)) // b moves on; a's state must not change
	if !bytes.Equal(kept.Encode(), before) || !bytes.Equal(a.Snapshot(), before) {
		t.Fatal("a change to one ledger altered the state of another")
	}
	plain.Execute(Authorize("PAY003", 7))
	if b.Digest() != plain.Digest() || a.Digest() == b.Digest() {
		t.Fatal("after b diverged: b's digest differs from the unshared ledger's, or a's equals b's")
	}
	r := NewShared(c)
	if err := r.Restore(b.Snapshot()); err != nil || r.Digest() != b.Digest() {
		t.Fatalf("restored shared ledger: err %v, digest equal %v", err, r.Digest() == b.Digest())
	}
}

// BenchmarkSmall measures the checker's one-payment ledgers: "build" makes
// a ledger and brings a payment to partially-refunded (as linearizability's
// ledgerOf does), "step" restores a one-payment snapshot, executes an
// operation and encodes the result (one linearizability search step).
func BenchmarkSmall(b *testing.B) {
	b.Run("build", func(b *testing.B) {
		auth, conf, ref := Authorize("PAY001", 100), Confirm("PAY001"), Refund("PAY001", 30)
		b.ReportAllocs()
		for b.Loop() {
			l := New()
			l.Execute(auth)
			l.Execute(conf)
			l.Execute(ref)
			if l.Len() != 1 {
				b.Fatal("no payment")
			}
		}
	})
	b.Run("step", func(b *testing.B) {
		l := New()
		l.Execute(Authorize("PAY001", 100))
		snap, op := l.Snapshot(), Confirm("PAY001")
		b.ReportAllocs()
		for b.Loop() {
			l := New()
			if err := l.Restore(snap); err != nil {
				b.Fatal(err)
			}
			l.Execute(op)
			_ = l.Snapshot()
		}
	})
}

// TestRestoreRejectsCapturedMismatch: records do not store the captured
// amount (the state implies it), so Restore must check the one a snapshot
// states against the state rather than drop it.
func TestRestoreRejectsCapturedMismatch(t *testing.T) {
	rec := func(st state, a, c, r byte) []byte {
		return []byte(snapshotMagic + "\x01\x01X" + string([]byte{byte(st), a, c, r}))
	}
	if err := New().Restore(rec(stConfirmed, 10, 10, 0)); err != nil {
		t.Fatalf("valid snapshot: %v", err)
	}
	for _, b := range [][]byte{rec(stAuthorized, 10, 5, 0), rec(stConfirmed, 10, 9, 0), rec(stCancelled, 10, 10, 0), rec(stRefunded, 10, 8, 8)} {
		l := New()
		if err := l.Restore(b); err == nil {
			t.Errorf("Restore accepted %q (captured does not match the state)", b)
		} else if !strings.Contains(err.Error(), "captured") {
			t.Errorf("Restore %q: error does not name captured: %v", b, err)
		}
	}
}

// TestEachState: EachState reports every payment once with the state
// State gives it, and nothing else.
func TestEachState(t *testing.T) {
	l := New()
	for i := range 300 {
		id := fmt.Sprintf("E%03d", i)
		l.Execute(Authorize(id, 100))
		switch i % 4 {
		case 1:
			l.Execute(Confirm(id))
		case 2:
			l.Execute(Cancel(id))
		case 3:
			l.Execute(Confirm(id))
			l.Execute(Refund(id, 40))
		}
	}
	seen := map[string]bool{}
	l.EachState(func(id []byte, st string) {
		if want, ok := l.State(string(id)); !ok || st != want || seen[string(id)] {
			t.Errorf("payment %s: EachState says %q (seen before: %v), State %q", id, st, seen[string(id)], want)
		}
		seen[string(id)] = true
	})
	if len(seen) != l.Len() {
		t.Errorf("EachState reported %d payments, the ledger holds %d", len(seen), l.Len())
	}
}
