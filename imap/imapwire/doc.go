// Package imapwire is the IMAP wire codec (RFC 3501 §4, §7, §9; RFC 9051
// §4, §9) that an IMAP client and an IMAP server both build on: a Decoder
// of the protocol's tokens, an Encoder, parsers for every server response,
// and parsers for the arguments of every client command.
//
// # Decoding
//
// A Decoder reads from a bufio.Reader: atoms, quoted strings with their
// escapes, literals "{n}", "{n+}" and "{n-}" (LITERAL+ and LITERAL-, RFC
// 7888), binary literals "~{n}" (RFC 3516), lists, NIL, numbers (32 bits,
// and 63 bits for number64, RFC 9051 §9), astrings, nstrings, flags,
// sequence sets, and mailbox names decoded from modified UTF-7 or UTF-8
// (RFC 6855). Errors are sticky, so parsers chain calls with &&.
//
// Literals stream: Decoder.Literal and NStringReader return a reader over
// the literal's bytes, which the codec never holds whole. Before the bytes
// of a synchronising literal the Decoder calls OnSyncLiteral, where a
// server sends its "+" continuation request or refuses the literal.
//
// Limits bound every read, with defaults (DefaultMaxLine 64 KiB,
// DefaultMaxStringLiteral 1 MiB, DefaultMaxLiteral 64 MiB, DefaultMaxDepth
// 64, DefaultMaxCommand 16 MiB); passing one is a *LimitError (errors.Is
// ErrLimit) before any memory is spent on it. Syntax errors are
// *ParseError values, or *imap.SyntaxError for values such as dates and
// sets.
//
// # Responses
//
// ReadResponse reads one response of any kind into a typed value:
// continuation requests, status responses with their response codes (RFC
// 3501 §7.1, RFC 5530, APPENDUID and COPYUID of RFC 4315, HIGHESTMODSEQ
// and MODIFIED of RFC 7162), CAPABILITY, LIST and LSUB with RFC 5258's
// extended data (CHILDINFO, OLDNAME), STATUS (with HIGHESTMODSEQ, SIZE...),
// SEARCH (with MODSEQ), ESEARCH (RFC 4731), FLAGS, EXISTS, RECENT,
// EXPUNGE, FETCH with every data item (ENVELOPE and BODYSTRUCTURE parsed
// into mime.Envelope and mime.Structure), ENABLED (RFC 5161), VANISHED
// (RFC 7162), NAMESPACE (RFC 2342), ID (RFC 2971), QUOTA and QUOTAROOT
// (RFC 9208). Unknown responses come back as UnknownData; a malformed one
// is reported and skipped, and reading goes on with the next.
//
// # Commands
//
// ReadCommand reads a command's tag and name (with UID commands flagged);
// ReadXxxArgs functions read the arguments of LOGIN, AUTHENTICATE (with
// SASL-IR), SELECT and EXAMINE (with CONDSTORE and QRESYNC parameters),
// CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST and LSUB (with
// LIST-EXTENDED and LIST-STATUS options), STATUS, APPEND (the message as a
// streamed literal), FETCH (with CHANGEDSINCE and VANISHED), STORE (with
// UNCHANGEDSINCE), COPY, MOVE, UID EXPUNGE, SEARCH (into an imap.SearchKey
// tree, with ESEARCH's RETURN options), ENABLE and ID. DiscardLine skips a
// bad command, non-synchronising literals included.
//
// # Encoding
//
// An Encoder writes to a bufio.Writer and implements imap.Formatter: it
// sends a string as an atom, a quoted string or a literal as its content
// requires, streams literals from an io.Reader, and before a
// synchronising literal flushes and calls WaitContinuation, with which a
// client waits for the server's "+". LiteralPlus and LiteralMinus switch
// to non-synchronising literals when the server allows them.
//
// # Not implemented
//
// MULTIAPPEND (RFC 3502), CATENATE (RFC 4469), APPEND's UTF8 data item
// (RFC 6855 §4), SEARCHRES's "$" (RFC 5182), COMPRESS (RFC 4978),
// METADATA, ACL and SORT/THREAD responses (they come back as UnknownData),
// and NOTIFY. Parameter continuations (RFC 2231 "name*0") sent unjoined by
// a server are kept as sent; joined extended values ("name*") are decoded.
package imapwire
