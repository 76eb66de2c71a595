// Package queue is an MTA's durable outbound queue: it stores messages,
// delivers them over SMTP to a smarthost or to the mail exchangers of each
// recipient's domain, retries on a schedule, and returns delivery status
// notifications to senders.
//
// A Store keeps the messages: MemStore in memory, DirStore in a directory
// (one file per message written atomically and fsynced before Put returns,
// concurrent Puts sharing their flushes by group commit, every message
// recovered on start). A Policy sets the retry schedule (RFC 5321 §4.5.4.1:
// first retry after 15 minutes with backoff and jitter, a delayed notice
// after 4 hours, give-up after 5 days), read through a Clock so tests run it
// with a ManualClock. A Deliverer is the SMTP Transport (RFC 5321 §5 and
// §4.5.3.2 timeouts, RFC 7505 null MX, RFC 3207 STARTTLS, RFC 4954 AUTH to a
// smarthost, RFC 1870 SIZE, RFC 6531 SMTPUTF8, RFC 5321 §6.3 loop detection,
// RFC 3461 §4 DSN parameters relayed only to hops offering DSN). A Queue
// ties them together with workers and writes the notices (RFC 3464
// multipart/report, RFC 6533 for UTF-8 addresses, RFC 3461 NOTIFY and RET,
// RFC 3834 Auto-Submitted), never for a message from the null sender.
//
// Not implemented yet: "relayed" notices for NOTIFY=SUCCESS to hops without
// DSN (RFC 3461 §5.2.3), the 8BITMIME downgrade is left to
// Deliverer.Downgrade (mime.To7bit), lease tokens (a worker whose lease
// expired may still record its outcome), per-command timeouts finer than
// Timeouts.Command, DANE and MTA-STS, REQUIRETLS, and the PostgreSQL store.
package queue
