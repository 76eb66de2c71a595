// Command mailserver is a local mail system assembled from mailwire's
// packages, working from one command:
//
//	go run ./examples/mailserver
//
// With no flags it keeps its data in ./mailserver-data and listens on
// 127.0.0.1 only:
//
//	2525  SMTP, the MX role: mail for its own domains only; relaying is
//	      refused with 550 5.7.1, unknown users with 550 5.1.1
//	2587  message submission (RFC 6409): STARTTLS, then AUTH (PLAIN,
//	      LOGIN, CRAM-MD5, SCRAM-SHA-256, SCRAM-SHA-256-PLUS); MAIL FROM
//	      must be one of the user's addresses (else 553 5.7.1); mail to
//	      other domains is refused with 550 5.3.0, as there is no
//	      outbound queue
//	2465  message submission over implicit TLS (RFC 8314)
//	2110  POP3: USER/PASS and AUTH only after STLS (RFC 2595)
//	2995  POP3 over implicit TLS
//
// The flags -smtp, -submission, -submissions, -pop3 and -pop3s change these
// addresses; an empty value disables a listener.
//
// # Data directory
//
//	mailserver-data/users          the users file (mode 0600)
//	mailserver-data/tls/cert.pem   a self-signed certificate made on first
//	mailserver-data/tls/key.pem    start, unless -cert and -key are given
//	mailserver-data/mail/NAME/     each user's Maildir
//
// The self-signed certificate is made again, with a notice, when it expires
// within a day or does not name -hostname. A Maildir removed while the
// server runs is created again on the next delivery or login.
//
// On first start (no users file) and without -user flags, the server creates
// the user "demo" with a random password, which it prints once.
//
// # Users and domains
//
// -domain (repeatable, default "localhost") names the mail domains. -user
// name:password (repeatable) creates or updates a user: a plain name such as
// "alice" receives mail as alice@DOMAIN for each domain, while a full address
// such as "bob@example.org" is the user's only address (and its domain is
// then local too). Users log in with their name or any of their addresses.
//
// User names are kept in lower case, and addresses and login names are
// matched without regard to case: RFC 5321 §2.4 lets a server treat local
// parts as case-sensitive, but like most mail systems this one folds them,
// so alice, Alice and ALICE@LOCALHOST are one user. A name holds only
// letters, digits and ". _ + -" (it is also a directory name).
//
// The users file has a line name:HASH:{CRAM-MD5}KEY per user. HASH is
// auth.HashPassword's PBKDF2-SHA-256 record with SCRAM-SHA-256 keys, serving
// PLAIN, LOGIN and SCRAM-SHA-256 without storing the password. CRAM-MD5
// (RFC 2195) needs a password-equivalent secret, so the file also keeps the
// HMAC-MD5 intermediate key in Dovecot's {CRAM-MD5} form: whoever reads it
// can log in with CRAM-MD5, hence mode 0600. The file is rewritten
// atomically (temporary file, fsync, rename, directory fsync).
//
// # Delivery
//
// A message is stored with a Return-Path and a Received field prepended
// (RFC 5321 §4.4, with RFC 3848 protocol names), as received otherwise,
// CRLF line ends included. On the submission ports a message lacking a
// Date or Message-ID field gets one below the trace fields (RFC 6409 §8.2,
// §8.3), when its header ends within the first 64 KiB. Delivery into a
// Maildir is atomic and fsynced, and the server replies 250 only after it,
// so mail that got 250 survives a crash. A message with a bare CR or LF is refused (554 5.6.0) and never
// stored, split or merged (SMTP smuggling). Several recipients of one user
// get one copy; for several users the message is copied after the first
// delivery (a failure after that is reported 451 and the client retries, so
// the first users may receive the message twice).
//
// Every connection, login and delivery is logged with log/slog on standard
// error (-log-level). SIGINT or SIGTERM stops the server gracefully:
// transactions in progress finish, idle SMTP connections get 421, POP3
// sessions end without deleting anything; after 30 seconds the rest are
// closed, SMTP ones with 421 even in the middle of a message, which is then
// not delivered.
//
// Mail to postmaster in any local domain, and to <Postmaster> (RFC 5321
// §4.5.1), goes to the user named "postmaster", else to "demo", else to the
// first user by name.
//
// Not implemented: an outbound queue (remote delivery), IMAP, aliases,
// quotas, SPF/DKIM/DMARC checks on incoming mail, and reloading the users
// file while running (restart with -user to change users: a second
// mailserver started with -user on the data directory of a running one
// rewrites the users file, then fails to listen, and the running one does
// not see the change until it restarts). Run one server per data
// directory. -user puts the password on the command line, where other
// local users can read it in the process list for as long as the server
// runs: on a shared machine, start once with -user, stop, and run without
// it (the users file keeps the user).
package main
