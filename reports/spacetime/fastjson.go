package spacetime

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// fastDecode decodes the common shape of a trace line (the keys of
// rawRecord, plain strings and integers) about twice as fast as
// json.Unmarshal. It returns false for anything unusual (escapes, floats,
// unknown spellings of known keys, nulls, invalid JSON), and the caller then
// falls back to json.Unmarshal, which also produces the error messages. For
// every line it accepts it produces exactly what json.Unmarshal would
// (FuzzFastDecode checks that). Raw values are copied out of b.
func fastDecode(b []byte, raw *rawRecord) bool {
	p := fastParser{b: b}
	p.ws()
	if !p.eat('{') {
		return false
	}
	p.ws()
	if p.eat('}') {
		return p.end()
	}
	for {
		p.ws()
		key, ok := p.plainString()
		if !ok {
			return false
		}
		p.ws()
		if !p.eat(':') {
			return false
		}
		p.ws()
		switch key {
		case "seq", "timer":
			v, ok := p.uint()
			if !ok {
				return false
			}
			if key == "seq" {
				raw.Seq = &v
			} else {
				raw.Timer = &v
			}
		case "t", "from", "to", "local":
			v, ok := p.int()
			if !ok {
				return false
			}
			switch key {
			case "t":
				raw.T = &v
			case "local":
				raw.Local = &v
			case "from":
				raw.From = &v
			default:
				raw.To = &v
			}
		case "kind", "type", "event", "reason":
			s, ok := p.plainString()
			if !ok {
				return false
			}
			switch key {
			case "kind":
				raw.Kind = &s
			case "type":
				raw.Type = s
			case "event":
				raw.Event = s
			default:
				raw.Reason = s
			}
		case "msg", "data", "faulty":
			v, ok := p.value()
			if !ok || string(v) == "null" {
				return false
			}
			v = append(json.RawMessage(nil), v...)
			switch key {
			case "msg":
				raw.Msg = v
			case "data":
				raw.Data = v
			default:
				raw.Faulty = v
			}
		default:
			// encoding/json matches keys case-insensitively: leave other
			// spellings of known keys to it.
			for _, k := range fastKeys {
				if strings.EqualFold(key, k) {
					return false
				}
			}
			if _, ok := p.value(); !ok {
				return false
			}
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return p.end()
		}
		return false
	}
}

var fastKeys = []string{"seq", "t", "kind", "from", "to", "type", "msg", "timer", "event", "data", "reason", "faulty", "local"}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *fastParser) end() bool {
	p.ws()
	return p.i == len(p.b)
}

// plainString reads a string without escapes or control characters, in
// valid UTF-8.
func (p *fastParser) plainString() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// digits reads a JSON integer's digits (no leading zeros) as a uint64.
func (p *fastParser) digits() (uint64, bool) {
	start := p.i
	var v uint64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		d := uint64(p.b[p.i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
		p.i++
	}
	n := p.i - start
	if n == 0 || n > 1 && p.b[start] == '0' {
		return 0, false
	}
	// A fraction or exponent makes it a float: leave it to encoding/json.
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, false
	}
	return v, true
}

func (p *fastParser) uint() (uint64, bool) { return p.digits() }

func (p *fastParser) int() (int64, bool) {
	neg := p.eat('-')
	v, ok := p.digits()
	if !ok {
		return 0, false
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// value skips one JSON value and returns its bytes if they are valid JSON.
func (p *fastParser) value() ([]byte, bool) {
	start := p.i
	depth := 0
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch c {
		case '"':
			p.i++
			for p.i < len(p.b) && p.b[p.i] != '"' {
				if p.b[p.i] == '\\' {
					p.i++
				}
				p.i++
			}
			if p.i >= len(p.b) {
				return nil, false
			}
			p.i++
		case '{', '[':
			depth++
			p.i++
		case '}', ']':
			if depth == 0 {
				goto done
			}
			depth--
			p.i++
		case ',':
			if depth == 0 {
				goto done
			}
			p.i++
		default:
			p.i++
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			goto done
		}
	}
done:
	v := p.b[start:p.i]
	// Trim trailing whitespace of a scalar (numbers, literals).
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t' || v[len(v)-1] == '\n' || v[len(v)-1] == '\r') {
		v = v[:len(v)-1]
	}
	if len(v) == 0 || !json.Valid(v) {
		return nil, false
	}
	return v, true
}
