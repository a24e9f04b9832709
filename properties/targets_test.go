package properties

import "testing"

func TestTargetedScenariosParse(t *testing.T) {
	for _, v := range append([]string{""}, VariantNames()...) {
		ts := Targeted(v)
		if len(ts) == 0 {
			t.Errorf("variant %q: no targeted scenarios", v)
		}
		for _, sc := range ts {
			cfg, err := sc.Config()
			if err != nil {
				t.Fatalf("variant %q: %s: %v", v, sc.Name, err)
			}
			if ok, why := WithinFaultModel(cfg); !ok {
				t.Errorf("variant %q: %s outside the fault model: %s", v, sc.Name, why)
			}
		}
	}
}
