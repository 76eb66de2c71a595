package smtp

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BodyType is the value of the MAIL BODY= parameter.
type BodyType string

const (
	// Body7Bit: RFC 6152 §2, 7-bit data.
	Body7Bit BodyType = "7BIT"
	// Body8BitMIME: RFC 6152 §2, 8-bit MIME data in lines.
	Body8BitMIME BodyType = "8BITMIME"
	// BodyBinaryMIME: RFC 3030 §3, binary MIME; only with BDAT.
	BodyBinaryMIME BodyType = "BINARYMIME"
)

// DSNReturn is the value of the MAIL RET= parameter (RFC 3461 §4.3).
type DSNReturn string

const (
	// ReturnFull asks for the full message in a failure DSN.
	ReturnFull DSNReturn = "FULL"
	// ReturnHeaders asks for the headers only.
	ReturnHeaders DSNReturn = "HDRS"
)

// DSNNotify is one value of the RCPT NOTIFY= parameter (RFC 3461 §4.1).
type DSNNotify string

const (
	// NotifyNever: send no DSN for this recipient; not combined with others.
	NotifyNever DSNNotify = "NEVER"
	// NotifySuccess: a DSN on successful delivery.
	NotifySuccess DSNNotify = "SUCCESS"
	// NotifyFailure: a DSN on failure.
	NotifyFailure DSNNotify = "FAILURE"
	// NotifyDelay: a DSN when delivery is delayed.
	NotifyDelay DSNNotify = "DELAY"
)

// MailOptions are the ESMTP parameters of a MAIL command.
type MailOptions struct {
	// Size is the SIZE= estimate (RFC 1870), 0 when absent.
	Size int64
	// Body is the BODY= value (RFC 6152, RFC 3030), "" when absent.
	Body BodyType
	// UTF8 is set by the SMTPUTF8 parameter (RFC 6531 §3.4).
	UTF8 bool
	// Return is the RET= value (RFC 3461 §4.3), "" when absent.
	Return DSNReturn
	// EnvelopeID is the ENVID= value, xtext-decoded (RFC 3461 §4.4).
	EnvelopeID string
	// Auth is the AUTH= value (RFC 4954 §5), xtext-decoded: nil when absent,
	// "" for AUTH=<>.
	Auth *string
}

// RcptOptions are the ESMTP parameters of a RCPT command.
type RcptOptions struct {
	// Notify lists the NOTIFY= values (RFC 3461 §4.1), nil when absent.
	Notify []DSNNotify
	// OriginalRecipientType is the address type of ORCPT= (RFC 3461 §4.2),
	// usually "rfc822"; "" when absent.
	OriginalRecipientType string
	// OriginalRecipient is the xtext-decoded address of ORCPT=.
	OriginalRecipient string
}

// ErrParamSyntax is wrapped by parameter parse errors (reply 501 5.5.4).
var ErrParamSyntax = errors.New("smtp: malformed parameter")

// errUnknownParam is wrapped for a parameter not recognised (reply 555 5.5.4).
var errUnknownParam = errors.New("smtp: unsupported parameter")

func paramError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrParamSyntax}, args...)...)
}

// splitParams splits "KEY=value KEY2" into keyword/value pairs (RFC 5321
// §4.1.2 esmtp-param). Keywords are upper-cased. A value holds no space, "=" or
// control character; non-ASCII only when utf8 (RFC 6531 §3.3).
func splitParams(s string, each func(key, value string, hasValue bool) error) error {
	if s == "" {
		return nil
	}
	seen := map[string]string{}
	for _, f := range strings.Fields(s) {
		key, value, hasValue := strings.Cut(f, "=")
		if key == "" {
			return paramError("empty keyword in %q", f)
		}
		for i := 0; i < len(key); i++ {
			c := key[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
				return paramError("bad keyword %q", key)
			}
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < 33 || c == '=' || c == 127 {
				return paramError("bad value for %s", key)
			}
		}
		if hasValue && value == "" {
			return paramError("empty value for %s", key)
		}
		key = strings.ToUpper(key)
		if prev, dup := seen[key]; dup {
			// Lenient: some clients (Python's smtplib) repeat SMTPUTF8; an
			// exact repeat changes nothing.
			if !strings.EqualFold(prev, f) {
				return paramError("duplicate parameter %s", key)
			}
			continue
		}
		seen[key] = f
		if err := each(key, value, hasValue); err != nil {
			return err
		}
	}
	return nil
}

// parseMailParams parses the parameters of MAIL FROM.
func parseMailParams(s string) (*MailOptions, error) {
	o := &MailOptions{}
	err := splitParams(s, func(key, value string, hasValue bool) error {
		if key != "SMTPUTF8" && !hasValue {
			return paramError("%s needs a value", key)
		}
		switch key {
		case "SIZE":
			// RFC 1870 §3: size-value = 1*20DIGIT
			if value == "" || len(value) > 20 || strings.Trim(value, "0123456789") != "" {
				return paramError("bad SIZE %q", value)
			}
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				// Twenty digits may exceed int64: larger than any limit.
				n = math.MaxInt64
			}
			o.Size = n
		case "BODY":
			switch b := BodyType(strings.ToUpper(value)); b {
			case Body7Bit, Body8BitMIME, BodyBinaryMIME:
				o.Body = b
			default:
				return paramError("bad BODY %q", value)
			}
		case "SMTPUTF8":
			if hasValue {
				return paramError("SMTPUTF8 takes no value")
			}
			o.UTF8 = true
		case "RET":
			switch r := DSNReturn(strings.ToUpper(value)); r {
			case ReturnFull, ReturnHeaders:
				o.Return = r
			default:
				return paramError("bad RET %q", value)
			}
		case "ENVID":
			id, err := DecodeXtext(value)
			// RFC 3461 §4.4: at most 100 characters.
			if err != nil || len(value) > 100 {
				return paramError("bad ENVID")
			}
			o.EnvelopeID = id
		case "AUTH":
			a := ""
			if value != "<>" {
				var err error
				if a, err = DecodeXtext(value); err != nil {
					return paramError("bad AUTH")
				}
			}
			o.Auth = &a
		default:
			return fmt.Errorf("%w %s", errUnknownParam, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// parseRcptParams parses the parameters of RCPT TO.
func parseRcptParams(s string) (*RcptOptions, error) {
	o := &RcptOptions{}
	err := splitParams(s, func(key, value string, hasValue bool) error {
		if !hasValue {
			return paramError("%s needs a value", key)
		}
		switch key {
		case "NOTIFY":
			// RFC 3461 §4.1: "NEVER" or a list of SUCCESS, FAILURE, DELAY.
			for _, v := range strings.Split(value, ",") {
				n := DSNNotify(strings.ToUpper(v))
				switch n {
				case NotifyNever, NotifySuccess, NotifyFailure, NotifyDelay:
				default:
					return paramError("bad NOTIFY %q", v)
				}
				for _, seen := range o.Notify {
					if seen == n {
						return paramError("duplicate NOTIFY %s", n)
					}
				}
				o.Notify = append(o.Notify, n)
			}
			if len(o.Notify) > 1 {
				for _, n := range o.Notify {
					if n == NotifyNever {
						return paramError("NOTIFY=NEVER combined with other values")
					}
				}
			}
		case "ORCPT":
			// RFC 3461 §4.2: addr-type ";" xtext
			typ, addr, ok := strings.Cut(value, ";")
			if !ok || typ == "" || addr == "" {
				return paramError("bad ORCPT")
			}
			dec, err := DecodeXtext(addr)
			if err != nil {
				return paramError("bad ORCPT: %v", err)
			}
			o.OriginalRecipientType = typ
			o.OriginalRecipient = dec
		default:
			return fmt.Errorf("%w %s", errUnknownParam, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// appendMailParams appends " KEY=value" for each set option. It fails when a
// value cannot be sent.
func appendMailParams(b []byte, o *MailOptions) ([]byte, error) {
	if o == nil {
		return b, nil
	}
	if o.Size < 0 {
		return b, paramError("negative SIZE")
	}
	if o.Size > 0 {
		b = append(b, " SIZE="...)
		b = strconv.AppendInt(b, o.Size, 10)
	}
	switch o.Body {
	case "":
	case Body7Bit, Body8BitMIME, BodyBinaryMIME:
		b = append(b, " BODY="...)
		b = append(b, o.Body...)
	default:
		return b, paramError("bad BODY %q", o.Body)
	}
	if o.UTF8 {
		b = append(b, " SMTPUTF8"...)
	}
	switch o.Return {
	case "":
	case ReturnFull, ReturnHeaders:
		b = append(b, " RET="...)
		b = append(b, o.Return...)
	default:
		return b, paramError("bad RET %q", o.Return)
	}
	if o.EnvelopeID != "" {
		x := EncodeXtext(o.EnvelopeID)
		if len(x) > 100 {
			return b, paramError("ENVID longer than 100 characters")
		}
		b = append(b, " ENVID="...)
		b = append(b, x...)
	}
	if o.Auth != nil {
		b = append(b, " AUTH="...)
		if *o.Auth == "" {
			b = append(b, "<>"...)
		} else {
			b = append(b, EncodeXtext(*o.Auth)...)
		}
	}
	return b, nil
}

// appendRcptParams appends the RCPT parameters of o.
func appendRcptParams(b []byte, o *RcptOptions) ([]byte, error) {
	if o == nil {
		return b, nil
	}
	if len(o.Notify) > 0 {
		b = append(b, " NOTIFY="...)
		for i, n := range o.Notify {
			switch n {
			case NotifyNever, NotifySuccess, NotifyFailure, NotifyDelay:
			default:
				return b, paramError("bad NOTIFY %q", n)
			}
			if n == NotifyNever && len(o.Notify) > 1 {
				return b, paramError("NOTIFY=NEVER combined with other values")
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, n...)
		}
	}
	if o.OriginalRecipient != "" {
		typ := o.OriginalRecipientType
		if typ == "" {
			typ = "rfc822"
		}
		for i := 0; i < len(typ); i++ {
			if c := typ[i]; c <= ' ' || c >= 127 || c == ';' || c == '=' || c == '+' {
				return b, paramError("bad ORCPT address type %q", typ)
			}
		}
		b = append(b, " ORCPT="...)
		b = append(b, typ...)
		b = append(b, ';')
		b = append(b, EncodeXtext(o.OriginalRecipient)...)
	}
	return b, nil
}

// EncodeXtext encodes s as RFC 3461 §4 xtext: "+" followed by two upper-case
// hex digits for "+", "=" and any byte outside "!" to "~".
func EncodeXtext(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '+' || c == '=' {
			b.WriteByte('+')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// DecodeXtext decodes RFC 3461 §4 xtext. It accepts lower-case hex digits,
// which some clients send; it refuses a "+" not followed by two hex digits and
// any character outside "!" to "~" other than "=". Raw UTF-8 is accepted when it
// is valid (RFC 6533 utf-8-addr-xtext).
func DecodeXtext(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) {
				return "", errors.New("smtp: truncated xtext hexchar")
			}
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", errors.New("smtp: bad xtext hexchar")
			}
			b.WriteByte(h<<4 | l)
			i += 2
		case c >= 33 && c <= 126 && c != '=':
			b.WriteByte(c)
		case c >= 0x80:
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("smtp: bad character %q in xtext", c)
		}
	}
	if !utf8.ValidString(s) {
		return "", errors.New("smtp: xtext is not valid UTF-8")
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
