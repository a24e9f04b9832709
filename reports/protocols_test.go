package reports

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

func TestCompareProtocols(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmp")
	opt := Options{Base: cluster.Config{Requests: 6}, Scenario: "test", Nodes: []int{4, 7, 10, 13}, Seeds: 1, Workers: 1, Out: out}
	c, err := CompareProtocols(context.Background(), opt, []string{"pbft", "hotstuff"}, cluster.Run)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Protocols) != 2 || c.Protocols[0].Protocol != "pbft" || c.Protocols[1].Protocol != "hotstuff" {
		t.Fatalf("protocols %+v", c.Protocols)
	}
	pb, hs := c.Protocols[0], c.Protocols[1]
	for _, p := range c.Protocols {
		if !p.Exact {
			t.Errorf("%s: fault-free counts differ from the closed form %s: %+v", p.Protocol, p.ClosedForm, p.Points)
		}
	}
	for i, n := range c.Nodes {
		if got, want := hs.Points[i].MessagesPerRequest, float64(10*n-8); got != want {
			t.Errorf("hotstuff n=%d: %.2f messages per request, want 10n-8 = %.0f", n, got, want)
		}
	}
	// PBFT grows as n², HotStuff (affine) as n: on n=4..13 the log-log
	// slope of 10n-8 is about 1.14.
	if pb.MessagesFit.Exponent < 1.9 || hs.MessagesFit.Exponent > 1.3 || hs.MessagesFit.Exponent < 0.9 {
		t.Errorf("exponents pbft %.3f, hotstuff %.3f: want ≈2 and ≈1", pb.MessagesFit.Exponent, hs.MessagesFit.Exponent)
	}
	// f+1 leaders failing in a row: f+1 view changes, and HotStuff's view
	// synchronization sends the first synchronizing view's TIMEOUTs to
	// every replica, (n−f−1)(n−1) of them besides the linear ones (the
	// linear pacemaker alone would send (f+1)(n−f−1)).
	for i, n := range c.Nodes {
		f := (n - 1) / 3
		pt := hs.Points[i]
		if pt.FailedLeadersViewChanges < float64(f+1) || pt.FailedLeadersMessages < float64((n-f-1)*(n-1)) {
			t.Errorf("hotstuff n=%d, first f+1 leaders failed: %.0f view changes, %.0f TIMEOUTs; want >= %d and >= (n−f−1)(n−1) = %d",
				n, pt.FailedLeadersViewChanges, pt.FailedLeadersMessages, f+1, (n-f-1)*(n-1))
		}
		if pt.FailedLeadersMessages <= pt.ViewChangeMessages {
			t.Errorf("hotstuff n=%d: recovering from f+1 failed leaders costs %.0f messages, one crashed leader %.0f", n, pt.FailedLeadersMessages, pt.ViewChangeMessages)
		}
	}
	if hs.FailedLeadersFit.Exponent < 1.8 {
		t.Errorf("hotstuff f+1 failed leaders: messages ≈ n^%.2f, want ≈ n² (synchronization)", hs.FailedLeadersFit.Exponent)
	}
	if len(c.Conclusions) == 0 || c.Conclusions[0].Verdict == "" {
		t.Errorf("no conclusion: %+v", c.Conclusions)
	}
	for _, f := range []string{FileMarkdown, FileSummary, FileComparisonRuns, "protocols_messages.svg", "protocols_bytes.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestCompareProtocolsBadInput(t *testing.T) {
	opt := Options{Nodes: []int{4, 7, 10}, Seeds: 1, Out: filepath.Join(t.TempDir(), "x")}
	for _, protos := range [][]string{nil, {"pbft", "raft"}, {"pbft", "pbft"}} {
		_, err := CompareProtocols(context.Background(), opt, protos, cluster.Run)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "protocols" {
			t.Errorf("%v: error %v, want an InputError on protocols", protos, err)
		}
	}
}
