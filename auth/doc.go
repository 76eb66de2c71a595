// Package auth implements SASL (RFC 4422) mechanisms, client and server, for
// the protocol packages (smtp, pop3, imap) and for applications checking
// passwords, plus a password hash format that serves every password
// mechanism from one stored record.
//
// # Exchanges
//
// A Client produces the mechanism name and initial response (Start) and
// answers challenges (Next); a Server takes responses and returns
// challenges until done, then reports the authenticated Identity. Both see
// raw bytes: base64 and line framing belong to the protocol packages. Clients
// of mechanisms in which the server proves itself (SCRAM) also implement
// Completer; protocol clients must call Complete when the server reports
// success. ChooseMechanism picks the strongest password mechanism a server
// offers that is safe on the connection, and NewClient makes its client.
//
// # Mechanisms
//
//	PLAIN                RFC 4616 (with authorization identity)
//	LOGIN                draft-murchison-sasl-login (obsolete, widely used)
//	CRAM-MD5             RFC 2195
//	SCRAM-SHA-1          RFC 5802
//	SCRAM-SHA-256        RFC 7677
//	SCRAM-*-PLUS         RFC 5802 channel binding with tls-exporter (RFC 9266,
//	                     TLS 1.3), tls-server-end-point (RFC 5929 §4, TLS 1.2)
//	                     and tls-unique (RFC 5929 §3, TLS 1.2, server and
//	                     NewSCRAMClientBinding only)
//	OAUTHBEARER          RFC 7628 with OAuth 2.0 bearer tokens (RFC 6750)
//	XOAUTH2              Google's and Microsoft's bearer token mechanism
//	EXTERNAL             RFC 4422 Appendix A
//	ANONYMOUS            RFC 4505
//
// # Servers and credentials
//
// Applications implement small credential interfaces (PasswordChecker,
// SCRAMStore, CRAMMD5Store, TokenVerifier, ExternalAuthorizer,
// AnonymousPolicy, and optionally Authorizer) on one value; each mechanism
// is available exactly when that value implements what it needs. MemoryStore
// implements them for tests, examples and small servers, and reads users
// files (ReadUsers), including Dovecot passwd-files with SCRAM-SHA-256,
// SCRAM-SHA-1 and CRAM-MD5 hashes. Protocol servers
// call Mechanisms (or ServerConfig.Mechanisms) to build their capability
// list and NewServer for each AUTH command. Server mechanisms wrap
// ErrAuthFailed for wrong credentials and ErrMalformed for bad syntax, and
// pass other credential errors (a database being down) through unchanged.
//
// Password hashes (PasswordHash, HashPassword, VerifyPassword) use
// PBKDF2-HMAC-SHA-256 (crypto/pbkdf2) and store SCRAM-SHA-256's StoredKey
// and ServerKey, so one record serves PLAIN, LOGIN and SCRAM-SHA-256 without
// the server keeping the password. CRAM-MD5 needs the password or its
// CRAMMD5Key, and SCRAM-SHA-1 its own keys; a store lacking them simply does
// not implement those interfaces (or use ServerConfig.Allowed).
//
// # Limits
//
// Each client message is limited to DefaultMaxSize bytes (MaxSize fields
// and ServerConfig.MaxSize change it; ErrTooLong). SCRAM clients accept
// iteration counts between DefaultMinIterations and DefaultMaxIterations
// only, so a hostile server cannot demand unbounded work; SCRAM servers use
// their own stored count, and for unknown users return a stable fake salt
// so that the exchange does not reveal whether a user exists. Secrets are
// compared in constant time.
//
// # SASLprep
//
// SASLprep (RFC 4013) is applied to SCRAM passwords on both sides (and so to
// password hashes), not to user names, which are sent and looked up as
// given; a password SASLprep refuses is used unchanged rather than
// rejected. PLAIN and LOGIN pass passwords to the PasswordChecker as
// received. The PRECIS profiles (RFC 8265) are not implemented. Security
// layers (integrity or confidentiality
// after authentication) are not offered by any mechanism here. DIGEST-MD5
// (obsolete, RFC 6331), GSSAPI/Kerberos, NTLM, SAML20, OPENID20, OAuth 1.0a
// tokens in OAUTHBEARER, and SCRAM-SHA-512 are not implemented.
package auth
