package shquote

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"lossy-wan": "lossy-wan", "a/b.yaml": "a/b.yaml", "4,7,10": "4,7,10",
		"my report": "'my report'", "": "''", "it's": `'it'\''s'`, "$HOME": "'$HOME'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
