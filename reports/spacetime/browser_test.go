package spacetime

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/internal/browser"
)

// Browser tests open the HTML diagram in headless Chromium. They run only
// with PBFTSIM_BROWSER_TESTS=1; then TestMain finds or installs Debian's
// chromium package (internal/browser), and the tests fail if it cannot.
const browserEnv = browser.Env

var (
	chromium    string
	chromiumErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if browser.Wanted() {
		chromium, chromiumErr = browser.Chromium()
	}
	os.Exit(m.Run())
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
