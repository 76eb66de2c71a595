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
// -html, -attach, -header) with mime.Mail, or takes one as it is with -raw,
// and submits it to -server (default 127.0.0.1:2587, the example mailserver's
// submission port) with STARTTLS, or implicit TLS with -tls, then AUTH with
// the strongest mechanism the server offers (SCRAM-SHA-256-PLUS, SCRAM,
// CRAM-MD5, PLAIN, LOGIN; -mech chooses). The password comes from -password
// or $MAILCTL_PASSWORD.
//
// pop3 connects to -server (default 127.0.0.1:2110) with STLS, or implicit
// TLS with -tls, and logs in with USER/PASS or -mech. fetch writes messages to
// standard output, into a Maildir (-maildir, atomic delivery), into an mbox
// file (-mbox, locked append in the mboxrd format, the envelope sender taken
// from Return-Path) or as files DIR/UIDL.eml (-dir), and with -delete removes each one from the server once
// it is stored: deletions take effect only at the final QUIT (RFC 1939 §6),
// so an interrupted fetch deletes nothing.
//
// Certificates are verified against the system roots, or -cafile; -insecure
// skips verification, for the self-signed certificate a test server makes.
// When standard output is a terminal, transfers of 1 MiB or more show their
// progress on standard error.
//
// Not implemented: IMAP, reading a configuration file, OAuth tokens.
package main
