package ledger

import (
	"fmt"
	"strconv"
)

// Limits on operation fields.
const (
	// MaxAmount is the largest amount in cents an operation may carry
	// (10 billion currency units). It keeps every total far from int64
	// overflow.
	MaxAmount int64 = 1_000_000_000_000
	// MaxIDLen is the longest payment id, in bytes.
	MaxIDLen = 64
)

// Kind is the verb of an operation.
type Kind uint8

// Operation kinds. KindInvalid is the zero value and never parses.
const (
	KindInvalid   Kind = iota
	KindAuthorize      // "authorize <id> <amount>"
	KindConfirm        // "confirm <id>"
	KindRefund         // "refund <id> <amount>"
	KindCancel         // "cancel <id>"
	KindGet            // "get <id>"
)

// String returns the verb as it appears in an operation ("authorize", ...),
// or "invalid".
func (k Kind) String() string {
	switch k {
	case KindAuthorize:
		return "authorize"
	case KindConfirm:
		return "confirm"
	case KindRefund:
		return "refund"
	case KindCancel:
		return "cancel"
	case KindGet:
		return "get"
	}
	return "invalid"
}

// hasAmount reports whether operations of kind k carry an amount.
func (k Kind) hasAmount() bool { return k == KindAuthorize || k == KindRefund }

// Op is a parsed operation. Amount is zero for kinds without an amount
// (confirm, cancel, get).
type Op struct {
	Kind   Kind
	ID     string
	Amount int64
}

// String returns the canonical text of the operation: the verb, the id and,
// for authorize and refund, the amount, separated by single spaces.
func (o Op) String() string {
	if o.Kind.hasAmount() {
		return o.Kind.String() + " " + o.ID + " " + strconv.FormatInt(o.Amount, 10)
	}
	return o.Kind.String() + " " + o.ID
}

// Authorize returns the operation "authorize <id> <amount>" (amount in cents).
// It does not validate; Execute rejects an invalid id or amount as malformed.
func Authorize(id string, amount int64) string {
	return "authorize " + id + " " + strconv.FormatInt(amount, 10)
}

// Confirm returns the operation "confirm <id>" (capture the authorized amount).
func Confirm(id string) string { return "confirm " + id }

// Refund returns the operation "refund <id> <amount>" (amount in cents).
// It does not validate; Execute rejects an invalid id or amount as malformed.
func Refund(id string, amount int64) string {
	return "refund " + id + " " + strconv.FormatInt(amount, 10)
}

// Cancel returns the operation "cancel <id>" (void an uncaptured authorization).
func Cancel(id string) string { return "cancel " + id }

// Get returns the read-only operation "get <id>".
func Get(id string) string { return "get " + id }

// ParseOp parses an operation. Fields are separated by runs of spaces or
// tabs; leading and trailing blanks are ignored. The verb is lower case; the
// id is 1..MaxIDLen bytes of [A-Za-z0-9_.-]; an amount is a decimal integer
// in 1..MaxAmount without sign or leading zeros. The error names the
// offending field and the allowed range.
func ParseOp(op string) (Op, error) {
	o, reason := parse(op)
	if reason != "" {
		q := op
		if len(q) > 80 {
			q = q[:80] + "..."
		}
		return Op{}, fmt.Errorf("ledger: malformed op %q: %s", q, reason)
	}
	return o, nil
}

// Reasons a parse fails. They are constants so Execute can report them
// without allocating beyond the result string.
const (
	reasonEmpty     = "empty operation"
	reasonVerb      = "unknown verb (want authorize, confirm, refund, cancel or get)"
	reasonArgs      = "wrong number of fields (want authorize|refund <id> <amount>, confirm|cancel|get <id>)"
	reasonID        = "id must be 1..64 characters of [A-Za-z0-9_.-]"
	reasonAmount    = "amount must be a decimal integer in 1..1000000000000 cents without sign or leading zeros"
	reasonTooLong   = "operation longer than 256 bytes"
	maxOpLen        = 256
	maxFields       = 3
	fieldsOverflown = maxFields + 1
)

// parse is the allocation-free parser behind ParseOp and Execute. The
// returned Op's ID is a substring of op. reason is "" on success.
func parse(op string) (Op, string) {
	if len(op) > maxOpLen {
		return Op{}, reasonTooLong
	}
	var f [maxFields]string
	n := 0
	for i := 0; i < len(op); {
		if op[i] == ' ' || op[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(op) && op[j] != ' ' && op[j] != '\t' {
			j++
		}
		if n == maxFields {
			n = fieldsOverflown
			break
		}
		f[n] = op[i:j]
		n++
		i = j
	}
	if n == 0 {
		return Op{}, reasonEmpty
	}
	var o Op
	switch f[0] {
	case "authorize":
		o.Kind = KindAuthorize
	case "confirm":
		o.Kind = KindConfirm
	case "refund":
		o.Kind = KindRefund
	case "cancel":
		o.Kind = KindCancel
	case "get":
		o.Kind = KindGet
	default:
		return Op{}, reasonVerb
	}
	want := 2
	if o.Kind.hasAmount() {
		want = 3
	}
	if n != want {
		return Op{}, reasonArgs
	}
	if !validID(f[1]) {
		return Op{}, reasonID
	}
	o.ID = f[1]
	if want == 3 {
		a, ok := parseAmount(f[2])
		if !ok {
			return Op{}, reasonAmount
		}
		o.Amount = a
	}
	return o, ""
}

// validID reports whether id is 1..MaxIDLen bytes of [A-Za-z0-9_.-].
func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// parseAmount parses a canonical decimal amount in 1..MaxAmount.
func parseAmount(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 13 || s[0] == '0' {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if v < 1 || v > MaxAmount {
		return 0, false
	}
	return v, true
}
