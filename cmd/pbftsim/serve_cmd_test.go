package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeBadInput: a bad address or file is refused at start (exit 2)
// with the reason.
func TestServeBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("n: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "nonsense"}, "want HOST:PORT"},
		{[]string{"serve", filepath.Join(t.TempDir(), "missing.yaml")}, "missing.yaml"},
		{[]string{"serve", bad}, "bad.yaml"},
		{[]string{"serve", "no-such-builtin"}, "no-such-builtin"},
		{[]string{"serve", "a", "b"}, "accepts at most 1 arg"},
	} {
		_, stderr, code := cli(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestServeStartsAndStops serves a built-in scenario on a loopback port,
// answers the API and stops on Ctrl-C (the context) with exit 0.
func TestServeStartsAndStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result, 1)
	go func() {
		o, e, c := cliCtx(t, ctx, "serve", "fault-free", "--addr", addr, "--out", out)
		done <- result{o, e, c}
	}()
	var resp *http.Response
	for i := 0; i < 200; i++ {
		if resp, err = http.Get("http://" + addr + "/api/info"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the server did not answer: %v", err)
	}
	resp.Body.Close()
	cancel()
	r := <-done
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("http://%s/?open=fault-free", addr)) || strings.Contains(r.stderr, "not a loopback") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("serve wrote its output folder without a fork: %v", err)
	}
}
