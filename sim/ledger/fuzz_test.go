package ledger

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzRestore: Restore never panics; whatever it accepts is canonical (the
// restored ledger re-encodes to the same bytes) and satisfies the invariants;
// whatever it rejects leaves the ledger unchanged.
func FuzzRestore(f *testing.F) {
	l := New()
	for _, op := range []string{Authorize("PAY001", 100), Authorize("PAY002", 250), Confirm("PAY002"),
		Refund("PAY002", 50), Authorize("PAY003", 7), Cancel("PAY003")} {
		l.Execute(op)
	}
	f.Add(l.Snapshot())
	f.Add(New().Snapshot())
	f.Add([]byte{})
	f.Add([]byte(snapshotMagic + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := New()
		l.Execute(Authorize("KEEP", 1))
		before := l.Snapshot()
		if err := l.Restore(data); err != nil {
			if !bytes.Equal(before, l.Snapshot()) {
				t.Fatal("failed restore changed the ledger")
			}
			return
		}
		if !bytes.Equal(l.Snapshot(), data) {
			t.Fatalf("accepted non-canonical snapshot %x (re-encodes to %x)", data, l.Snapshot())
		}
		if err := l.CheckInvariants(); err != nil {
			t.Fatalf("restored ledger violates invariants: %v", err)
		}
	})
}

// FuzzExecute: Execute never panics on any sequence of newline-separated ops,
// every result has a documented form, rejected ops change nothing, ParseOp
// agrees with Execute about malformedness, and invariants always hold.
func FuzzExecute(f *testing.F) {
	f.Add("authorize PAY001 100\nconfirm PAY001\nrefund PAY001 40\nrefund PAY001 61\ncancel PAY001")
	f.Add("authorize A 5\ncancel A\nconfirm A\nget A\nget B")
	f.Add("refund X -1\nauthorize X 0100\n\t\n")
	f.Fuzz(func(t *testing.T, script string) {
		l := New()
		ops := strings.Split(script, "\n")
		for i, op := range ops {
			if i == len(ops)/2 { // a frozen state in the middle never changes
				f, snap := l.Freeze(), l.Snapshot()
				defer func() {
					if !bytes.Equal(f.Encode(), snap) {
						t.Fatal("a frozen state changed")
					}
				}()
			}
			before := l.Snapshot()
			res := l.Execute(op)
			_, perr := ParseOp(op)
			malformed := strings.HasPrefix(res, "error malformed ")
			if malformed != (perr != nil) {
				t.Fatalf("op %q: Execute says %q but ParseOp error = %v", op, res, perr)
			}
			switch {
			case strings.HasPrefix(res, "ok "):
			case strings.HasPrefix(res, "error "):
				if !bytes.Equal(before, l.Snapshot()) {
					t.Fatalf("rejected op %q changed the ledger", op)
				}
			default:
				t.Fatalf("op %q: undocumented result %q", op, res)
			}
			if strings.ContainsAny(res, "\n\t") {
				t.Fatalf("op %q: result %q contains a control character", op, res)
			}
			if err := l.CheckInvariants(); err != nil {
				t.Fatalf("after %q: %v", op, err)
			}
		}
		r := New()
		if err := r.Restore(l.Snapshot()); err != nil || r.Digest() != l.Digest() {
			t.Fatalf("snapshot round trip failed: %v", err)
		}
		if l.Digest() != scratchDigest(l) {
			t.Fatal("incremental digest differs from the digest computed from scratch")
		}
	})
}
