package mime

import (
	"strings"

	"github.com/mailwire/mailwire/message"
)

// decodeWords decodes RFC 2047 encoded-words in s. ok is false when s holds
// none that decode.
func decodeWords(s string) (string, bool) {
	d, err := message.DecodeWords(s)
	if err != nil && d == s || d == s {
		return s, false
	}
	// A value that is one quoted encoded-word may also carry white space.
	return strings.TrimSpace(d), true
}
