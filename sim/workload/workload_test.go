package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/pbftsim/pbftsim/sim/ledger"
)

func TestValidate(t *testing.T) {
	ok := Config{Clients: 2, Requests: 8}
	tests := []struct {
		name string
		mut  func(c *Config)
		want string // "" means valid; otherwise a substring naming the field
	}{
		{"defaults", func(c *Config) {}, ""},
		{"explicit payments", func(c *Config) { c.Payments = 8 }, ""},
		{"explicit mix", func(c *Config) { c.Mix = Mix{Confirm: 1} }, ""},
		{"zero clients", func(c *Config) { c.Clients = 0 }, "Clients must be in 1..10000, got 0"},
		{"too many clients", func(c *Config) { c.Clients = MaxClients + 1 }, "Clients must be in"},
		{"zero requests", func(c *Config) { c.Requests = 0 }, "Requests must be in 1..10000000, got 0"},
		{"too many requests", func(c *Config) { c.Requests = MaxRequests + 1 }, "Requests must be in"},
		{"negative payments", func(c *Config) { c.Payments = -1 }, "Payments must be 0"},
		{"payments above requests", func(c *Config) { c.Payments = 9 }, "Payments must be 0 (default ceil(Requests/2)) or in 1..Requests (8), got 9"},
		{"negative confirm", func(c *Config) { c.Mix.Confirm = -0.1 }, "Mix.Confirm must be in [0, 1]"},
		{"refund above one", func(c *Config) { c.Mix.Refund = 1.5 }, "Mix.Refund must be in [0, 1]"},
		{"cancel NaN", func(c *Config) { c.Mix.Cancel = math.NaN() }, "Mix.Cancel must be in [0, 1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mut(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if Generate(c, rand.New(rand.NewPCG(1, 1))) != nil {
				t.Fatal("Generate returned a workload for an invalid config")
			}
		})
	}
}

func TestPaymentID(t *testing.T) {
	tests := []struct {
		i, n int
		want string
	}{
		{1, 4, "PAY001"}, {42, 999, "PAY042"}, {999, 999, "PAY999"},
		{1, 1000, "PAY0001"}, {1000, 1000, "PAY1000"}, {7, 123456, "PAY000007"},
	}
	for _, tc := range tests {
		if got := PaymentID(tc.i, tc.n); got != tc.want {
			t.Errorf("PaymentID(%d, %d) = %q, want %q", tc.i, tc.n, got, tc.want)
		}
	}
}

func gen(t *testing.T, c Config, seed uint64) [][]string {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ops := Generate(c, rand.New(rand.NewPCG(seed, 7)))
	if ops == nil {
		t.Fatal("Generate returned nil for a valid config")
	}
	return ops
}

func TestDeterminism(t *testing.T) {
	c := Config{Clients: 3, Requests: 200}
	a, b := gen(t, c, 5), gen(t, c, 5)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same config and seed gave different workloads")
	}
	if reflect.DeepEqual(a, gen(t, c, 6)) {
		t.Fatal("different seeds gave identical workloads")
	}
}

// TestWorkloadShape checks totals, ids, client ownership, per-payment order
// and that every op is accepted when each client's list runs in order.
func TestWorkloadShape(t *testing.T) {
	tests := []struct {
		name string
		c    Config
	}{
		{"default", Config{Clients: 2, Requests: 8}},
		{"odd requests", Config{Clients: 3, Requests: 101}},
		{"one client", Config{Clients: 1, Requests: 50}},
		{"more clients than payments", Config{Clients: 10, Requests: 6}},
		{"all authorize", Config{Clients: 4, Requests: 40, Payments: 40}},
		{"refund heavy", Config{Clients: 2, Requests: 300, Payments: 50, Mix: Mix{Confirm: 0.3, Refund: 0.7}}},
		{"cancel only", Config{Clients: 2, Requests: 100, Payments: 20, Mix: Mix{Cancel: 1}}},
		{"wide ids", Config{Clients: 5, Requests: 2500}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(0); seed < 5; seed++ {
				ops := gen(t, tc.c, seed)
				if len(ops) != tc.c.Clients {
					t.Fatalf("%d client lists, want %d", len(ops), tc.c.Clients)
				}
				total := 0
				owner := map[string]int{}
				l := ledger.New()
				for cl, list := range ops {
					total += len(list)
					for _, op := range list {
						o, err := ledger.ParseOp(op)
						if err != nil {
							t.Fatal(err)
						}
						if op != o.String() { // the text ledger.Authorize, Confirm, ... make
							t.Fatalf("client %d: %q is not the canonical text %q", cl, op, o.String())
						}
						if i, ok := PaymentIndex([]byte(o.ID), tc.c.PaymentCount()); !ok || (i-1)%tc.c.Clients != cl {
							t.Fatalf("client %d: %q: not one of its payments' ids", cl, op)
						}
						if prev, ok := owner[o.ID]; ok && prev != cl {
							t.Fatalf("payment %s used by clients %d and %d", o.ID, prev, cl)
						}
						owner[o.ID] = cl
						// The payment must be authorized before any other op on it
						// (ledger rejects otherwise, caught below).
						if _, exists := l.State(o.ID); !exists && o.Kind != ledger.KindAuthorize {
							t.Fatalf("client %d: %q before authorize", cl, op)
						}
						if res := l.Execute(op); !strings.HasPrefix(res, "ok ") {
							t.Fatalf("client %d: %q rejected: %s", cl, op, res)
						}
					}
				}
				if total != tc.c.Requests {
					t.Fatalf("%d ops, want exactly %d", total, tc.c.Requests)
				}
				ids := PaymentIDs(ops)
				n := tc.c.PaymentCount()
				if len(ids) != n || ids[0] != PaymentID(1, n) || ids[n-1] != PaymentID(n, n) {
					t.Fatalf("ids %d from %v to %v, want %d from %s", len(ids), ids[0], ids[len(ids)-1], n, PaymentID(1, n))
				}
				if err := l.CheckInvariants(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestDefaultPayments(t *testing.T) {
	for _, tc := range []struct{ req, want int }{{1, 1}, {8, 4}, {9, 5}, {1000, 500}} {
		c := Config{Clients: 2, Requests: tc.req}
		if got := c.PaymentCount(); got != tc.want {
			t.Errorf("PaymentCount(Requests=%d) = %d, want %d", tc.req, got, tc.want)
		}
		if got := len(PaymentIDs(gen(t, c, 1))); got != tc.want {
			t.Errorf("Requests=%d: workload uses %d ids, want %d", tc.req, got, tc.want)
		}
	}
}

// TestMixProportions checks the mix steers the drawn kinds.
func TestMixProportions(t *testing.T) {
	count := func(c Config) map[ledger.Kind]int {
		m := map[ledger.Kind]int{}
		for _, list := range gen(t, c, 3) {
			for _, op := range list {
				o, _ := ledger.ParseOp(op)
				m[o.Kind]++
			}
		}
		return m
	}
	// Default mix, many payments so confirm/cancel are rarely starved.
	m := count(Config{Clients: 4, Requests: 20000, Payments: 10000})
	if m[ledger.KindAuthorize] != 10000 {
		t.Fatalf("authorize count %d, want 10000", m[ledger.KindAuthorize])
	}
	conf, canc, ref := float64(m[ledger.KindConfirm]), float64(m[ledger.KindCancel]), float64(m[ledger.KindRefund])
	if f := conf / 10000; f < 0.75 || f > 0.85 {
		t.Errorf("confirm fraction %.3f, want ~0.8 (counts %v)", f, m)
	}
	if f := canc / 10000; f < 0.07 || f > 0.13 {
		t.Errorf("cancel fraction %.3f, want ~0.1 (counts %v)", f, m)
	}
	if f := ref / 10000; f < 0.07 || f > 0.13 {
		t.Errorf("refund fraction %.3f, want ~0.1 (counts %v)", f, m)
	}
	// Zero weights are never drawn.
	m = count(Config{Clients: 2, Requests: 400, Payments: 100, Mix: Mix{Confirm: 1}})
	if m[ledger.KindRefund] != 0 || m[ledger.KindCancel] != 0 || m[ledger.KindConfirm] != 100 || m[ledger.KindGet] != 200 {
		t.Errorf("confirm-only mix gave %v, want 100 authorize, 100 confirm, 200 get", m)
	}
}

func TestGenerateNilRand(t *testing.T) {
	if Generate(Config{Clients: 1, Requests: 1}, nil) != nil {
		t.Fatal("Generate with nil rng returned a workload")
	}
}

func TestPaymentIDsSkipsMalformed(t *testing.T) {
	got := PaymentIDs([][]string{{"confirm PAY002", "bogus", "authorize PAY001 5"}, {"get PAY002", "refund PAY003 1"}})
	want := []string{"PAY001", "PAY002", "PAY003"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PaymentIDs = %v, want %v", got, want)
	}
}

func BenchmarkGenerate(b *testing.B) {
	c := Config{Clients: 8, Requests: 10000}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Generate(c, rand.New(rand.NewPCG(uint64(i), 1)))
	}
}

// TestPlanLazy checks that a Plan's operations are the same whatever order
// they are asked in (drawn again from the start for an earlier one), that
// PaymentIDs lists the ids they use, and that a plan is drawn lazily: its
// memory does not grow with the requests.
func TestPlanLazy(t *testing.T) {
	for _, c := range []Config{
		{Clients: 1, Requests: 1},
		{Clients: 3, Requests: 500},
		{Clients: 4, Requests: 3000, Payments: 16},
		{Clients: 9, Requests: 40, Payments: 3, Mix: Mix{Refund: 1}},
		{Clients: 12, Requests: 10, Payments: 5},
	} {
		for seed := uint64(1); seed <= 3; seed++ {
			want := Generate(c, rand.New(rand.NewPCG(seed, 3)))
			p := NewPlan(c, rand.New(rand.NewPCG(seed, 3)))
			if p.Clients() != len(want) {
				t.Fatalf("%+v: %d clients, want %d", c, p.Clients(), len(want))
			}
			r := rand.New(rand.NewPCG(seed, 9))
			for i := range want {
				ops := p.Client(i)
				if ops.Len() != len(want[i]) {
					t.Fatalf("%+v client %d: Len %d, want %d", c, i, ops.Len(), len(want[i]))
				}
				for range min(3*ops.Len(), 60) { // random order, and repeats
					k := r.IntN(ops.Len())
					if got := ops.Op(k); got != want[i][k] {
						t.Fatalf("%+v seed %d client %d op %d: %q, in order %q", c, seed, i, k, got, want[i][k])
					}
				}
			}
			if got, want := p.PaymentIDs(), PaymentIDs(want); !reflect.DeepEqual(got, want) {
				t.Fatalf("%+v seed %d: PaymentIDs %v, want %v", c, seed, got, want)
			}
		}
	}
	if NewPlan(Config{}, rand.New(rand.NewPCG(1, 1))) != nil || NewPlan(Config{Clients: 1, Requests: 1}, nil) != nil {
		t.Fatal("NewPlan accepted an invalid config or a nil rng")
	}
	if (&Plan{}).Client(3).Len() != 0 {
		t.Fatal("out-of-range client has operations")
	}
	// 10M requests over 64 payments: building the plan and drawing 200,000
	// operations of a client allocates what the payments need, not 8 bytes
	// (or more) per request.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p := NewPlan(Config{Clients: 4, Requests: MaxRequests, Payments: 64}, rand.New(rand.NewPCG(1, 1)))
	ops := p.Client(0)
	for k := range 200_000 {
		ops.Op(k)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if ops.d.pay == nil || len(ops.d.pay) != 16 {
		t.Fatalf("client 0 tracks %d payments, want its 16", len(ops.d.pay))
	}
	live := after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
	runtime.KeepAlive(ops)
	if live > 1<<20 {
		t.Errorf("a 10M-request plan holds %d bytes after 200,000 operations, want < 1 MB", live)
	}
}

// TestDrawnForKeepsPrefix: with DrawnFor fixed, fewer Requests issue a
// prefix of every client's operations in the workload of DrawnFor (which
// fewer Requests alone do not: they draw another workload).
func TestDrawnForKeepsPrefix(t *testing.T) {
	for _, tc := range []struct{ clients, drawn, payments int }{{1, 40, 0}, {2, 40, 0}, {3, 57, 10}, {5, 12, 0}} {
		full := Generate(Config{Clients: tc.clients, Requests: tc.drawn, Payments: tc.payments}, rand.New(rand.NewPCG(7, 9)))
		for m := 1; m <= tc.drawn; m++ {
			short := Generate(Config{Clients: tc.clients, Requests: m, Payments: tc.payments, DrawnFor: tc.drawn}, rand.New(rand.NewPCG(7, 9)))
			total := 0
			for j := range short {
				total += len(short[j])
				if !slices.Equal(short[j], full[j][:len(short[j])]) {
					t.Fatalf("%+v requests %d: client %d issues %v, not a prefix of %v", tc, m, j, short[j], full[j])
				}
			}
			if total != m {
				t.Fatalf("%+v requests %d: %d operations issued", tc, m, total)
			}
		}
	}
	if err := (Config{Clients: 1, Requests: 5, DrawnFor: 4}).Validate(); err == nil || !strings.Contains(err.Error(), "DrawnFor") {
		t.Fatalf("DrawnFor below Requests: got %v, want an error naming DrawnFor", err)
	}
}

// TestIssuedPerClient: Issued picks each client's prefix on its own, and
// bad counts are errors naming Issued.
func TestIssuedPerClient(t *testing.T) {
	full := Generate(Config{Clients: 3, Requests: 30}, rand.New(rand.NewPCG(1, 1)))
	got := Generate(Config{Clients: 3, Requests: 5, DrawnFor: 30, Issued: []int{0, 3, 2}}, rand.New(rand.NewPCG(1, 1)))
	for j, want := range [][]string{nil, full[1][:3], full[2][:2]} {
		if len(got[j]) != len(want) || !slices.Equal(got[j], want) {
			t.Fatalf("client %d issues %v, want %v", j, got[j], want)
		}
	}
	for _, bad := range []Config{
		{Clients: 3, Requests: 5, DrawnFor: 30, Issued: []int{0, 5}},      // one count missing
		{Clients: 3, Requests: 5, DrawnFor: 30, Issued: []int{0, 3, 3}},   // sum is not Requests
		{Clients: 3, Requests: 11, DrawnFor: 30, Issued: []int{0, 11, 0}}, // above client 1's 10
		{Clients: 3, Requests: 1, DrawnFor: 30, Issued: []int{-1, 1, 1}},  // negative
	} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "Issued") {
			t.Errorf("%+v: got %v, want an error naming Issued", bad, err)
		}
	}
}

// TestOpsConcurrent: goroutines asking one client's Ops for operations in
// different orders (as the workers of a parallel exploration do) get the
// operations drawn in order; without the drawer's lock this fails under
// the race detector (go test -race) and usually without it too.
func TestOpsConcurrent(t *testing.T) {
	c := Config{Clients: 2, Requests: 400, Payments: 30}
	want := Generate(c, rand.New(rand.NewPCG(5, 3)))
	ops := NewPlan(c, rand.New(rand.NewPCG(5, 3))).Client(1)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 2000 {
				k := r.IntN(ops.Len())
				if got := ops.Op(k); got != want[1][k] {
					errs <- fmt.Sprintf("goroutine %d op %d: %q, in order %q", g, k, got, want[1][k])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestPaymentIndex: PaymentIndex inverts PaymentID at every width (n from 1
// to past 10^6) and rejects ids of another width, prefix, digits or range.
func TestPaymentIndex(t *testing.T) {
	for _, n := range []int{1, 9, 999, 1000, 1001, 99999, 100000, 1234567} {
		for _, i := range []int{1, 2, n / 2, n - 1, n} {
			if i < 1 || i > n {
				continue
			}
			id := PaymentID(i, n)
			if got, ok := PaymentIndex([]byte(id), n); !ok || got != i {
				t.Errorf("n=%d: PaymentIndex(%q) = %d, %v; want %d", n, id, got, ok, i)
			}
			if want := fmt.Sprintf("PAY%0*d", max(3, len(fmt.Sprint(n))), i); id != want {
				t.Errorf("n=%d: PaymentID(%d) = %q, want %q", n, i, id, want)
			}
		}
		for _, id := range []string{PaymentID(n+1, n), "PAY" + strings.Repeat("0", max(3, len(fmt.Sprint(n)))), "PAX001", "PAY01", "PAY0a1", "PAY" + fmt.Sprint(n) + "0", ""} {
			if i, ok := PaymentIndex([]byte(id), n); ok && PaymentID(i, n) != id {
				t.Errorf("n=%d: PaymentIndex(%q) = %d, accepted", n, id, i)
			}
		}
	}
}

// BenchmarkDrawDefault draws the operations of `pbftsim run --requests
// 200000` (4 clients, 100,000 payments), the clients in turn as a run's
// closed-loop clients ask for them. ns/op and cpu-ns/op (the process's
// CPU time) are per operation.
func BenchmarkDrawDefault(b *testing.B) {
	c := Config{Clients: 4, Requests: 200_000}
	b.ReportAllocs()
	var ops []Ops
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	defer func() {
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	}()
	for i := range b.N {
		k := i % c.Requests
		if k == 0 {
			p := NewPlan(c, rand.New(rand.NewPCG(1, 1)))
			ops = ops[:0]
			for j := range c.Clients {
				ops = append(ops, p.Client(j))
			}
		}
		ops[k%c.Clients].Op(k / c.Clients)
	}
}
