package smtp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailwire/mailwire/internal/textline"
)

// EnhancedCode is an RFC 3463 enhanced mail system status code,
// class.subject.detail, such as 5.1.1. The zero value means "no enhanced code".
type EnhancedCode struct {
	Class, Subject, Detail int
}

// NoEnhancedCode is the zero EnhancedCode: the reply carries none.
var NoEnhancedCode EnhancedCode

// IsZero reports whether c is NoEnhancedCode.
func (c EnhancedCode) IsZero() bool { return c == EnhancedCode{} }

// String formats c as "class.subject.detail", or "" for the zero code.
func (c EnhancedCode) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.Itoa(c.Class) + "." + strconv.Itoa(c.Subject) + "." + strconv.Itoa(c.Detail)
}

// valid reports whether c follows RFC 3463 §2: class 2, 4 or 5, subject and
// detail of one to three digits.
func (c EnhancedCode) valid() bool {
	return (c.Class == 2 || c.Class == 4 || c.Class == 5) &&
		c.Subject >= 0 && c.Subject <= 999 && c.Detail >= 0 && c.Detail <= 999
}

// ParseEnhancedCode parses "class.subject.detail" (RFC 3463 §2).
func ParseEnhancedCode(s string) (EnhancedCode, error) {
	// Parsed in place: it runs on every reply line a client reads.
	var n [3]int
	part, digits := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			// RFC 3463 §2: class is one digit, subject and detail 1*3digit.
			if digits++; digits > 3 || part == 0 && digits > 1 {
				return EnhancedCode{}, fmt.Errorf("smtp: malformed enhanced status code %q", s)
			}
			n[part] = n[part]*10 + int(c-'0')
		case c == '.' && digits > 0 && part < 2:
			part, digits = part+1, 0
		default:
			return EnhancedCode{}, fmt.Errorf("smtp: malformed enhanced status code %q", s)
		}
	}
	if part != 2 || digits == 0 {
		return EnhancedCode{}, fmt.Errorf("smtp: malformed enhanced status code %q", s)
	}
	c := EnhancedCode{n[0], n[1], n[2]}
	if !c.valid() {
		return EnhancedCode{}, fmt.Errorf("smtp: enhanced status code %q has an invalid class", s)
	}
	return c, nil
}

// Error is an SMTP error reply: a 4xx (transient) or 5xx (permanent) reply code,
// an optional RFC 3463 enhanced status code and a human-readable message.
//
// Servers: a Session method returning an *Error has it sent as the reply. Clients:
// error replies come back as *Error, to be inspected with errors.As.
type Error struct {
	Code         int
	EnhancedCode EnhancedCode
	// Message is the reply text. Lines are separated by "\n"; each becomes a
	// line of a multi-line reply.
	Message string
}

// Error formats e as "smtp: 550 5.1.1 message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("smtp: ")
	b.WriteString(strconv.Itoa(e.Code))
	if !e.EnhancedCode.IsZero() {
		b.WriteByte(' ')
		b.WriteString(e.EnhancedCode.String())
	}
	if e.Message != "" {
		b.WriteByte(' ')
		b.WriteString(strings.ReplaceAll(e.Message, "\n", " "))
	}
	return b.String()
}

// Temporary reports whether e is a transient failure (4xx, RFC 5321 §4.2.1):
// the same command may succeed later.
func (e *Error) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// Permanent reports whether e is a permanent failure (5xx): repeating the same
// command will fail again.
func (e *Error) Permanent() bool { return e.Code >= 500 && e.Code < 600 }

// IsTemporary reports whether err is, or wraps, an *Error with a 4xx code.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary()
}

// IsPermanent reports whether err is, or wraps, an *Error with a 5xx code.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent()
}

// Errors a Session may return; each is sent as it is.
var (
	// ErrAuthRequired: RFC 4954 §6: 530 5.7.0 Authentication required.
	ErrAuthRequired = &Error{Code: 530, EnhancedCode: EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	// ErrRelayDenied: RFC 5321 §3.6.2 / RFC 3463 X.7.1: the server does not relay
	// for this recipient.
	ErrRelayDenied = &Error{Code: 554, EnhancedCode: EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	// ErrNoSuchUser: RFC 3463 X.1.1: bad destination mailbox address.
	ErrNoSuchUser = &Error{Code: 550, EnhancedCode: EnhancedCode{5, 1, 1}, Message: "No such user"}
	// ErrMailboxFull: RFC 3463 X.2.2, transient.
	ErrMailboxFull = &Error{Code: 452, EnhancedCode: EnhancedCode{4, 2, 2}, Message: "Mailbox full"}
	// ErrTryLater: a generic transient failure.
	ErrTryLater = &Error{Code: 451, EnhancedCode: EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
)

// Reply is one reply read from an SMTP server, possibly of several lines.
type Reply struct {
	Code int
	// EnhancedCode is the RFC 3463 code found at the start of the first line's
	// text, or zero. When present it is removed from the front of each line.
	EnhancedCode EnhancedCode
	// Lines holds the text of each line, without code, separator and ending.
	Lines []string
}

// Message returns the reply's lines joined with "\n".
func (r *Reply) Message() string { return strings.Join(r.Lines, "\n") }

// Err returns nil for a 1xx, 2xx or 3xx reply and an *Error otherwise.
func (r *Reply) Err() error {
	if r.Code < 400 {
		return nil
	}
	return &Error{Code: r.Code, EnhancedCode: r.EnhancedCode, Message: r.Message()}
}

// MaxReplyLines bounds the number of lines in one reply that ReadReply accepts.
const MaxReplyLines = 1000

// DefaultReplyLineLength is the longest reply line ReadReply reads by default.
// RFC 5321 §4.5.3.1.5 allows 512 octets; servers exceed that in the wild.
const DefaultReplyLineLength = 4096

var errReplySyntax = errors.New("smtp: malformed reply")

// ReadReply reads one reply from br, accepting lines of at most
// DefaultReplyLineLength bytes ending in CR LF (a bare LF is tolerated).
// A malformed reply yields an error wrapping the offending line.
func ReadReply(br *bufio.Reader) (*Reply, error) {
	return readReply(textline.NewReader(br, DefaultReplyLineLength))
}

// readReply reads one reply (RFC 5321 §4.2): lines "ddd-text" followed by a last
// line "ddd text" or "ddd", all with the same code.
func readReply(r *textline.Reader) (*Reply, error) {
	rep := &Reply{}
	enhanced := true
	for n := 0; ; n++ {
		if n >= MaxReplyLines {
			return nil, fmt.Errorf("%w: more than %d lines", errReplySyntax, MaxReplyLines)
		}
		line, end, err := r.ReadLine()
		if err != nil {
			if errors.Is(err, textline.ErrLineTooLong) {
				return nil, fmt.Errorf("%w: line longer than %d bytes", errReplySyntax, r.Max())
			}
			if errors.Is(err, io.EOF) && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if end == textline.EndNone {
			return nil, io.ErrUnexpectedEOF
		}
		code, last, text, ok := parseReplyLine(line)
		if !ok {
			return nil, fmt.Errorf("%w: %q", errReplySyntax, truncate(line, 80))
		}
		if n == 0 {
			rep.Code = code
		} else if code != rep.Code {
			return nil, fmt.Errorf("%w: code %d in a %d reply", errReplySyntax, code, rep.Code)
		}
		// RFC 2034 §4: each line of the reply starts with the enhanced code.
		if enhanced {
			ec, rest, ok := cutEnhancedCode(text, code)
			switch {
			case ok && n == 0:
				rep.EnhancedCode = ec
				text = rest
			case ok && ec == rep.EnhancedCode:
				text = rest
			case n == 0:
				enhanced = false
			}
		}
		rep.Lines = append(rep.Lines, text)
		if last {
			return rep, nil
		}
	}
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// parseReplyLine splits "250-text", "250 text" or "250".
func parseReplyLine(line []byte) (code int, last bool, text string, ok bool) {
	if len(line) < 3 {
		return 0, false, "", false
	}
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return 0, false, "", false
		}
		code = code*10 + int(c-'0')
	}
	// RFC 5321 §4.2: the first digit is 2-5; 1yz is reserved but allowed.
	if line[0] < '1' || line[0] > '5' {
		return 0, false, "", false
	}
	if len(line) == 3 {
		return code, true, "", true
	}
	switch line[3] {
	case ' ':
		return code, true, string(line[4:]), true
	case '-':
		return code, false, string(line[4:]), true
	}
	return 0, false, "", false
}

// cutEnhancedCode removes a leading enhanced status code of the reply's class
// from text.
func cutEnhancedCode(text string, code int) (EnhancedCode, string, bool) {
	word, rest, _ := strings.Cut(text, " ")
	if len(word) < 5 || word[0] != byte('0'+code/100) {
		return EnhancedCode{}, text, false
	}
	ec, err := ParseEnhancedCode(word)
	if err != nil {
		return EnhancedCode{}, text, false
	}
	return ec, rest, true
}

// writeReply writes a reply. Each "\n"-separated line of text becomes one reply
// line; CR and other control bytes are replaced so text can never inject a line.
// The enhanced code, when not zero, starts every line (RFC 2034 §4).
func writeReply(w *bufio.Writer, code int, ec EnhancedCode, text string) {
	var num [3]byte
	codeBytes := strconv.AppendInt(num[:0], int64(code), 10)
	for more := true; more; {
		var l string
		l, text, more = strings.Cut(text, "\n")
		w.Write(codeBytes)
		if more {
			w.WriteByte('-')
		} else {
			w.WriteByte(' ')
		}
		if !ec.IsZero() {
			var buf [16]byte
			b := strconv.AppendInt(buf[:0], int64(ec.Class), 10)
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(ec.Subject), 10)
			b = append(b, '.')
			b = strconv.AppendInt(b, int64(ec.Detail), 10)
			w.Write(b)
			if l != "" {
				w.WriteByte(' ')
			}
		}
		clean := true
		for j := 0; j < len(l); j++ {
			if c := l[j]; c < ' ' && c != '\t' || c == 0x7f {
				clean = false
				break
			}
		}
		if clean {
			w.WriteString(l)
		} else {
			for j := 0; j < len(l); j++ {
				c := l[j]
				if c < ' ' && c != '\t' || c == 0x7f {
					c = ' '
				}
				w.WriteByte(c)
			}
		}
		w.WriteString("\r\n")
	}
}

// FormatReply returns the wire form of a reply, for tests and logs.
func FormatReply(code int, ec EnhancedCode, text string) string {
	var b strings.Builder
	w := bufio.NewWriter(&b)
	writeReply(w, code, ec, text)
	w.Flush()
	return b.String()
}
