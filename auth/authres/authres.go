package authres

import (
	"errors"
	"fmt"
)

// FieldName is the name of the header field (RFC 8601 §2.1).
const FieldName = "Authentication-Results"

// Authentication methods registered in the IANA "Email Authentication
// Methods" registry (RFC 8601 §2.7, §6). Method names are
// case-insensitive; Parse returns them in lower case.
const (
	MethodAuth       = "auth"       // SMTP AUTH, RFC 8601 §2.7.4
	MethodDKIM       = "dkim"       // RFC 6376, RFC 8601 §2.7.1
	MethodDKIMADSP   = "dkim-adsp"  // RFC 5617 (historic)
	MethodDKIMATPS   = "dkim-atps"  // RFC 6541
	MethodDMARC      = "dmarc"      // RFC 7489 §11.2
	MethodDomainKeys = "domainkeys" // RFC 4870 (deprecated)
	MethodSPF        = "spf"        // RFC 7208, RFC 8601 §2.7.2
	MethodIPRev      = "iprev"      // RFC 8601 §3
	MethodARC        = "arc"        // RFC 8617
	MethodSenderID   = "sender-id"  // RFC 4406 (deprecated)
	MethodSMIME      = "smime"      // RFC 7281
	MethodVBR        = "vbr"        // RFC 6212
	MethodRRVS       = "rrvs"       // RFC 7293
	MethodDNSWL      = "dnswl"      // RFC 8904
)

// Result values registered in the IANA "Email Authentication Result
// Names" registry (RFC 8601 §2.7, §6.7). Not every value applies to every
// method: iprev has no none, softfail belongs to spf, hardfail is an
// old spf name for fail. Parse returns them in lower case.
const (
	None      = "none"
	Pass      = "pass"
	Fail      = "fail"
	SoftFail  = "softfail"
	HardFail  = "hardfail"
	Neutral   = "neutral"
	Policy    = "policy"
	TempError = "temperror"
	PermError = "permerror"
	Discard   = "discard"  // dkim-adsp
	NXDomain  = "nxdomain" // dkim-adsp
)

// Property types (ptypes) of RFC 8601 §2.3, from the IANA "Email
// Authentication Property Types" registry.
const (
	PTypeSMTP   = "smtp"   // a parameter of an SMTP command
	PTypeHeader = "header" // a header field, or a tag of a DKIM-Signature
	PTypeBody   = "body"   // something from the body
	PTypePolicy = "policy" // a local policy decision (§2.4)
)

// Results is the value of one Authentication-Results field: the
// authentication service identifier, the optional version, and the
// results of the methods applied. An empty Results list is the "none"
// form of RFC 8601 §2.2: the service did no authentication.
type Results struct {
	// AuthServID names the service that did the checks (RFC 8601 §2.5);
	// consumers use it to decide whether to trust the field.
	AuthServID string
	// Version is the authres-version after the identifier: 0 when
	// absent, which means 1 (RFC 8601 §2.2, §2.6).
	Version int
	// Results holds one entry per resinfo, in order.
	Results []Result
}

// Result is one method's result (a resinfo of RFC 8601 §2.2).
type Result struct {
	// Method is the method name: MethodSPF, MethodDKIM, ... or an
	// extension method.
	Method string
	// Version is the method-version: 0 when absent, which means 1
	// (RFC 8601 §2.6). Consumers should ignore results of a method
	// version they do not know.
	Version int
	// Value is the result: Pass, Fail, None, ...
	Value string
	// Reason is the text of "reason=", empty when there is none.
	Reason string
	// Comment holds the text of the comments found in the resinfo,
	// unquoted and joined with a space; Format writes it after the
	// result in parentheses. Comments around the authserv-id are not
	// kept.
	Comment string
	// Properties are the ptype.property=value statements, in order.
	Properties []Property
}

// Property is a "ptype.property=value" statement (RFC 8601 §2.3): which
// property of the message a method evaluated, and its value.
type Property struct {
	// Type is the ptype: PTypeSMTP, PTypeHeader, PTypeBody or
	// PTypePolicy. Parse accepts a bare "name=value" as found in some
	// fields in the wild (Microsoft's "action=none"), which RFC 8601
	// does not define; Type is empty for it, and Format writes it back
	// as it was.
	Type string
	// Name is the property: "mailfrom", "helo", "d", "i", "from", ...
	Name string
	// Value is the pvalue, unquoted: a domain, an address, "@domain",
	// or any other value.
	Value string
}

// Get returns the value of the first property of r with the given ptype
// and name (compared case-insensitively), and whether there is one.
func (r *Result) Get(ptype, name string) (string, bool) {
	for _, p := range r.Properties {
		if equalFold(p.Type, ptype) && equalFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// ErrUnknownVersion is wrapped by the *SyntaxError Parse returns for an
// authres-version other than 1: RFC 8601 §2.6 lets a parser stop there,
// since what follows may be in another format. The *Results returned
// with it holds AuthServID and Version.
var ErrUnknownVersion = errors.New("authres: unknown Authentication-Results version")

// SyntaxError reports a malformed Authentication-Results value: what is
// wrong and the byte offset where Parse found it.
type SyntaxError struct {
	Offset int    // byte offset into the value
	Msg    string // what is wrong
	Err    error  // ErrUnknownVersion, or nil
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("authres: syntax error at offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns Err.
func (e *SyntaxError) Unwrap() error { return e.Err }

// FormatError reports a Results that Format cannot write: a keyword
// that is not one, or a value holding a CR, LF or other control
// character or invalid UTF-8 (which would allow header injection).
type FormatError struct {
	What  string // "authserv-id", "method", "result", "reason", "ptype", "property", "value" or "comment"
	Value string // the offending text
	Msg   string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("authres: cannot format %s %q: %s", e.What, e.Value, e.Msg)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
