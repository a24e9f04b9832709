// Package browser finds (or installs) the headless Chromium that the
// browser tests use. The tests run only when PBFTSIM_BROWSER_TESTS=1 (CI
// sets it); then a Chromium that cannot be found or installed is a test
// failure, never a skip, so CI cannot pass without the check it asked for.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Env is the environment variable that turns the browser tests on.
const Env = "PBFTSIM_BROWSER_TESTS"

// Wanted reports whether the browser tests are asked for.
func Wanted() bool { return os.Getenv(Env) == "1" }

var (
	once sync.Once
	path string
	err  error
)

// Chromium returns the path of a chromium binary, installing Debian's
// chromium package with apt-get if none is found (once per process).
func Chromium() (string, error) {
	once.Do(func() { path, err = ensure() })
	return path, err
}

func find() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func ensure() (string, error) {
	if p := find(); p != "" {
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
	if p := find(); p != "" {
		return p, nil
	}
	return "", errors.New("apt-get install chromium succeeded but no chromium binary was found")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
