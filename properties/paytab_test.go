package properties

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestPayTabMatchesMaps drives a payTab and the simple structure it
// replaced (a map of summaries and a map of open segments by payment id,
// references held as ids) with the same random operations, sweeping now and
// then, and compares them after every step: each id held or referred to has
// its slot, with the same summary and open segment; a referred-to slot
// still holds its id (never freed and reused); the open list and the
// summary count agree; a sweep leaves exactly the slots held or referred
// to. It fails with brokenPaySweep (a sweep that frees referred-to slots).
func TestPayTabMatchesMaps(t *testing.T) {
	if err := payTabDiff(1, 4000); err != nil {
		t.Fatal(err)
	}
	brokenPaySweep = true
	defer func() { brokenPaySweep = false }()
	err := payTabDiff(1, 4000)
	if err == nil {
		t.Fatal("brokenPaySweep: no difference found")
	}
	t.Logf("brokenPaySweep: %v", err)
}

// payTabDiff runs TestPayTabMatchesMaps' comparison: steps random
// operations from seed; the first difference found.
func payTabDiff(seed int64, steps int) error {
	rng := rand.New(rand.NewSource(seed))
	var tab payTab
	tab.reset()
	sums := map[string]paySum{}
	opens := map[string]*payLin{}
	type ref struct {
		slot int32
		id   string
	}
	var refs []ref // the submissions and log entries holding a slot
	for step := range steps {
		id := fmt.Sprintf("PAY%03d", rng.Intn(100))
		switch r := rng.Intn(100); {
		case r < 30: // a submission
			refs = append(refs, ref{tab.intern(id), id})
		case r < 45 && len(refs) > 0: // a submission folds away
			k := rng.Intn(len(refs))
			refs = append(refs[:k], refs[k+1:]...)
		case r < 60:
			s := paySum{st: uint8(rng.Intn(5)), n: uint32(step)}
			tab.setSum(tab.intern(id), s)
			sums[id] = s
			delete(opens, id)
		case r < 70:
			if i, ok := tab.find(id); ok {
				tab.dropSum(i)
			}
			delete(sums, id)
		case r < 85:
			pl := &payLin{sum: paySum{n: uint32(step)}}
			tab.setOpen(tab.intern(id), pl)
			opens[id] = pl
			delete(sums, id)
		case r < 95:
			if i, ok := tab.find(id); ok {
				tab.clearOpen(i)
			}
			delete(opens, id)
		default:
			keep := tab.newMark()
			for _, x := range refs {
				tab.slots[x.slot].keepMark = keep
			}
			tab.sweep(keep)
			want := map[string]bool{}
			for id := range sums {
				want[id] = true
			}
			for id := range opens {
				want[id] = true
			}
			for _, x := range refs {
				want[x.id] = true
			}
			if tab.inUse() != len(want) || len(tab.idx) != len(want) {
				return fmt.Errorf("step %d: after a sweep %d slots in use, %d ids, want %d", step, tab.inUse(), len(tab.idx), len(want))
			}
		}
		for _, x := range refs {
			if sl := &tab.slots[x.slot]; !sl.used || sl.id != x.id {
				return fmt.Errorf("step %d: a reference to %s's slot %d finds %q (in use %v)", step, x.id, x.slot, sl.id, sl.used)
			}
		}
		for i := range tab.slots {
			sl := &tab.slots[i]
			if !sl.used {
				continue
			}
			s, hasSum := sums[sl.id]
			if sl.hasSum != hasSum || sl.sum != s || sl.pl != opens[sl.id] {
				return fmt.Errorf("step %d: %s: slot has summary %v %+v, open %p; the maps %v %+v, %p", step, sl.id, sl.hasSum, sl.sum, sl.pl, hasSum, s, opens[sl.id])
			}
			if j, ok := tab.find(sl.id); !ok || j != int32(i) {
				return fmt.Errorf("step %d: %s is in slot %d, found at %d (%v)", step, sl.id, i, j, ok)
			}
		}
		for id := range sums {
			if _, ok := tab.find(id); !ok {
				return fmt.Errorf("step %d: %s's summary has no slot", step, id)
			}
		}
		if tab.nSum != len(sums) || len(tab.open) != len(opens) {
			return fmt.Errorf("step %d: %d summaries and %d open, want %d and %d", step, tab.nSum, len(tab.open), len(sums), len(opens))
		}
		for k, i := range tab.open {
			if sl := &tab.slots[i]; sl.pl == nil || sl.openAt != int32(k) || opens[sl.id] != sl.pl {
				return fmt.Errorf("step %d: open list entry %d is slot %d (%s), at %d", step, k, i, sl.id, sl.openAt)
			}
		}
	}
	return nil
}

// TestSweepPaysKeepsReferred: the checker's sweep keeps the slots its held
// submissions and replayed committed-log entries refer to, and frees a slot
// nothing refers to (fails when sweepPays forgets either kind of referrer).
func TestSweepPaysKeepsReferred(t *testing.T) {
	c := New(opts())
	tab := &c.fold.req.pays
	sub, logged, none := tab.intern("PAYS"), tab.intern("PAYL"), tab.intern("PAYN")
	c.subs = append(c.subs, submission{req: Request{Client: 4, Timestamp: 1, Op: "get PAYS"}, slot: sub})
	c.log.put(7, []logEntry{{present: true, ok: true, req: Request{Client: 5, Timestamp: 1, Op: "get PAYL"}, slot: logged}})
	c.sweepPays()
	for _, id := range []string{"PAYS", "PAYL"} {
		if i, ok := tab.find(id); !ok || tab.slots[i].id != id {
			t.Errorf("%s's slot was freed though referred to", id)
		}
	}
	if _, ok := tab.find("PAYN"); ok || tab.slots[none].used {
		t.Errorf("PAYN's slot, referred to by nothing, was kept")
	}
}
