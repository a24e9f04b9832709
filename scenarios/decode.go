package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is a bad-input error: it names the file, the position (1-based line
// and column; 0 when unknown), the field path (e.g. "network.links[1].drop";
// empty for syntax errors) and what is wrong and what is allowed.
type Error struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string
}

// Error formats the error as "file:line:col: field: msg".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(':')
		if e.Column > 0 {
			b.WriteString(strconv.Itoa(e.Column))
			b.WriteByte(':')
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// position is a 1-based line and column in a source file; null is true
// for an empty value ("field:"), which means the same as an omitted field.
type position struct {
	line, col int
	null      bool
}

// maxNodes bounds the YAML nodes visited while decoding (alias expansion
// included), so that hostile input cannot make decoding explode.
const maxNodes = 200000

// decoder walks a yaml.Node tree into a Go value, recording the position of
// every field path it visits.
type decoder struct {
	file   string
	pos    map[string]position
	budget int
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses data as exactly one YAML document and decodes it
// strictly into out (a pointer to a struct). It never panics.
func parseDocument(file string, data []byte, out any) (pos map[string]position, err error) {
	defer func() {
		if r := recover(); r != nil {
			// The YAML parser is third-party code; never let it crash the caller.
			pos, err = nil, &Error{File: file, Msg: fmt.Sprintf("invalid YAML: parser failure: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Line: 1, Msg: "the file holds no YAML document: want a mapping of scenario fields"}
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Column: extra.Column, Msg: "a second YAML document: want exactly one document per file"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, &Error{File: file, Line: 1, Msg: "the file holds no YAML document: want a mapping of scenario fields"}
		}
		root = root.Content[0]
	}
	d := &decoder{file: file, pos: map[string]position{}, budget: maxNodes}
	if err := d.decode(root, reflect.ValueOf(out).Elem(), "", 0); err != nil {
		return nil, err
	}
	return d.pos, nil
}

// parserProblems are the messages of go.yaml.in/yaml/v3's parser (as
// opposed to its scanner). For them the library reports a 0-based line.
var parserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document",
	"found undefined tag handle",
}

// syntaxError turns a yaml parser error into an *Error with its line.
func syntaxError(file string, err error) error {
	msg := err.Error()
	e := &Error{File: file, Line: 1}
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		for _, p := range parserProblems {
			if msg == p {
				e.Line++
				break
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	e.Msg = "invalid YAML: " + msg
	return e
}

func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Column: n.Column, Field: path, Msg: fmt.Sprintf(format, args...)}
}

var durationType = reflect.TypeFor[time.Duration]()

var protocolType = reflect.TypeFor[Protocol]()

// describe says what a node is, for "found ..." messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := short(n.Value)
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the string %q", v)
		case "!!int":
			return "the integer " + v
		case "!!float":
			return "the number " + v
		case "!!bool":
			return "the boolean " + v
		case "!!null":
			return "null"
		default:
			return fmt.Sprintf("%s %q", n.ShortTag(), v)
		}
	}
	return "an unexpected YAML node"
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// decode stores n into v (settable), strictly.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) error {
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil || depth > 100 {
			return d.errAt(n, path, "unresolvable YAML alias")
		}
		n = n.Alias
		depth++
	}
	if depth > 100 {
		return d.errAt(n, path, "nesting too deep")
	}
	d.budget--
	if d.budget < 0 {
		return d.errAt(n, path, "document too large (more than %d YAML nodes after alias expansion)", maxNodes)
	}
	if path != "" {
		if _, seen := d.pos[path]; !seen {
			d.pos[path] = position{n.Line, n.Column, n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"}
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && v.Kind() != reflect.Pointer {
		// An empty value ("field:") is the same as an omitted one.
		v.SetZero()
		return nil
	}
	if v.Type() == durationType {
		return d.duration(n, v, path)
	}
	if v.Type() == protocolType && n.Kind == yaml.ScalarNode {
		// "protocol: hotstuff" names the protocol with default settings.
		v.FieldByName("Name").SetString(n.Value)
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			v.SetZero()
			return nil
		}
		p := reflect.New(v.Type().Elem())
		if err := d.decode(n, p.Elem(), path, depth+1); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		return d.structure(n, v, path, depth)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errAt(n, path, "found %s, want a list", describe(n))
		}
		if len(n.Content) == 0 {
			// An empty list is the same as an omitted one.
			v.SetZero()
			return nil
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		return d.stringMap(n, v, path, depth)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			return d.errAt(n, path, "found %s, want a string (quote it if it looks like a number)", describe(n))
		}
		v.SetString(n.Value)
		return nil
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return d.errAt(n, path, "found %s, want an integer", describe(n))
		}
		var x int64
		if err := n.Decode(&x); err != nil || (v.Kind() == reflect.Int && int64(int(x)) != x) {
			return d.errAt(n, path, "found %s, want an integer that fits in 64 bits", describe(n))
		}
		v.SetInt(x)
		return nil
	case reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return d.errAt(n, path, "found %s, want a non-negative integer", describe(n))
		}
		var x uint64
		if err := n.Decode(&x); err != nil {
			return d.errAt(n, path, "found %s, want a non-negative integer below 2^64", describe(n))
		}
		v.SetUint(x)
		return nil
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			return d.errAt(n, path, "found %s, want a number", describe(n))
		}
		var x float64
		if err := n.Decode(&x); err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return d.errAt(n, path, "found %s, want a finite number", describe(n))
		}
		v.SetFloat(x)
		return nil
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return d.errAt(n, path, "found %s, want true or false", describe(n))
		}
		var x bool
		if err := n.Decode(&x); err != nil {
			return d.errAt(n, path, "found %s, want true or false", describe(n))
		}
		v.SetBool(x)
		return nil
	}
	return d.errAt(n, path, "internal error: unsupported field type %s", v.Type())
}

// duration decodes a Go duration string ("150ms"); a bare 0 is allowed.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) error {
	const want = `want a duration such as "150ms", "2s" or "1m30s"`
	if n.Kind != yaml.ScalarNode {
		return d.errAt(n, path, "found %s, %s", describe(n), want)
	}
	if n.ShortTag() == "!!int" && n.Value == "0" {
		v.SetInt(0)
		return nil
	}
	if n.ShortTag() != "!!str" {
		return d.errAt(n, path, "found %s, %s (a number needs a unit)", describe(n), want)
	}
	x, err := time.ParseDuration(n.Value)
	if err != nil {
		return d.errAt(n, path, "found %s, %s", describe(n), want)
	}
	v.SetInt(int64(x))
	return nil
}

type fieldInfo struct {
	index    int
	name     string
	required bool
}

// fields lists the yaml-named fields of a struct type in declaration order.
func fields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, fieldInfo{index: i, name: name, required: f.Tag.Get("scenario") == "required"})
	}
	return out
}

func fieldNames(fs []fieldInfo) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string, depth int) error {
	fs := fields(v.Type())
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, path, "found %s, want a mapping with fields: %s", describe(n), fieldNames(fs))
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			return d.errAt(k, path, "found %s as a key, want a field name (one of: %s)", describe(k), fieldNames(fs))
		}
		fp := join(path, k.Value)
		if prev, dup := seen[k.Value]; dup {
			return d.errAt(k, fp, "field %q given twice (first at line %d)", short(k.Value), prev.Line)
		}
		seen[k.Value] = k
		var fi *fieldInfo
		for j := range fs {
			if fs[j].name == k.Value {
				fi = &fs[j]
				break
			}
		}
		if fi == nil {
			what := "field"
			if path != "" {
				what = "field of " + path
			}
			return d.errAt(k, fp, "unknown %s %q: allowed fields are %s", what, short(k.Value), fieldNames(fs))
		}
		if err := d.decode(val, v.Field(fi.index), fp, depth+1); err != nil {
			return err
		}
	}
	for _, f := range fs {
		if f.required && seen[f.name] == nil {
			where := "this mapping"
			if path != "" {
				where = path
			}
			return d.errAt(n, join(path, f.name), "missing required field %q in %s", f.name, where)
		}
	}
	return nil
}

// stringMap decodes a mapping of scalars into a map[string]string (strategy
// params); values keep their literal text ("3", "true", "PREPARE").
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string, depth int) error {
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, path, "found %s, want a mapping of name: value", describe(n))
	}
	if len(n.Content) == 0 {
		v.SetZero()
		return nil
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		for val.Kind == yaml.AliasNode && val.Alias != nil && depth < 100 {
			val = val.Alias
			depth++
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" || k.ShortTag() == "!!null" {
			return d.errAt(k, path, "found %s as a key, want a parameter name", describe(k))
		}
		fp := join(path, k.Value)
		if prev, dup := seen[k.Value]; dup {
			return d.errAt(k, fp, "parameter %q given twice (first at line %d)", short(k.Value), prev.Line)
		}
		seen[k.Value] = k
		if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null" {
			if val.Value == "" {
				return d.errAt(val, fp, "no value: want a scalar value")
			}
			return d.errAt(val, fp, "found null, want a scalar value (write %q in quotes for the word)", val.Value)
		}
		if val.Kind != yaml.ScalarNode {
			return d.errAt(val, fp, "found %s, want a scalar value", describe(val))
		}
		d.pos[fp] = position{line: val.Line, col: val.Column}
		m.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(val.Value))
	}
	v.Set(m)
	return nil
}

// short truncates s for an error message.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
