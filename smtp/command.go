package smtp

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// parseCommand splits a command line into its upper-cased verb and the
// argument after the first space (RFC 5321 §4.1.1: verbs are case-insensitive).
// Trailing spaces are removed from the argument.
func parseCommand(line string) (verb, arg string) {
	verb, arg, _ = strings.Cut(line, " ")
	return strings.ToUpper(verb), strings.TrimRight(arg, " \t")
}

// cutPrefixFold removes prefix from s, ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// parseMailArg parses the argument of "MAIL FROM:<path> params". The path may
// hold non-ASCII characters only when the SMTPUTF8 parameter is given.
func parseMailArg(arg string) (Mailbox, *MailOptions, error) {
	rest, ok := cutPrefixFold(arg, "FROM:")
	if !ok {
		return Mailbox{}, nil, pathError("expected FROM:<address>")
	}
	path, params, err := splitPath(rest)
	if err != nil {
		return Mailbox{}, nil, err
	}
	opts, err := parseMailParams(params)
	if err != nil {
		return Mailbox{}, nil, err
	}
	m, err := ParsePath(path, opts.UTF8)
	if err != nil {
		return Mailbox{}, nil, nonASCIIPathErr(path, opts.UTF8, err)
	}
	return m, opts, nil
}

// errNonASCII: a path that would be valid with SMTPUTF8 came without it; RFC
// 6531 §3.5 answers 550 (MAIL) or 553 (RCPT) with 5.6.7.
var errNonASCII = errors.New("non-ASCII address without SMTPUTF8")

// nonASCIIPathErr returns err, or an error wrapping errNonASCII when path is
// only invalid because SMTPUTF8 is missing.
func nonASCIIPathErr(path string, utf8 bool, err error) error {
	if !utf8 && hasNonASCII(path) {
		if _, e := ParsePath(path, true); e == nil {
			return fmt.Errorf("%w: %w", ErrPathSyntax, errNonASCII)
		}
	}
	return err
}

// parseRcptArg parses the argument of "RCPT TO:<path> params"; utf8 says
// whether the transaction's MAIL had SMTPUTF8.
func parseRcptArg(arg string, utf8 bool) (Mailbox, *RcptOptions, error) {
	rest, ok := cutPrefixFold(arg, "TO:")
	if !ok {
		return Mailbox{}, nil, pathError("expected TO:<address>")
	}
	path, params, err := splitPath(rest)
	if err != nil {
		return Mailbox{}, nil, err
	}
	m, err := ParsePath(path, utf8)
	if err != nil {
		return Mailbox{}, nil, nonASCIIPathErr(path, utf8, err)
	}
	if m.IsNull() {
		return Mailbox{}, nil, pathError("null forward-path")
	}
	opts, err := parseRcptParams(params)
	if err != nil {
		return Mailbox{}, nil, err
	}
	return m, opts, nil
}

// FormatMail returns the MAIL command line (without CR LF) for from and opts.
func FormatMail(from Mailbox, opts *MailOptions) (string, error) {
	return formatMail(from, opts, false)
}

// formatMail is FormatMail; parsed says from comes from ParseMailbox or
// ParsePath and needs no second check.
func formatMail(from Mailbox, opts *MailOptions, parsed bool) (string, error) {
	if !opts.utf8() && (hasNonASCII(from.Local) || hasNonASCII(from.Domain)) {
		return "", pathError("non-ASCII address %q needs SMTPUTF8", from.String())
	}
	if !parsed {
		if err := checkMailboxChars(from); err != nil {
			return "", err
		}
	}
	b := []byte("MAIL FROM:" + from.Path())
	b, err := appendMailParams(b, opts)
	return string(b), err
}

// FormatRcpt returns the RCPT command line (without CR LF) for to and opts.
// utf8 says whether the transaction uses SMTPUTF8.
func FormatRcpt(to Mailbox, opts *RcptOptions, utf8 bool) (string, error) {
	return formatRcpt(to, opts, utf8, false)
}

// formatRcpt is FormatRcpt; parsed says to comes from ParseMailbox or
// ParsePath and needs no second check.
func formatRcpt(to Mailbox, opts *RcptOptions, utf8, parsed bool) (string, error) {
	if to.IsNull() {
		return "", pathError("null forward-path")
	}
	if !utf8 && (hasNonASCII(to.Local) || hasNonASCII(to.Domain)) {
		return "", pathError("non-ASCII address %q needs SMTPUTF8", to.String())
	}
	if !parsed {
		if err := checkMailboxChars(to); err != nil {
			return "", err
		}
	}
	b := []byte("RCPT TO:" + to.Path())
	b, err := appendRcptParams(b, opts)
	return string(b), err
}

func (o *MailOptions) utf8() bool { return o != nil && o.UTF8 }

// checkMailboxChars refuses control characters that would break the command
// line (strict in what we generate).
func checkMailboxChars(m Mailbox) error {
	if m.IsNull() {
		return nil
	}
	if _, err := ParseMailbox(m.String(), true); err != nil {
		return err
	}
	return nil
}

// parseBDAT parses "chunk-size [ SP end-marker ]" (RFC 3030 §2).
func parseBDAT(arg string) (size int64, last bool, ok bool) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 || len(f[0]) > 20 {
		return 0, false, false
	}
	for _, c := range []byte(f[0]) {
		if c < '0' || c > '9' {
			return 0, false, false
		}
		// Refuse sizes beyond int64 before they wrap: "BDAT
		// 20000000000000000000" must not become a smaller size that would
		// put the server out of step with the client.
		if size > (math.MaxInt64-int64(c-'0'))/10 {
			return 0, false, false
		}
		size = size*10 + int64(c-'0')
	}
	if len(f) == 2 {
		if !strings.EqualFold(f[1], "LAST") {
			return 0, false, false
		}
		last = true
	}
	return size, last, true
}
