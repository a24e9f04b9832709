package spacetime

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Browser tests open the HTML diagram in headless Chromium. They run only
// with PBFTSIM_BROWSER_TESTS=1; then TestMain installs Debian's chromium
// package with apt-get if no chromium binary is found, and the tests fail
// if it cannot.
const browserEnv = "PBFTSIM_BROWSER_TESTS"

var (
	chromium    string
	chromiumErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(browserEnv) == "1" {
		chromium, chromiumErr = ensureChromium()
	}
	os.Exit(m.Run())
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func ensureChromium() (string, error) {
	if p := findChromium(); p != "" {
		return p, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", errors.New("no chromium binary and no apt-get to install one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"update"}, {"install", "-y", "chromium"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 3))
		}
	}
	if p := findChromium(); p != "" {
		return p, nil
	}
	return "", errors.New("apt-get install chromium succeeded but no chromium binary was found")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// dumpDOM loads url in headless Chromium and returns the DOM after scripts ran.
func dumpDOM(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v", url, err)
	}
	return string(out)
}

var shownRE = regexp.MustCompile(`<span id="shown">(\d+)</span>`)

func TestHTMLInHeadlessChromium(t *testing.T) {
	if os.Getenv(browserEnv) != "1" {
		t.Skipf("browser test: set %s=1 to open the HTML in headless Chromium (installs Debian's chromium with apt-get if missing)", browserEnv)
	}
	if chromiumErr != nil {
		// Asked for and impossible: a failure, not a skip (a skip would let
		// CI pass without the browser check it asked for).
		t.Fatalf("%s=1 but chromium could not be found or installed: %v", browserEnv, chromiumErr)
	}
	d, _, _ := tinyOutputs(t, Options{Title: "tiny"})
	path := filepath.Join(t.TempDir(), "tiny.html")
	if err := WriteFileAtomic(path, d.WriteHTML); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		hash  string
		shown int
	}{
		{"", 12},
		{"#types=PREPARE", 4},
		{"#types=PREPARE,COMMIT&node=2", 3}, // PREPARE r1->r2 and r2->r1, COMMIT r1->r2
		{"#droponly=1", 2},
		{"#byzonly=1", 3},                // r3's sends: PREPARE and two VIEW-CHANGEs
		{"#seqmin=1&seqmax=1&view=0", 8}, // PRE-PREPAREs, PREPAREs, COMMIT
	}
	for _, tc := range tests {
		t.Run(tc.hash, func(t *testing.T) {
			dom := dumpDOM(t, "file://"+path+tc.hash)
			if !strings.Contains(dom, `data-js="ready"`) {
				t.Fatal("the page's script did not run")
			}
			if n := strings.Count(dom, `<g class="msg`); n != 12 {
				t.Errorf("DOM has %d arrow elements, want 12", n)
			}
			m := shownRE.FindStringSubmatch(dom)
			if m == nil || m[1] != fmt.Sprint(tc.shown) {
				t.Errorf("page shows %v arrows, want %d", m, tc.shown)
			}
			if hidden := strings.Count(dom, `style="display: none;"`); tc.hash == "" && hidden != 0 {
				t.Errorf("%d elements hidden with no filter", hidden)
			}
		})
	}
}
