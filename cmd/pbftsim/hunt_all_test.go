package main

import (
	"strings"
	"testing"
)

func TestHuntAllGenericJSON(t *testing.T) {
	// Two quick variants through the same code path as --all (the rows
	// of every variant are tested in properties).
	out, errs, code := cli(t, "hunt", "--variant", "execute-out-of-order", "--generic", "--budget", "20s", "--out", t.TempDir()+"/x.replay.yaml")
	if code != 1 || !strings.Contains(out, "VIOLATION of") || !strings.Contains(errs, "generic generator") {
		t.Fatalf("hunt --generic: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestHuntBadFlags(t *testing.T) {
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"hunt", "--all", "--variant", "execute-out-of-order"}, "--all and --variant"},
		{[]string{"hunt", "--all", "--out", "x.yaml"}, "--out"},
		{[]string{"hunt", "--variant", "execute-out-of-order", "--json"}, "--json: only with --all"},
		{[]string{"hunt", "--all", "--budget", "-1s"}, "--budget"},
		{[]string{"hunt", "--variant", "nope"}, "allowed:"},
		{[]string{"hunt"}, "--variant: required"},
	}
	for _, c := range bad {
		_, errs, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}
