package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

func TestScenariosCmd(t *testing.T) {
	cmd := newScenariosCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	list := scenarios.List()
	if len(lines) != len(list) || len(list) < 9 {
		t.Fatalf("%d lines for %d scenarios:\n%s", len(lines), len(list), out.String())
	}
	for i, l := range lines {
		name, desc, _ := strings.Cut(l, " ")
		if name != list[i].Name || strings.TrimSpace(desc) != list[i].Description {
			t.Errorf("line %q, want name %q then %q", l, list[i].Name, list[i].Description)
		}
	}
}

func TestValidateCmd(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "lossy.yaml")
	if err := os.WriteFile(good, []byte("n: 7\nworkload: {requests: 3}\nnetwork: {delay: const:1ms}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("name: lossy\nnetwork:\n  drop: 1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := newValidateCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run(good)
	if err != nil || !strings.HasPrefix(out, good+": ok (n=7, f=2, clients=2, requests=3") {
		t.Errorf("valid file: %q, %v", out, err)
	}
	_, err = run(bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), bad+":3:9: network.drop: 1.5 is out of range: want a probability in [0, 1]") {
		t.Errorf("invalid file: %v", err)
	}
	out, err = run(good, bad, filepath.Join(dir, "missing.yaml"))
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "2 of 3") ||
		!strings.Contains(out, "good.yaml: ok") || !strings.Contains(out, "network.drop") || !strings.Contains(out, "missing.yaml") {
		t.Errorf("several files: %q, %v", out, err)
	}
}
