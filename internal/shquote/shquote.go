// Package shquote quotes words for a POSIX shell, so that the commands
// pbftsim prints (replay and regenerate commands) can be pasted.
package shquote

import "strings"

// safe are the characters a word may hold unquoted.
const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,:=+@"

// Quote returns s as one shell word: unchanged when it holds only safe
// characters, else in single quotes.
func Quote(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
