// Package imap holds the types an IMAP client and server share (RFC 3501,
// RFC 9051 and extensions): flags, sequence and UID sets, mailbox names,
// status items, search criteria, fetch items, the ENVELOPE and
// BODYSTRUCTURE renderers, dates, capabilities, response codes, and the
// error type for NO and BAD replies. The wire codec is package imapwire.
//
// # Contents
//
//   - Flag and keyword validation (RFC 3501 §2.3.2, §9 flag).
//   - SeqSet and UIDSet (RFC 3501 §9 sequence-set): parse, format,
//     normalise, resolve "*", iterate lazily, and test membership without
//     expanding ranges.
//   - Mailbox names: modified UTF-7 (RFC 3501 §5.1.3) or UTF-8 (RFC 6855
//     §3), hierarchy levels, INBOX case-insensitivity (RFC 3501 §5.1),
//     LIST attributes (RFC 3501 §7.2.2, RFC 5258, RFC 6154).
//   - StatusItem and StatusData (RFC 3501 §6.3.10, RFC 7162 §3.1.6, RFC
//     8438, RFC 7889).
//   - SearchKey, a tree of every RFC 3501 §6.4.4 key plus MODSEQ (RFC
//     7162 §3.1.5) and OLDER/YOUNGER (RFC 5032), and SearchCriteria with a
//     charset. The server-side parser is in imapwire.
//   - FetchItem (RFC 3501 §6.4.5, BINARY of RFC 3516, MODSEQ of RFC 7162):
//     parse and format, in the command's form and the response's.
//   - FormatEnvelope and FormatBodyStructure render mime.Envelope and
//     mime.Structure in IMAP syntax (RFC 3501 §7.4.2), extension data
//     included; imapwire parses them back into the same types.
//   - Date-time and date (RFC 3501 §9 date-time, date).
//   - Capabilities, a case-insensitive set (RFC 3501 §7.2.1).
//   - ResponseCode: RFC 3501 §7.1 codes, RFC 5530's, and APPENDUID and
//     COPYUID (RFC 4315), HIGHESTMODSEQ, NOMODSEQ, MODIFIED, CLOSED (RFC
//     7162), UNKNOWN-CTE (RFC 3516) with typed arguments.
//   - Error, a tagged NO or BAD (or a BYE) as a Go error for errors.As;
//     SyntaxError for input that does not parse.
//
// Values with a wire form write themselves to a Formatter, which the
// imapwire Encoder implements; their String methods use a formatter that
// writes literals in line.
//
// # Not implemented
//
// SEARCHRES's "$" (RFC 5182) in sets, search keys of extensions other than
// CONDSTORE and WITHIN (FUZZY, SAVEDATE, EMAILID...), ANNOTATE and
// METADATA entries, and mailbox-name validation policies (which names a
// server accepts is its own business). ENVELOPE writes an address whose
// header did not parse as NIL, and cannot tell an absent field from an
// empty one (mime.Envelope does not), so both are NIL, which RFC 3501
// §7.4.2 allows clients to treat alike.
package imap
