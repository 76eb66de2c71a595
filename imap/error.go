package imap

import (
	"fmt"
	"strings"
)

// StatusType is the condition of a status response (RFC 3501 §7.1).
type StatusType string

// Status response conditions.
const (
	StatusOK      StatusType = "OK"
	StatusNO      StatusType = "NO"
	StatusBAD     StatusType = "BAD"
	StatusPREAUTH StatusType = "PREAUTH"
	StatusBYE     StatusType = "BYE"
)

// StatusResponse is a tagged or untagged OK, NO, BAD, PREAUTH or BYE
// response (RFC 3501 §7.1): "a002 OK [READ-WRITE] SELECT completed".
// Tag is "" for an untagged response.
type StatusResponse struct {
	Tag  string
	Type StatusType
	Code *ResponseCode // nil when the response has none
	Text string
}

// Err returns an *Error for a NO, BAD or BYE response and nil otherwise.
func (r *StatusResponse) Err() error {
	switch r.Type {
	case StatusNO, StatusBAD, StatusBYE:
		return &Error{Type: r.Type, Code: r.Code, Text: r.Text}
	}
	return nil
}

// Error is a NO or BAD response (or a BYE) as a Go error, with its response
// code and human-readable text. A client returns one for a command that
// failed; a server backend may return one to choose the reply sent. Match it
// with errors.As:
//
//	var e *imap.Error
//	if errors.As(err, &e) && e.Code.Is(imap.CodeTryCreate) { ... }
type Error struct {
	Type StatusType    // StatusNO, StatusBAD or StatusBYE
	Code *ResponseCode // nil when none
	Text string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("imap: ")
	b.WriteString(string(e.Type))
	if e.Code != nil {
		b.WriteString(" [")
		b.WriteString(e.Code.String())
		b.WriteString("]")
	}
	if e.Text != "" {
		b.WriteString(" ")
		b.WriteString(e.Text)
	}
	return b.String()
}

// Temporary reports whether trying again later may succeed: the response
// code is one of RFC 5530's transient conditions (UNAVAILABLE, INUSE,
// LIMIT, SERVERBUG... see Code.Temporary).
func (e *Error) Temporary() bool {
	return e.Code != nil && e.Code.Code.Temporary()
}

// SyntaxError reports input that does not follow the RFC 3501 §9 grammar
// for What ("sequence set", "date-time", "search key"...).
type SyntaxError struct {
	What  string
	Input string // the offending text, possibly cut short
	Msg   string
}

func (e *SyntaxError) Error() string {
	in := e.Input
	if len(in) > 64 {
		in = in[:64] + "..."
	}
	return fmt.Sprintf("imap: invalid %s %q: %s", e.What, in, e.Msg)
}
