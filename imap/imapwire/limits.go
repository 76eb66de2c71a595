package imapwire

import (
	"errors"
	"fmt"
	"math"

	"github.com/mailwire/mailwire/internal/limits"
)

// Default limits. Each bounds memory, never time: reading stops with a
// *LimitError as soon as a limit is passed.
const (
	// DefaultMaxLine bounds one line, literal contents excluded: 64 KiB,
	// well above RFC 7162 §4's advice that servers accept 8192 octets.
	DefaultMaxLine = 64 << 10
	// DefaultMaxStringLiteral bounds a literal read into memory as a
	// string (a LOGIN password, a mailbox name, a SEARCH string, an
	// ENVELOPE field): 1 MiB.
	DefaultMaxStringLiteral = 1 << 20
	// DefaultMaxLiteral bounds a literal streamed through an io.Reader
	// (APPEND's message, a FETCH body section): 64 MiB.
	DefaultMaxLiteral = 64 << 20
	// DefaultMaxDepth bounds the nesting of parenthesised lists: 64, deep
	// enough for a BODYSTRUCTURE of mime's default MIME depth.
	DefaultMaxDepth = 64
	// DefaultMaxCommand bounds one command or response as held in memory,
	// lines and string literals together, streamed literals excluded:
	// 16 MiB.
	DefaultMaxCommand = 16 << 20

	// The hard maxima of the limits that bound memory: no setting,
	// negative included, goes past them.
	HardMaxLine          = 16 << 20
	HardMaxStringLiteral = 64 << 20
	HardMaxDepth         = 4096
	HardMaxCommand       = 256 << 20
)

// Limits bounds what a Decoder reads. For every field 0 means the
// documented default. A negative value means no limit for MaxLiteral, which
// is streamed, and the hard maximum (HardMaxLine...) for the others, which
// bound memory; no setting passes a hard maximum.
type Limits struct {
	MaxLine          int64
	MaxStringLiteral int64
	MaxLiteral       int64
	MaxDepth         int
	MaxCommand       int64
}

func (l Limits) withDefaults() Limits {
	limits.Bounded(&l.MaxLine, DefaultMaxLine, HardMaxLine)
	limits.Bounded(&l.MaxStringLiteral, DefaultMaxStringLiteral, HardMaxStringLiteral)
	limits.Or(&l.MaxLiteral, DefaultMaxLiteral, math.MaxInt64)
	limits.Bounded(&l.MaxCommand, DefaultMaxCommand, HardMaxCommand)
	limits.Bounded(&l.MaxDepth, DefaultMaxDepth, HardMaxDepth)
	return l
}

// ErrLimit is matched by errors.Is for every *LimitError.
var ErrLimit = errors.New("imapwire: limit exceeded")

// LimitError reports input beyond one of the Limits. Limit names the field
// ("MaxLine", "MaxLiteral"...), Max its value. A server answers it with BAD
// (or NO [TOOBIG] for a refused synchronising literal) and, as the rest of
// the command may still be on its way, is safest closing the connection
// unless InSync is set: InSync says the decoder stands at the start of the
// next line (a synchronising literal was refused before its bytes were
// sent).
type LimitError struct {
	Limit  string
	Max    int64
	Got    int64 // the size found, when known (a literal's announced size)
	InSync bool
}

func (e *LimitError) Error() string {
	if e.Got > 0 {
		return fmt.Sprintf("imapwire: %s exceeded: %d > %d", e.Limit, e.Got, e.Max)
	}
	return fmt.Sprintf("imapwire: %s exceeded (%d)", e.Limit, e.Max)
}

// Is reports whether target is ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// ParseError is input that does not follow the IMAP grammar. Context is
// the text read on the line so far (its tail), which says where.
type ParseError struct {
	Msg     string
	Context string
}

func (e *ParseError) Error() string {
	if e.Context == "" {
		return "imapwire: " + e.Msg
	}
	return fmt.Sprintf("imapwire: %s after %q", e.Msg, e.Context)
}
