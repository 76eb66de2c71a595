// Package mime reads and writes MIME messages (RFC 2045-2049): media types
// and their parameters, transfer encodings, multipart bodies to any depth,
// charsets, composing mail with attachments, the body structure IMAP
// reports, and the conversion of 8bit mail to 7bit.
//
// # Reading
//
// A Reader returns the entities of a message one by one, depth first, in a
// single pass over the input: the message itself, then for a multipart each
// body part (RFC 2046 §5.1) and for a message/rfc822 part the message inside
// it (§5.2.1). Each Part has its header (a *message.Header with the raw
// bytes kept), its parsed MediaType, its IMAP part number (Path, RFC 3501
// §6.4.5) and its body, raw (Part.Raw), with the transfer encoding removed
// (Part.Body) or decoded to UTF-8 (Part.Text). Walk wraps the loop.
//
// Nothing is buffered beyond the Reader's fixed 64 KiB buffer and the
// decoders' 32 KiB blocks (pooled across Readers), so an attachment of any
// size streams through in constant memory. One buffer serves every level
// of nesting: a body ends at the first delimiter of any open multipart,
// so a multipart whose close-delimiter is missing is closed by its parent's
// next delimiter or by the end of input.
//
// Reading is lenient, as RFC 2045 §2 and RFC 2049 ask, but never silent: a
// missing close-delimiter, a multipart without a boundary, bad base64 or
// quoted-printable, an unknown transfer encoding, unquoted specials or
// duplicate parameters, an unknown charset... are repaired and recorded in
// Part.Defects (see DefectKind).
//
// Limits (Limits, with defaults) bound the header of each entity, the
// nesting depth (DefaultMaxDepth, beyond which a part is read as an opaque
// body), the number of parts (DefaultMaxParts) and the preamble and
// epilogue kept (DefaultMaxPreamble).
//
// # Defects of one part
//
// Trouble confined to one part is a defect of that part, never an error of
// the walk, so that one broken or hostile part cannot take the others with
// it. A part whose header exceeds Limits.Header (too many fields, too many
// bytes, a line too long) keeps the fields that came before the limit,
// whole, and gets a DefectHeader saying which limit and how much was
// skipped; the rest of the header is read through the fixed buffer and
// dropped, so a header of any size costs no more memory than the limits.
// Its body is then read as usual: with its own Content-Type and
// Content-Transfer-Encoding when they came before the limit, and as
// application/octet-stream otherwise, since the type is then unknown, not
// absent (RFC 2049 §2 (7); the text/plain default of RFC 2045 §5.2 is for
// a header without Content-Type, and stays for it). The parts after it, the
// epilogue, message/rfc822 parts (whose message is read the same way) and
// ReadStructure all go on. The repairs of message.ReadHeader (a line that
// is not a field ends the header and starts the body, say) are
// DefectHeader defects too, except a header that ends directly on a
// delimiter line, which RFC 2046 §5.1.1 allows.
//
// What bounds the work on the whole message still stops it: NextPart
// returns ErrTooManyParts past Limits.MaxParts, and any error reading the
// input. To7bit, which must copy every field, fails on a part whose header
// was cut, with an error wrapping the *message.HeaderError.
//
// # Media types
//
// ParseMediaType and ParseDisposition read Content-Type and
// Content-Disposition values (RFC 2045 §5.1, RFC 2183) with case-insensitive
// names, comments, RFC 2231 continuations, charsets and languages
// (title*0*=us-ascii'en'...), and the RFC 2047 encoded-words real mail puts
// in file names. FormatMediaType writes them back, choosing quoted-strings
// or RFC 2231 extended values (UTF-8, split into continuations) as needed.
//
// # Transfer encodings
//
// Base64Decoder and QPDecoder decode in blocks (RFC 2045 §6.7, §6.8),
// tolerating white space, missing padding and stray characters;
// Base64Encoder and QPEncoder write 76-character lines. NewDecoder and
// NewEncoder pick one by Content-Transfer-Encoding name. Analyze (or a
// Stats used as an io.Writer) tells what a body needs: whether it is
// 7bit-safe, its longest line, NULs, bare CR or LF, and Stats.Encoding
// chooses an encoding from that.
//
// # Charsets
//
// CharsetReader and Part.Text decode text to UTF-8 with the charset table
// of internal/charset (IANA names and common aliases). An unknown charset
// gives a *CharsetError together with a reader of the undecoded bytes.
//
// # Writing
//
// Mail composes a message with a text and/or HTML body
// (multipart/alternative), inline images (multipart/related, Content-ID)
// and attachments (multipart/mixed, with RFC 2231 file names), choosing
// each part's transfer encoding from its content; SevenBit restricts it to
// 7bit for relays without 8BITMIME. An attachment without a ContentType
// gets one from its file name (TypeByFilename, a table built into the
// package), else from its content (net/http.DetectContentType), else
// application/octet-stream, with charset=utf-8 on text that is valid
// UTF-8; the host's mime.types is never read, so a program composes the
// same mail on every machine. Boundaries are random and start with
// "=_", which quoted-printable and base64 cannot produce, and the
// quoted-printable encoder never starts a line with "-", so a boundary can
// never collide with encoded content. MultipartWriter writes a multipart
// body part by part for other structures. To7bit converts a message for a
// relay without 8BITMIME (RFC 6152), keeping the decoded content.
//
// # Body structure
//
// ReadStructure computes in one streaming pass what IMAP's BODY and
// BODYSTRUCTURE report (RFC 3501 §7.4.2): type, parameters, id,
// description, encoding, size, lines of text parts, the envelope and
// structure of message/rfc822 parts, MD5, disposition, language and
// location.
//
// # Not implemented
//
// message/partial reassembly and message/external-body retrieval
// (RFC 2046 §5.2.2-5.2.3); the uuencode and binhex encodings; charset
// detection from content; S/MIME and PGP/MIME; base64 or quoted-printable
// encoded message/rfc822 parts are read as opaque bodies, not parsed; sizes
// and line counts are of the bytes as read, so a message stored with bare
// LF line ends reports smaller sizes than the CRLF form IMAP defines.
package mime
