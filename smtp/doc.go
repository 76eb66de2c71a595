// Package smtp implements the Simple Mail Transfer Protocol: the wire codec
// (replies and enhanced status codes, paths and ESMTP parameters, dot-stuffing),
// a Client, and a Server, also speaking LMTP, that hands mail transactions to a
// Backend.
//
// # Server
//
// A Server is shaped like net/http's: set its fields, then call ListenAndServe,
// ListenAndServeTLS (implicit TLS, port 465) or Serve, and stop it with
// Shutdown or Close. For each connection the Backend opens a Session, which
// sees the transaction as it happens: Mail, Rcpt (each recipient accepted or
// refused with its own reply), then Data with the message streamed from the
// wire. The server replies success to the message only when Data returns nil,
// that is once the Session has stored it. A Session method refuses by
// returning an *Error, sent as it is; any other error becomes 451 4.3.0 so
// that the client retries. Optional interfaces add AUTH (AuthSession, with
// mechanisms from package auth) and per-recipient LMTP replies (LMTPSession).
//
// Conn tells the Session what it needs to decide: the remote address,
// the TLS state, the EHLO name (checked to be a Domain or an address
// literal, RFC 5321 §4.1.1.1, and in ASCII: U-labels become A-labels, RFC
// 6531 §3.7.1), the authenticated identity, and a Context
// canceled when the connection ends. Relay policy is
// the Session's (refuse recipients it does not serve, ErrRelayDenied), as is
// adding trace fields (Received:) to the message.
//
// Limits, each with a documented default: command line length, message size
// (advertised with SIZE and enforced while reading, 552 5.3.4), recipients per
// transaction (452 4.5.3), concurrent connections (421 4.7.0), concurrent
// connections per client address, an IPv6 client's /64 (421 4.7.0), error
// replies per connection (421 then close), failed AUTH exchanges per
// connection (421) and per client address over a time window (454 4.7.0
// until it passes; Server.LimitExempt lists addresses exempt from the
// per-client limits), read and write timeouts and a time limit for each
// message transfer (421 4.4.2). A
// connection holds two 4 KiB buffers; nothing buffers a whole message.
//
// # Client
//
// Dial, DialTLS (implicit TLS, RFC 8314) and DialStartTLS connect, read the
// greeting and send EHLO (HELO when the server answers 500 or 502; LHLO with
// ClientOptions.LMTP); NewClient does the same over any net.Conn. Every call
// takes a context whose deadline and cancellation apply to the connection;
// without a deadline, ClientOptions.Timeout (5 minutes) bounds each wait.
// Client.Send runs a whole transaction: with PIPELINING, MAIL, the RCPTs and
// DATA go out in batches and the replies are matched in order (RFC 2920
// §3.1); with CHUNKING the data goes in BDAT chunks (RFC 3030), otherwise
// dot-stuffed after DATA. It returns a result per recipient: a partial failure
// is a *DeliveryError, a refusal an *Error carrying the server's code,
// enhanced code and text. The caller declares the body type
// (MailOptions.Body, MailOptions.UTF8): to a server without the extension
// it needs, Send fails before MAIL with an *UnsupportedError, or converts
// 8-bit and binary messages to 7 bits through ClientOptions.Downgrade
// (mime.To7bit; RFC 6152 §3). Mail, Rcpt and Data run one command at a time.
// Auth and Login (RFC 4954) refuse to run without TLS unless
// ClientOptions.AllowInsecureAuth is set. Reply lines and reply line counts
// are bounded. SendMail does all of this in one call; package smtptest
// provides a recording server for tests.
//
// # Data transparency and SMTP smuggling
//
// The end of message data is CR LF "." CR LF and nothing else (RFC 5321
// §4.5.2). A bare LF or bare CR never ends the data and never starts a line for
// the dot rule, so no message can be split into two, nor a command hidden in
// one, by a peer that reads line ends differently. What the server does with
// such bytes inside a message is its BareNewlinePolicy: by default the message
// is read to its real end and refused with 554 5.6.0, and the session goes on.
// A NUL octet is refused the same way (7bit and 8bit data hold none, RFC
// 2045 §2.8), unless Server.AllowNUL is set; BDAT with BODY=BINARYMIME
// carries any octet.
// Commands may end in a bare LF (they cannot end data); a bare CR in a command
// is refused. DotWriter, on the sending side, writes every line end as CR LF.
//
// STARTTLS discards any input that arrived with the command (RFC 3207 §5, the
// command-injection attack) and forgets the EHLO, the transaction and any
// authentication. AUTH is neither advertised nor accepted before TLS unless
// Server.AllowInsecureAuth is set (538 5.7.11).
//
// # Standards
//
// Implemented:
//   - RFC 5321: SMTP (commands, replies, paths, data transparency §4.5.2,
//     limits §4.5.3, timeouts §4.5.3.2)
//   - RFC 1870: SIZE; RFC 6152: 8BITMIME; RFC 2920: PIPELINING (replies are
//     batched and flushed when the server runs out of input)
//   - RFC 3030: CHUNKING (BDAT) and BINARYMIME
//   - RFC 3207: STARTTLS; RFC 8314: implicit TLS (ListenAndServeTLS)
//   - RFC 3461: DSN parameters (RET, ENVID, NOTIFY, ORCPT) with xtext (§4),
//     parsed and handed to the Session
//   - RFC 3463, RFC 2034: enhanced status codes, ENHANCEDSTATUSCODES
//   - RFC 4954: AUTH, with SASL mechanisms from package auth
//   - RFC 6531: SMTPUTF8 (UTF-8 addresses only when the MAIL command asks)
//   - RFC 2033: LMTP (LHLO, one reply per recipient after DATA or BDAT LAST)
//
// Not implemented: generating delivery status notifications (package queue
// does), RFC 4865 FUTURERELEASE, RFC 2852 DELIVERBY, RFC 1985 ETRN, RFC 8689
// REQUIRETLS, RFC 3885 MTRK, source routes (accepted on input and ignored, as
// RFC 5321 Appendix C allows), VRFY and EXPN lookups (the server answers 252),
// the RFC 5321 §4.5.3.1.6 limit of 1000 octets per text line (the server
// accepts longer lines in DATA). The server checks no DNS, SPF, DKIM or
// DMARC: Sessions do that with packages dnsmx and auth/...
package smtp
