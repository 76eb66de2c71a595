// Package smtp implements the Simple Mail Transfer Protocol: the wire codec
// (replies and enhanced status codes, paths and ESMTP parameters, dot-stuffing),
// a Client, and a Server that hands transactions to a Backend, also speaking
// LMTP.
//
// # Standards
//
// Implemented:
//   - RFC 5321: SMTP (commands, replies, paths, data transparency §4.5.2,
//     limits §4.5.3, timeouts §4.5.3.2)
//   - RFC 1870: SIZE; RFC 6152: 8BITMIME; RFC 2920: PIPELINING
//   - RFC 3030: CHUNKING (BDAT) and BINARYMIME
//   - RFC 3207: STARTTLS; RFC 8314: implicit TLS (ListenAndServeTLS)
//   - RFC 3461: DSN parameters (RET, ENVID, NOTIFY, ORCPT) with xtext (§4)
//   - RFC 3463, RFC 2034: enhanced status codes, ENHANCEDSTATUSCODES
//   - RFC 4954: AUTH, with SASL mechanisms from package auth
//   - RFC 6531: SMTPUTF8 (UTF-8 addresses only when the MAIL command asks)
//   - RFC 2033: LMTP (LHLO, one reply per recipient after DATA)
//
// Not implemented: generating delivery status notifications (the queue
// package does), RFC 4865 FUTURERELEASE, RFC 2852 DELIVERBY, RFC 1985 ETRN,
// RFC 8689 REQUIRETLS, SMTP source routing (accepted on input and ignored, as
// RFC 5321 Appendix C allows), the VRFY and EXPN lookups (the server answers 252).
//
// # Data transparency and SMTP smuggling
//
// The end of message data is CR LF "." CR LF and nothing else. A bare LF or
// bare CR never ends the data and never starts a line for the dot rule, so a
// message cannot be split into two by a peer that reads line ends differently.
// What a Server does with such bytes inside a message is its
// BareNewlinePolicy; by default it refuses the message.
package smtp
