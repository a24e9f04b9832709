package ledger

import (
	"strings"
	"testing"
)

// TestCheckPayment: the per-payment check finds what CheckInvariants finds
// for that payment, and nothing for the others.
func TestCheckPayment(t *testing.T) {
	l := New()
	l.Execute(Authorize("PAY001", 500))
	l.Execute(Authorize("PAY002", 300))
	l.Execute(Confirm("PAY001"))
	for _, id := range []string{"PAY001", "PAY002", "PAY999"} {
		if err := l.CheckPayment(id); err != nil {
			t.Fatalf("CheckPayment(%s) on a sound ledger: %v", id, err)
		}
	}
	mutate(l, "PAY001", func(p *payment) { p.refunded = 600 }) // more than captured
	err := l.CheckPayment("PAY001")
	if err == nil || !strings.Contains(err.Error(), "money not conserved") {
		t.Errorf("CheckPayment(PAY001) = %v, want money not conserved", err)
	}
	if full := l.CheckInvariants(); full == nil || full.Error() != err.Error() {
		t.Errorf("CheckInvariants = %v, CheckPayment = %v: want the same finding", full, err)
	}
	if err := l.CheckPayment("PAY002"); err != nil {
		t.Errorf("CheckPayment(PAY002) = %v, want nil (only PAY001 is broken)", err)
	}
	// LookupCheck gives Lookup's record and CheckPayment's finding.
	for _, id := range []string{"PAY001", "PAY002", "PAY999"} {
		p, ok, lerr := l.LookupCheck(id)
		wp, wok := l.Lookup(id)
		werr := l.CheckPayment(id)
		if p != wp || ok != wok || (lerr == nil) != (werr == nil) || lerr != nil && lerr.Error() != werr.Error() {
			t.Errorf("LookupCheck(%s) = %+v, %v, %v; want %+v, %v, %v", id, p, ok, lerr, wp, wok, werr)
		}
	}
}
