package scenarios

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Marshal writes s as YAML that Parse reads back to an equal Scenario
// (as reflect.DeepEqual sees it, given nil rather than empty slices and maps).
func (s *Scenario) Marshal() ([]byte, error) {
	return encode(s, s.Description)
}

// MarshalReplay writes a replay file.
func MarshalReplay(r *Replay) ([]byte, error) {
	head := fmt.Sprintf("pbftsim replay: rerun with `pbftsim replay FILE` (seed %d)", r.Seed)
	return encode(r, head)
}

// ParseReplay decodes and validates a replay file strictly: the scenario
// must be valid (field paths start with "scenario.") and the variant known.
func ParseReplay(file string, data []byte) (*Replay, error) {
	if err := checkSize(file, int64(len(data))); err != nil {
		return nil, err
	}
	r := new(Replay)
	pos, err := parseDocument(file, data, r)
	if err != nil {
		return nil, err
	}
	v := &validator{file: file, pos: pos, prefix: "scenario"}
	if err := loadMatrixFile(v, &r.Scenario); err != nil {
		return nil, err
	}
	if err := v.scenario(&r.Scenario); err != nil {
		return nil, err
	}
	v.prefix = ""
	if err := validateVariant(r.Scenario.Protocol.Name, r.Variant); err != nil {
		return nil, v.errf("variant", "%v", err)
	}
	return r, nil
}

// LoadReplay reads and parses the replay file at path.
func LoadReplay(path string) (*Replay, error) {
	data, err := readLimited(path, "replay file")
	if err != nil {
		return nil, err
	}
	return ParseReplay(path, data)
}

func encode(v any, comment string) ([]byte, error) {
	var root yaml.Node
	if err := root.Encode(v); err != nil {
		return nil, fmt.Errorf("scenarios: encoding YAML: %w", err)
	}
	compact(&root, false)
	if comment != "" {
		root.HeadComment = comment
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("scenarios: encoding YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("scenarios: encoding YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// compact puts lists of scalars and list items made of scalars in flow
// style ("[0, 1]", "- {from: 0, to: 1}") and reports whether n is now a
// scalar or a flow node.
func compact(n *yaml.Node, inSeq bool) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		return true
	case yaml.SequenceNode:
		flat := true
		for _, c := range n.Content {
			isFlow := compact(c, true)
			if !isFlow || c.Kind == yaml.MappingNode {
				flat = false
			}
		}
		if flat {
			n.Style = yaml.FlowStyle
		}
		return flat
	case yaml.MappingNode:
		flat := true
		for i := 1; i < len(n.Content); i += 2 {
			if !compact(n.Content[i], false) {
				flat = false
			}
		}
		if flat && inSeq {
			n.Style = yaml.FlowStyle
			return true
		}
		return false
	}
	return false
}
