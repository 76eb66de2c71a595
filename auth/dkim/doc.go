// Package dkim signs and verifies DomainKeys Identified Mail signatures
// (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463), under the rules
// of RFC 8301.
//
// # Signing
//
// A Signer is an io.Writer that the message streams through once, header
// first: it buffers the header (up to DefaultMaxHeaderBytes, since the
// fields must be known to be hashed), hashes the chosen fields when the
// blank line arrives, and sends the body through the canonicalisers into
// the body hashes without keeping it. Close computes the signatures and
// Fields returns the DKIM-Signature fields, which the caller writes in front
// of the message when it writes the spooled copy out (a Maildir file, a
// queue file). One Signer makes several signatures in the same pass, one
// per SignOptions (an RSA and an Ed25519 one, say), sharing the body hash
// when they share the body canonicalisation. Sign does the whole job on a
// reader, seeking back in a seekable source or spooling to a temporary file
// otherwise; memory stays flat whatever the size of the message.
//
// Signers sign the fields of SignOptions.HeaderFields (DefaultHeaderFields)
// that are present, each instance, and over-sign those of
// SignOptions.OverSign (DefaultOverSign: From, Reply-To, Subject, Date, To,
// Cc), listing them once more than they occur so that none can be added
// (RFC 6376 §5.4.2, §8.15). t= is set, x= on request; l= never (§8.2).
// RSA keys must have at least MinRSAKeyBits bits; rsa-sha1 is never used
// (RFC 8301 §3.1, §3.2).
//
// # Verifying
//
// A Verifier checks every DKIM-Signature field of a message in one pass,
// up to VerifyOptions.MaxSignatures (DefaultMaxSignatures, 5); fields after
// that are reported as StatusNeutral with ErrNotChecked. Each body hash,
// per combination of canonicalisation, l= and hash algorithm, is computed
// once and shared by the signatures that need it. Finish fetches the key
// records (selector._domainkey.domain, RFC 6376 §3.6.2) through a
// TXTResolver, which *net.Resolver and dnsmx.Resolver satisfy, and returns a
// Result per field: a Status (pass, fail, neutral, temperror, permerror, as
// RFC 8601 names them) and an Err that errors.Is matches against the
// sentinel errors (ErrBodyHashMismatch, ErrSignatureMismatch, ErrKeyRevoked,
// ErrKeyTooSmall, ErrRSASHA1, ErrNoKey, ...) or errors.As against
// *SyntaxError and *DNSError.
//
// Verification follows RFC 6376 §6.1: the required tags, i= within d=, From
// in h=, x= not passed and t= not in the future (with a clock allowance,
// VerifyOptions.ClockSkew), the key record's v=, k=, h=, s= and t=s; an
// empty p= is a revoked key; rsa-sha1 signatures and RSA keys under 1024
// bits are permerror (RFC 8301). The key's t=y flag is reported by
// Result.Testing. A signature with l= is checked over that many canonical
// body bytes, and Result.UnsignedBytes counts the bytes after them, which
// anyone could have appended: callers should treat a non-zero count as
// suspicious (RFC 6376 §8.2).
//
// # Parsing and formatting
//
// ParseTagList parses tag-lists (§3.2), ParseSignature DKIM-Signature values
// (§3.5), ParseKeyRecord key records (§3.6.1, RFC 8463 §4.2); their errors
// are *SyntaxError saying what, which tag and where. Signature.Format writes
// a field folded to lines of at most 78 characters, the b= value broken
// anywhere; KeyRecord.String and NewKeyRecord write records to publish.
//
// Header fields are read with package message, which keeps each field's
// raw bytes for canonicalisation (§3.4.1, §3.4.2). Messages may use CRLF or
// bare LF line ends: a bare LF counts as CRLF in both header and body, so a
// message stored with LF line ends verifies as it did on the wire.
//
// # Standards
//
//   - RFC 6376, DKIM signatures: tag-lists §3.2, algorithms §3.3,
//     canonicalisation §3.4, the DKIM-Signature field §3.5, key records and
//     their lookup §3.6, hashing §3.7, signing §5, verifying §6.
//   - RFC 8463, Ed25519-SHA256, including the example of Appendix A as a
//     test.
//   - RFC 8301, cryptographic algorithm and key usage: no rsa-sha1, RSA
//     keys of at least 1024 bits.
//
// # Not implemented
//
//   - Signing with l= (discouraged by RFC 6376 §8.2); verification handles
//     it.
//   - Query methods other than dns/txt; z= copied header fields are parsed
//     and kept but not used for diagnostics.
//   - Authentication-Results fields (package auth/authres), DMARC alignment
//     (auth/dmarc), ARC (RFC 8617), and the policy of what to do with a
//     failed or unsigned message: callers decide.
//   - Internationalised (UTF-8) signing domains and selectors (RFC 8616):
//     d= and s= must be A-labels.
//   - The example signature of RFC 6376 Appendix A does not verify: its bh=
//     is the relaxed body hash under c=simple/simple; the test checks that
//     it fails with ErrBodyHashMismatch and re-signs the message instead.
package dkim
