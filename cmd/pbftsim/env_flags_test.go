package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvFlagsBad(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bandwidth", "-5Mbit"}, "100Mbit"},
		{[]string{"--bandwidth", "0Mbit"}, "rate > 0"},
		{[]string{"--bandwidth", "fast"}, "Gbit"},
		{[]string{"--bandwidth", "100MB"}, "bits per second"},
		{[]string{"--regions", "eastus,mars"}, `unknown region "mars"`},
		{[]string{"--jitter", "5ms"}, "needs --regions"},
		{[]string{"--clock-drift", "900000"}, "clock"},
		{[]string{"--clock-drift", "NaN"}, "clock"},
		{[]string{"--regions", "eastus", "--jitter", "-5ms"}, "jitter"},
		{[]string{"--clock-skew", "100h"}, "offset in [-24h"},
		{[]string{"--clock-jump", "9@1s:1s"}, "node id in [0, 6)"},
		{[]string{"--clock-jump", "1@1s:0s"}, "non-zero step"},
		{[]string{"--clock-jump", "1@-1s:1s"}, "time >= 0"},
		{[]string{"--clock-jump", "1:1s"}, "NODE@T:BY"},
		{[]string{"--ingress-bandwidth", "-3Mbit"}, "100Mbit"},
		{[]string{"--ingress-bandwidth", "0bit"}, "rate > 0"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errs, code := cli(t, append([]string{"run"}, tc.args...)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, errs)
			}
			if !strings.Contains(errs, tc.want) || !strings.Contains(errs, strings.SplitN(tc.args[0][2:], "-", 2)[0]) {
				t.Fatalf("error %q does not mention the flag and %q", errs, tc.want)
			}
		})
	}
}

// TestBandwidthSlowsRun: the same run with a tight egress limit commits
// the same requests with the same messages, later in virtual time.
func TestBandwidthSlowsRun(t *testing.T) {
	type result struct {
		SimTime  int64 `json:"sim_time_ns"`
		Messages struct {
			Total int `json:"total"`
		} `json:"messages"`
		Requests struct {
			Committed int `json:"committed"`
		} `json:"requests"`
	}
	get := func(args ...string) result {
		var r result
		out := cliOK(t, append([]string{"run", "--scenario", "fault-free", "--json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return r
	}
	fast, slow := get(), get("--bandwidth", "1Mbit")
	if fast.Requests.Committed != 8 || slow.Requests.Committed != 8 || fast.Messages.Total != slow.Messages.Total {
		t.Fatalf("fast %+v, slow %+v: want 8 commits each and equal message counts", fast, slow)
	}
	if slow.SimTime <= fast.SimTime*3/2 {
		t.Fatalf("1Mbit run took %dns, unlimited %dns: want clearly longer", slow.SimTime, fast.SimTime)
	}
}

// TestRegionMatrixFlag: --region-matrix reads a user's CSV (the regions
// then are its own), and a bad file exits 2 naming the file, line and cell.
func TestRegionMatrixFlag(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "rtt.csv"), filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(good, []byte("region,near,far\nnear,1,400\nfar,400,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("region,near,far\nnear,1,400\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p50 := func(regions string) int64 {
		var r struct {
			Latency struct {
				P50 int64 `json:"p50"`
			} `json:"latency_ns"`
		}
		out := cliOK(t, "run", "--json", "--regions", regions, "--region-matrix", good)
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r.Latency.P50
	}
	if near, far := p50("near"), p50("near,far,far,far"); far < 400e6 || near > 10e6 {
		t.Fatalf("p50 %dns in one region, %dns with a 400ms RTT to 3 of 4 replicas", near, far)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--regions", "near", "--region-matrix", bad}, bad + `:2: the file ends after 1 rows for 2 regions: want a square matrix`},
		{[]string{"--regions", "eastus", "--region-matrix", good}, `unknown region "eastus": want one of near, far`},
		{[]string{"--region-matrix", good}, "needs --regions"},
		{[]string{"--regions", "near", "--region-matrix", filepath.Join(dir, "none.csv")}, "cannot read the region matrix"},
	} {
		_, errs, code := cli(t, append([]string{"run"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
