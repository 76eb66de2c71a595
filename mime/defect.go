package mime

import "fmt"

// DefectKind classifies a malformation that the reader tolerated.
type DefectKind uint8

// Defect kinds. Lenient parsing never hides data: each repair the parsers make
// is recorded as a Defect so that callers can flag or reject the message.
const (
	DefectSyntax             DefectKind = iota + 1 // unparsable text skipped or repaired
	DefectMissingSemicolon                         // parameters not separated by ';'
	DefectTrailingSemicolon                        // ';' with no parameter after it
	DefectDuplicateParam                           // a parameter given twice; the first is kept
	DefectUnquotedSpecials                         // a value with tspecials or spaces not quoted
	DefectUnterminatedQuote                        // a quoted-string without its closing quote
	DefectEncodedWordParam                         // an RFC 2047 encoded-word in a parameter value
	DefectContinuation                             // RFC 2231 continuations missing or out of range
	DefectBadPercent                               // RFC 2231 bad %XX escape
	DefectUnknownCharset                           // a charset the table does not know
	DefectBadBase64                                // characters outside the base64 alphabet skipped
	DefectBase64Padding                            // base64 missing or misplaced padding
	DefectBadQuotedPrintable                       // '=' not followed by two hex digits or a line end
	DefectMissingBoundary                          // a multipart without boundary parameter
	DefectBadBoundary                              // a boundary longer than 70 characters or with bad characters
	DefectMissingEndBoundary                       // a multipart not closed by its close-delimiter
	DefectNoParts                                  // a multipart with no body part at all
	DefectDepth                                    // nesting deeper than the limit; the rest is read as a leaf
	DefectHeader                                   // a header repaired, or cut at Limits.Header (the rest skipped)
	DefectTruncated                                // a preamble or epilogue longer than its limit was cut
	DefectBadEncoding                              // an unknown Content-Transfer-Encoding, read as binary
	DefectAddress                                  // an address list entry repaired or left out (Envelope)
	DefectDuplicateField                           // Content-Type, -Disposition or -Transfer-Encoding given twice; the first is used
)

var defectNames = [...]string{
	DefectSyntax:             "syntax",
	DefectMissingSemicolon:   "missing semicolon",
	DefectTrailingSemicolon:  "trailing semicolon",
	DefectDuplicateParam:     "duplicate parameter",
	DefectUnquotedSpecials:   "unquoted specials",
	DefectUnterminatedQuote:  "unterminated quote",
	DefectEncodedWordParam:   "encoded-word in parameter",
	DefectContinuation:       "bad RFC 2231 continuation",
	DefectBadPercent:         "bad RFC 2231 percent escape",
	DefectUnknownCharset:     "unknown charset",
	DefectBadBase64:          "bad base64",
	DefectBase64Padding:      "base64 padding",
	DefectBadQuotedPrintable: "bad quoted-printable",
	DefectMissingBoundary:    "missing boundary",
	DefectBadBoundary:        "bad boundary",
	DefectMissingEndBoundary: "missing end boundary",
	DefectNoParts:            "no body parts",
	DefectDepth:              "nesting too deep",
	DefectHeader:             "bad header",
	DefectTruncated:          "truncated",
	DefectBadEncoding:        "unknown transfer encoding",
	DefectAddress:            "bad address",
	DefectDuplicateField:     "duplicate field",
}

// String returns a short description of the kind.
func (k DefectKind) String() string {
	if int(k) < len(defectNames) && defectNames[k] != "" {
		return defectNames[k]
	}
	return fmt.Sprintf("DefectKind(%d)", k)
}

// A Defect is a malformation found and tolerated while parsing.
type Defect struct {
	Kind   DefectKind
	Detail string // what was found, for humans
}

// String returns the kind and the detail.
func (d Defect) String() string {
	if d.Detail == "" {
		return d.Kind.String()
	}
	return d.Kind.String() + ": " + d.Detail
}
