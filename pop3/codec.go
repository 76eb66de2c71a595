package pop3

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Response codes from RFC 2449 §8 and RFC 3206, sent in brackets at the start of
// a response's text: "-ERR [IN-USE] maildrop already locked".
const (
	// CodeInUse: the maildrop is locked by another session (RFC 2449 §8.1.2).
	CodeInUse = "IN-USE"
	// CodeLoginDelay: the user logged in too recently (RFC 2449 §8.1.1).
	CodeLoginDelay = "LOGIN-DELAY"
	// CodeSysTemp: a temporary system problem; trying later may help (RFC 3206 §4).
	CodeSysTemp = "SYS/TEMP"
	// CodeSysPerm: a permanent system problem (RFC 3206 §4).
	CodeSysPerm = "SYS/PERM"
	// CodeAuth: the credentials were refused (RFC 3206 §5).
	CodeAuth = "AUTH"
)

// Line length limits of RFC 2449 §4, including the terminating CRLF.
const (
	// MaxCommandLine is the longest command line a client may send.
	MaxCommandLine = 255
	// MaxResponseLine is the longest first line of a response (and greeting).
	MaxResponseLine = 512
)

// Error is a -ERR response. Code is the RFC 2449 response code without the
// brackets ("IN-USE", "SYS/TEMP"), empty when the server sent none.
//
// Backends may return an *Error to choose the reply the server sends.
type Error struct {
	Code    string
	Message string
}

// Error formats the response as it appears on the wire, without "-ERR".
func (e *Error) Error() string {
	if e.Code == "" {
		return "pop3: " + e.Message
	}
	return "pop3: [" + e.Code + "] " + e.Message
}

// Temporary reports whether the response code says that trying again later may
// succeed (IN-USE, LOGIN-DELAY, SYS/TEMP and their sub-codes).
func (e *Error) Temporary() bool {
	code := strings.ToUpper(e.Code)
	for _, c := range []string{CodeInUse, CodeLoginDelay, CodeSysTemp} {
		if code == c || strings.HasPrefix(code, c+"/") {
			return true
		}
	}
	return false
}

// Sentinel errors a Session or Maildrop may return; the server maps each to
// its response code.
var (
	// ErrInUse: the maildrop is locked by another session; the server replies
	// -ERR [IN-USE] (RFC 2449 §8.1.2).
	ErrInUse = &Error{Code: CodeInUse, Message: "maildrop already locked"}
	// ErrLoginDelay: the user may not log in yet (RFC 2449 §8.1.1).
	ErrLoginDelay = &Error{Code: CodeLoginDelay, Message: "login delay not yet expired"}
)

// ErrSyntax is wrapped by parse errors of commands and responses.
var ErrSyntax = errors.New("pop3: syntax error")

// Command is one client command line.
type Command struct {
	// Name is the keyword in upper case ("RETR").
	Name string
	// Args are the space separated parameters.
	Args []string
	// Params is everything after the keyword and the space following it,
	// verbatim. RFC 1939 §7 lets a server take PASS's whole argument, spaces
	// included, as the password.
	Params string
}

// String formats the command without its line ending.
func (c Command) String() string {
	if c.Params != "" {
		return c.Name + " " + c.Params
	}
	if len(c.Args) == 0 {
		return c.Name
	}
	return c.Name + " " + strings.Join(c.Args, " ")
}

// ParseCommand parses a command line without its line ending.
//
// RFC 2449 §3: keyword = 3*4VCHAR, params of VCHAR separated by single spaces.
// Parsing is lenient about repeated spaces between parameters and about a
// trailing space, and strict about control characters: a NUL, CR or LF in the
// line is a syntax error. Non-ASCII bytes are allowed in parameters (UTF-8
// passwords). Keywords are case-insensitive.
func ParseCommand(line []byte) (Command, error) {
	var c Command
	if len(line) == 0 {
		return c, fmt.Errorf("%w: empty command", ErrSyntax)
	}
	if i := bytes.IndexAny(line, "\x00\r\n"); i >= 0 {
		return c, fmt.Errorf("%w: control character at offset %d", ErrSyntax, i)
	}
	kw := line
	var rest []byte
	if i := bytes.IndexByte(line, ' '); i >= 0 {
		kw, rest = line[:i], line[i+1:]
	}
	if len(kw) < 3 || len(kw) > 4 {
		return c, fmt.Errorf("%w: keyword %q is not 3 or 4 characters", ErrSyntax, kw)
	}
	for _, b := range kw {
		if b < 0x21 || b > 0x7e {
			return c, fmt.Errorf("%w: bad byte 0x%02x in keyword", ErrSyntax, b)
		}
	}
	c.Name = strings.ToUpper(string(kw))
	c.Params = string(rest)
	for _, f := range bytes.Split(rest, []byte{' '}) {
		if len(f) > 0 {
			c.Args = append(c.Args, string(f))
		}
	}
	return c, nil
}

// Response is the first line of a server response.
type Response struct {
	// OK is true for +OK, false for -ERR.
	OK bool
	// Code is the RFC 2449 response code without brackets, if any.
	Code string
	// Message is the rest of the line after the status and the response code.
	Message string
}

// Err returns nil for +OK and an *Error for -ERR.
func (r Response) Err() error {
	if r.OK {
		return nil
	}
	return &Error{Code: r.Code, Message: r.Message}
}

// String formats the response line without its line ending.
func (r Response) String() string {
	var b strings.Builder
	if r.OK {
		b.WriteString("+OK")
	} else {
		b.WriteString("-ERR")
	}
	if r.Code != "" {
		b.WriteString(" [")
		b.WriteString(r.Code)
		b.WriteString("]")
	}
	if r.Message != "" {
		b.WriteString(" ")
		b.WriteString(r.Message)
	}
	return b.String()
}

// ParseResponse parses the first line of a response, without its line ending.
// The status is matched case-insensitively, as some servers send "+ok". A
// bracketed prefix is taken as a response code only when it follows RFC 2449's
// resp-code syntax; otherwise it stays part of the text.
func ParseResponse(line []byte) (Response, error) {
	var r Response
	var rest []byte
	switch {
	case hasStatus(line, "+OK"):
		r.OK = true
		rest = line[3:]
	case hasStatus(line, "-ERR"):
		rest = line[4:]
	default:
		return r, fmt.Errorf("%w: response %q does not start with +OK or -ERR", ErrSyntax, truncate(line))
	}
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return r, fmt.Errorf("%w: no space after status in %q", ErrSyntax, truncate(line))
		}
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] == '[' {
		if end := bytes.IndexByte(rest, ']'); end > 1 && validRespCode(rest[1:end]) {
			r.Code = string(rest[1:end])
			rest = bytes.TrimPrefix(rest[end+1:], []byte{' '})
		}
	}
	r.Message = string(rest)
	return r, nil
}

func hasStatus(line []byte, status string) bool {
	if len(line) < len(status) || !bytes.EqualFold(line[:len(status)], []byte(status)) {
		return false
	}
	return len(line) == len(status) || line[len(status)] == ' '
}

// validRespCode checks resp-level *("/" resp-level) with rchar =
// printable ASCII excluding "/" and "]".
func validRespCode(code []byte) bool {
	for _, level := range bytes.Split(code, []byte{'/'}) {
		if len(level) == 0 {
			return false
		}
		for _, b := range level {
			if b < 0x21 || b > 0x7e || b == ']' {
				return false
			}
		}
	}
	return true
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// parseCount parses a line count for TOP; counts beyond an int are clamped,
// since they mean "the whole body" either way.
func parseCount(s string) (int, bool) {
	if len(s) == 0 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<30 {
			n = n*10 + int(c-'0')
		}
	}
	return n, true
}

// parseNumber parses a message number or line count: 1*DIGIT, no sign, at
// most 9 digits so that it fits an int everywhere.
func parseNumber(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// apopDigest is the APOP digest of RFC 1939 §7: the MD5 of the timestamp
// (angle brackets included) followed by the shared secret, in lower-case hex.
func apopDigest(timestamp, secret string) string {
	sum := md5.Sum([]byte(timestamp + secret))
	return hex.EncodeToString(sum[:])
}
