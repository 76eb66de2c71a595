// Package message reads and writes Internet messages (RFC 5322): header
// fields, addresses, dates, message identifiers, trace fields and RFC 2047
// encoded words, with the body as a stream.
//
// See the package overview in the repository README; this comment is
// expanded below.
package message
