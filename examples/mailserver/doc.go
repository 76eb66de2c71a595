// Command mailserver is a local mail system assembled from mailwire's
// packages, working from one command:
//
//	go run ./examples/mailserver
//
// With no flags it keeps its data in ./mailserver-data and listens on
// 127.0.0.1 only:
//
//	2525  SMTP, the MX role: mail for its own domains only; relaying is
//	      refused with 550 5.7.1, unknown users with 550 5.1.1; SPF, DKIM
//	      and DMARC checks (see Sender authentication)
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
//	mailserver-data/mail/NAME/     each user's Maildir; .Junk/ its Junk
//	                               folder (Maildir++), made on first use
//	mailserver-data/spool/         messages being received (emptied at
//	                               start)
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
// # Sender authentication
//
// Every message on the SMTP port is checked, whatever the client's address
// (loopback and private ones included), unless the client is in
// -trusted-networks (repeatable CIDR, default none: "clients from these
// networks may relay without AUTH", as Postfix's mynetworks; relaying
// itself comes with an outbound queue, so for now such clients only skip
// the checks and the per-client limits of the smtp and pop3 servers).
// Authenticated submissions are not checked.
//
//   - SPF (RFC 7208) at MAIL: the HELO name and the MAIL FROM identity
//     (postmaster@HELO for a null reverse-path), from the client's IP.
//   - DKIM (RFC 6376, RFC 8463) while the message streams into the spool:
//     every signature, keys fetched when the data ends.
//   - DMARC (RFC 7489) at the end of DATA, for the domain of the From
//     field, with the MAIL FROM SPF result and the DKIM results.
//
// The outcome is recorded in an Authentication-Results field (RFC 8601,
// authserv-id -hostname) and a Received-SPF field (RFC 7208 §9.1), put in
// front of the message above the Received field; Authentication-Results
// fields of the message that claim the -hostname as their authserv-id are
// removed (RFC 8601 §5), as they can only be forged. A DMARC failure under
// p=reject is refused with 550 5.7.1 at the end of DATA; under
// p=quarantine the message goes into the recipient's Junk folder. A
// temporary DNS failure makes that check temperror and the message is
// accepted with the result recorded, except when neither SPF nor DKIM
// passed and the DMARC policy lookup itself failed: then 451 4.7.0, so that
// the sender retries later rather than a message the policy might reject
// being accepted. A failed SPF check is only recorded: DMARC decides. A
// message whose From field does not name one domain gets dmarc=permerror
// and is delivered.
//
// All lookups (TXT, A, AAAA, MX, PTR) go to the name server of -dns
// host:port, default those of /etc/resolv.conf, through a cache that keeps
// answers for their TTL.
//
// Submitted mail is DKIM-signed with each key of -dkim-selector NAME
// -dkim-key FILE (PEM: PKCS #8 RSA or Ed25519, or PKCS #1 RSA; repeat both
// flags to sign with two keys, an RSA and an Ed25519 one, say), with d= the
// domain of the From field when it is one of -domain; other mail is sent
// unsigned. Publish each key's record at NAME._domainkey.DOMAIN for every
// -domain. The fields are signed as the MSA completed them (Date and
// Message-ID included), relaxed/relaxed, From, Subject, Date, To, Cc and
// Reply-To over-signed.
//
// # Delivery
//
// A message is received into a file in the spool directory (the DKIM
// verifier or signer reading it on the way), then stored with a
// Return-Path, the authentication fields, a Received field (RFC 5321 §4.4,
// with RFC 3848 protocol names) and any DKIM-Signature fields prepended,
// as received otherwise, CRLF line ends included. On the submission ports a message lacking a
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
// Not implemented: an outbound queue (remote delivery, and so relaying
// for -trusted-networks), IMAP, aliases, quotas, DMARC reports, ARC, and
// reloading the users
// file while running (restart with -user to change users: a second
// mailserver started with -user on the data directory of a running one
// rewrites the users file, then fails to listen, and the running one does
// not see the change until it restarts). Run one server per data
// directory. -user puts the password on the command line, where other
// local users can read it in the process list for as long as the server
// runs: on a shared machine, start once with -user, stop, and run without
// it (the users file keeps the user).
package main
