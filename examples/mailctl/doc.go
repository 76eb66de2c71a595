// Command mailctl is a small command-line mail client built on mailwire's
// smtp, pop3, auth, message and mime packages.
//
//	mailctl send -user alice -password PW -from alice@localhost \
//	    -to bob@localhost -subject Report -attach report.pdf -insecure <<< "Hello Bob"
//	mailctl pop3 list  -user bob -password PW -insecure
//	mailctl pop3 fetch -user bob -password PW -insecure -maildir ./Mail [-delete] [N...]
//	mailctl pop3 delete -user bob -password PW -insecure 1 2
//
// send composes a message from flags (text body from -body or standard input,
// -html, -attach, -header) with mime.Mail, or takes one as it is with -raw
// (less its Bcc and Resent-Bcc fields, RFC 5322 §3.6.3; recipients default
// to its To, Cc and Bcc), and submits it to -server (default 127.0.0.1:2587, the example mailserver's
// submission port) with STARTTLS, or implicit TLS with -tls, then AUTH with
// the strongest mechanism the server offers (SCRAM-SHA-256-PLUS, SCRAM,
// CRAM-MD5, PLAIN, LOGIN; -mech chooses). The password comes from -password
// or $MAILCTL_PASSWORD.
//
// pop3 connects to -server (default 127.0.0.1:2110) with STLS, or implicit
// TLS with -tls, and logs in with the strongest mechanism the server
// offers (USER/PASS when it lists no SASL mechanism) or -mech. fetch writes messages to
// standard output, into a Maildir (-maildir, atomic delivery), into an mbox
// file (-mbox, locked append in the mboxrd format, the envelope sender taken
// from Return-Path) or as files DIR/UIDL.eml (-dir; a UIDL that is not a
// safe file name is made one, with a hash of it appended, and without UIDL
// support on the server each file gets a unique name), and with -delete
// removes each one from the server once it is stored and synced: deletions
// take effect only at the final QUIT (RFC 1939 §6), so an interrupted fetch
// deletes nothing. Without -delete the messages stay on the server and a
// second fetch gets them again (-dir overwrites the same files; -maildir and
// -mbox store another copy).
//
// Certificates are verified against the system roots, or -cafile; -insecure
// skips verification, for the self-signed certificate a test server makes.
// No password is sent without TLS unless -starttls=false comes with
// -cleartext-login, for a server on a trusted network.
// When standard error is a terminal, transfers of 1 MiB or more show their
// progress there (except a fetch to standard output).
//
// Not implemented: IMAP, reading a configuration file, OAuth tokens.
package main
