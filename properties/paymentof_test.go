package properties

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim/ledger"
)

// TestPaymentOfMatchesParseOp: paymentOf (its canonical fast path, then
// ledger.ParseOp) gives ParseOp's id, or "" for a malformed operation, on
// random operations built from valid and invalid verbs, ids, amounts and
// blanks, and on the canonical ones the ledger's constructors write. It
// fails with brokenFastPayment.
func TestPaymentOfMatchesParseOp(t *testing.T) {
	ops := paymentOfCases()
	if err := paymentOfDiff(ops); err != nil {
		t.Fatal(err)
	}
	brokenFastPayment = true
	defer func() { brokenFastPayment = false }()
	err := paymentOfDiff(ops)
	if err == nil {
		t.Fatal("brokenFastPayment: no difference found")
	}
	t.Logf("brokenFastPayment: %v", err)
}

// paymentOfDiff returns the first op of ops on which paymentOf and
// ParseOp differ.
func paymentOfDiff(ops []string) error {
	fast := 0
	for _, op := range ops {
		want := ""
		if o, err := ledger.ParseOp(op); err == nil {
			want = o.ID
		}
		if got := paymentOf(op); got != want {
			return fmt.Errorf("paymentOf(%q) = %q, ParseOp's id %q", op, got, want)
		}
		if _, ok := canonicalPayment(op); ok {
			fast++
		}
	}
	if fast < len(ops)/50 {
		return fmt.Errorf("only %d of %d operations took the fast path", fast, len(ops))
	}
	return nil
}

// paymentOfCases returns the operations TestPaymentOfMatchesParseOp tries.
func paymentOfCases() []string {
	rng := rand.New(rand.NewSource(1))
	verbs := []string{"authorize", "confirm", "refund", "cancel", "get", "Get", "authorise", "", "confirmx"}
	ids := []string{"PAY001", "p", "a.b-c_D9", "PAY!", "", "P Q", strings.Repeat("x", 64), strings.Repeat("x", 65), "é"}
	amounts := []string{"1", "100", "0", "010", "1000000000000", "1000000000001", "9999999999999", "12345678901234", "-5", "5x", ""}
	blanks := []string{" ", "  ", "\t", " \t"}
	pick := func(s []string) string { return s[rng.Intn(len(s))] }
	var ops []string
	for range 20_000 {
		var b strings.Builder
		if rng.Intn(10) == 0 {
			b.WriteString(pick(blanks))
		}
		b.WriteString(pick(verbs))
		for range rng.Intn(3) + 1 {
			b.WriteString(" ")
			if rng.Intn(8) == 0 {
				b.WriteString(pick(blanks))
			}
			if rng.Intn(2) == 0 {
				b.WriteString(pick(ids))
			} else {
				b.WriteString(pick(amounts))
			}
		}
		if rng.Intn(10) == 0 {
			b.WriteString(pick(blanks))
		}
		ops = append(ops, b.String())
	}
	for _, id := range ids {
		ops = append(ops, ledger.Authorize(id, 100), ledger.Confirm(id), ledger.Refund(id, 5), ledger.Cancel(id), ledger.Get(id))
	}
	ops = append(ops, "get "+strings.Repeat("y", 64)+strings.Repeat(" ", 200), ledger.Authorize("PAY1", 1)+strings.Repeat("0", 250))
	return ops
}
