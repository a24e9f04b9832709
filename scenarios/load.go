package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
)

//go:embed *.yaml
var builtinFS embed.FS

// Parse decodes and validates a scenario. file names the source in errors.
// Every error is an *Error.
func Parse(file string, data []byte) (*Scenario, error) {
	if err := checkSize(file, int64(len(data))); err != nil {
		return nil, err
	}
	s := new(Scenario)
	pos, err := parseDocument(file, data, s)
	if err != nil {
		return nil, err
	}
	v := &validator{file: file, pos: pos}
	if err := loadMatrixFile(v, s); err != nil {
		return nil, err
	}
	if err := v.scenario(s); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadFile reads and parses the scenario file at path.
func LoadFile(path string) (*Scenario, error) {
	data, err := readLimited(path, "scenario")
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// MaxFileBytes bounds the size of a scenario or replay file. A scenario
// of the largest allowed cluster is a few kilobytes; a bigger file is
// refused before it is read, so that a huge (or hostile) document never
// costs gigabytes of decoding.
const MaxFileBytes = 1 << 20

func checkSize(file string, size int64) error {
	if size > MaxFileBytes {
		return &Error{File: file, Msg: fmt.Sprintf("the file is %d bytes: want at most %d (1 MiB); a scenario is a few kilobytes", size, MaxFileBytes)}
	}
	return nil
}

// readLimited reads at most MaxFileBytes+1 bytes of the file at path (a
// FIFO or device included) and refuses a bigger file before decoding it.
func readLimited(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read the " + what + ": " + errMsg(err)}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if err := checkSize(path, st.Size()); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read the " + what + ": " + errMsg(err)}
	}
	if err := checkSize(path, int64(len(data))); err != nil {
		return nil, err
	}
	return data, nil
}

// errMsg strips the path that *fs.PathError repeats.
func errMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Builtin returns the built-in scenario name (see List).
func Builtin(name string) (*Scenario, error) {
	file := name + ".yaml"
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, unknownBuiltin(name)
	}
	data, err := builtinFS.ReadFile(file)
	if err != nil {
		return nil, unknownBuiltin(name)
	}
	return Parse(file, data)
}

func unknownBuiltin(name string) error {
	return &Error{Field: "scenario", Msg: "unknown built-in scenario " + quoteList([]string{name}) + ": want one of " + quoteList(builtinNames())}
}

// Load returns the built-in scenario nameOrPath if there is one, and
// otherwise parses the file at that path.
func Load(nameOrPath string) (*Scenario, error) {
	if slices.Contains(builtinNames(), nameOrPath) {
		return Builtin(nameOrPath)
	}
	if _, err := os.Stat(nameOrPath); err != nil && !strings.ContainsAny(nameOrPath, "/\\.") {
		// Neither a built-in nor a file: most likely a mistyped name.
		return nil, unknownBuiltin(nameOrPath)
	}
	return LoadFile(nameOrPath)
}

// Info names a built-in scenario.
type Info struct {
	Name        string
	Description string
}

func builtinNames() []string {
	entries, _ := builtinFS.ReadDir(".")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// List returns the built-in scenarios sorted by name. A built-in that does
// not parse (a defect caught by the tests) is listed with its error as the
// description.
func List() []Info {
	var out []Info
	for _, name := range builtinNames() {
		s, err := Builtin(name)
		if err != nil {
			out = append(out, Info{Name: name, Description: "INVALID: " + err.Error()})
			continue
		}
		out = append(out, Info{Name: name, Description: s.Description})
	}
	return out
}
