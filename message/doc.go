// Package message reads and writes Internet messages (RFC 5322): header
// fields, addresses, dates, message identifiers, trace fields and RFC 2047
// encoded words, with the body as a stream.
//
// # Reading
//
// Read parses a message's header and returns the body as an io.Reader that has
// not been read: nothing beyond the header is buffered. ReadHeader does the
// same on a *bufio.Reader, leaving it at the first byte of the body, for
// readers of MIME parts. Both keep each field's raw bytes, so a header that is
// read and written back unchanged is identical byte for byte, and both accept
// bare-LF line ends. Reading is bounded by Limits (header size, field count,
// line length), whose excess is a *HeaderError, and is lenient without hiding
// anything: lines that are not fields end the header and are recorded in
// Header.Defects. ReadHeaderWithin is ReadHeader for readers of many headers in
// one stream: a header over a limit comes back cut to the fields before the
// limit, with the reader at the body, so one bad part does not cost the rest.
// ReadHeaderLenient is ReadHeaderWithin for received mail: it also skips a
// byte-order mark, keeps an mbox "From " line and lines that lost their
// folding white space inside the header, each recorded as a defect.
//
// Field values are unfolded (RFC 5322 §2.2.3) when asked for, by Get,
// Values or All, or into a buffer the caller reuses by Header.AppendValue.
// Names, and values written on one line, share the header's memory and cost
// no copy. ParseAddress and ParseAddressList validate (RFC 5322 §3.2,
// §3.4.1) and change no character; ParseAddressListLenient keeps what it
// can read of a damaged list. Structured values are parsed by ParseAddressList,
// ParseAddress, ParseDate, ParseMessageID, ParseMessageIDList, ParseReceived
// and ParseReturnPath; encoded words by DecodeWords (any charset that
// golang.org/x/text knows, and UTF-7).
//
// # Writing
//
// Header.Add, Set, Prepend and Del edit a header; NewWriter writes it
// (folded at white space to 78 characters where possible, never beyond 998,
// never inside an encoded word) and then the body, with CRLF line ends. A CR
// or LF in a value is an error (ErrNewline), which closes the door to header
// injection. Non-ASCII text in unstructured fields and display names is
// RFC 2047 encoded, or kept as UTF-8 with WriteOptions.UTF8 (RFC 6532).
// FormatAddressList, FormatDate, NewMessageID, Received.String and
// FormatReturnPath produce structured values. Header.WriteTo writes a header
// as it stands; Header.WriteFields writes its fields without the blank line,
// to put in front of an existing message; Header.Write takes WriteOptions.
//
// Validate checks a header against RFC 5322 §3.6 separately from parsing.
// Recipients collects the envelope recipients from To, Cc and Bcc, and
// StripBcc removes Bcc before transmission.
//
// # Standards
//
//   - RFC 5322, Internet Message Format, including the obsolete syntax of
//     §4 (read, never generated) and the examples of Appendix A as tests.
//   - RFC 2047, MIME encoded words, in unstructured text and phrases;
//     generated words are at most 75 characters, on lines of at most 76.
//   - RFC 6532, internationalised headers: UTF-8 in values, addresses and
//     display names.
//   - RFC 6854, groups in From and Sender.
//   - RFC 5321 §4.4, the clauses of the Received field and Return-Path.
//
// # Not implemented
//
//   - MIME structure, media types, transfer encodings and RFC 2231
//     parameters: see package mime.
//   - Resent blocks are read like any field but not grouped or checked
//     beyond the at-most-once rules Validate applies to the originator fields.
//   - Encoded words are decoded wherever they appear as whole words,
//     including inside quoted strings, which RFC 2047 §5 does not allow but
//     mailers produce; they are not decoded inside comments of structured
//     fields other than a mailbox's trailing comment.
//   - Address domains are not converted between U-labels and A-labels,
//     except that a header written without WriteOptions.UTF8 gets A-labels
//     for a non-ASCII domain (a non-ASCII local part is ErrNonASCII then).
package message
