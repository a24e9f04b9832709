package properties

import (
	"testing"
)

func TestScratch2(t *testing.T) {
	sc := CaseScenario(1, 0, GenConfig{})
	sc.Byzantine = nil
	sc.Crashes = nil
	o, err := RunScenario(sc, RunOptions{Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	y, _ := sc.Marshal()
	t.Logf("%s\n%+v\n%s", y, *o.Result, o.Summary())
}
