// Package authres parses and writes the Authentication-Results header
// field (RFC 8601), through which a receiver records the outcome of
// sender authentication (SPF, DKIM, DMARC, iprev, SMTP AUTH, ...) for
// the agents downstream of it.
//
//	r := &authres.Results{AuthServID: "mx.example.org", Results: []authres.Result{{
//		Method: authres.MethodSPF, Value: authres.Pass,
//		Properties: []authres.Property{{Type: authres.PTypeSMTP, Name: "mailfrom", Value: "example.com"}},
//	}}}
//	if err := r.Validate(); err != nil { ... }
//	h.Prepend(authres.FieldName, r.String()) // message.Header folds it
//
// A Results with no Result is the "none" form: the service did no
// authentication (RFC 8601 §2.2, Appendix B.2).
//
// # What is implemented
//
//   - The grammar of RFC 8601 §2.2: authserv-id (§2.5) and version
//     (§2.6), resinfo with method and method-version, result, reason and
//     ptype.property=pvalue statements (§2.3), and no-result. Comments
//     and folding white space are allowed everywhere the grammar
//     allows CFWS, as in the comment-heavy example of Appendix B.7;
//     every example of Appendix B is a test.
//   - Parse is lenient where real fields depart from the grammar (see
//     its documentation) and reports a *SyntaxError with the byte
//     offset otherwise. A version other than 1 is ErrUnknownVersion
//     (§2.6).
//   - Format writes the value folded to 78-character lines where it
//     can; String writes it on one line. Values are quoted unless they
//     are tokens (or, for properties, local-part@domain forms), and a
//     CR, LF or other control character is a *FormatError from Format
//     and Validate, so no sender-supplied text can inject header
//     fields (§7.1, §7.8). Output parses back to the same Results.
//   - Tested against python3-authres in both directions: it reads what
//     Format and String write, and Parse reads what it writes.
//   - Registered method names (§2.7, §6), result names and ptypes
//     (§2.3) as constants.
//
// # What is not
//
// The package does not decide which fields to trust: removing or
// ignoring fields whose authserv-id claims to be the receiver's own
// (RFC 8601 §5) and keeping fields in order relative to the Received
// fields (§4.1) are left to the caller, who knows its authserv-id.
// Method-specific rules (which ptypes and properties go with which
// method, §6.3) are not checked; unknown methods, results and ptypes
// are parsed like registered ones, for the caller to ignore (§2.3,
// §2.7.6, §2.7.7). Comments before the first ';' are not kept; within
// a resinfo, comments are joined into Result.Comment and lose their
// position. Fields without an authserv-id (starting with
// "method=result", as some large providers write them) are rejected:
// without one a consumer cannot tell whom to trust (§2.5). The iprev
// check itself (§3) is not implemented.
package authres
