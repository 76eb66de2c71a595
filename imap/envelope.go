package imap

import (
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/mime"
)

// FormatEnvelope writes the ENVELOPE structure of a message (RFC 3501
// §7.4.2): date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to
// and message-id, each NIL when absent or empty. Strings go as the header
// has them (RFC 2047 words not decoded). Display names of addresses are
// written as RFC 2047 encoded words when they are not ASCII, unless utf8
// is set (the session enabled UTF8=ACCEPT, RFC 6855 §3). A nil e writes
// NIL.
func FormatEnvelope(f Formatter, e *mime.Envelope, utf8 bool) {
	if e == nil {
		f.Nil()
		return
	}
	f.BeginList()
	nstring(f, e.Date)
	f.SP()
	nstring(f, e.Subject)
	for _, l := range [][]*message.Address{e.FromAddrs, e.SenderAddrs, e.ReplyToAddrs, e.ToAddrs, e.CcAddrs, e.BccAddrs} {
		f.SP()
		formatAddressList(f, l, utf8)
	}
	f.SP()
	nstring(f, e.InReplyTo)
	f.SP()
	nstring(f, e.MessageID)
	f.EndList()
}

// nstring writes s, or NIL when it is empty.
func nstring(f Formatter, s string) {
	if s == "" {
		f.Nil()
		return
	}
	f.String(s)
}

// formatAddressList writes "(" 1*address ")" or NIL. Groups become the
// start-of-group and end-of-group markers of RFC 3501 §7.4.2 around their
// members.
func formatAddressList(f Formatter, list []*message.Address, utf8 bool) {
	if len(list) == 0 {
		f.Nil()
		return
	}
	f.BeginList()
	for _, a := range list {
		if a.IsGroup {
			f.BeginList()
			f.Nil()
			f.SP()
			f.Nil()
			f.SP()
			f.String(phrase(a.Name, utf8))
			f.SP()
			f.Nil()
			f.EndList()
			for _, m := range a.Members {
				formatAddress(f, m, utf8)
			}
			f.BeginList()
			f.Nil()
			f.SP()
			f.Nil()
			f.SP()
			f.Nil()
			f.SP()
			f.Nil()
			f.EndList()
			continue
		}
		formatAddress(f, a, utf8)
	}
	f.EndList()
}

func phrase(name string, utf8 bool) string {
	if utf8 {
		return name
	}
	return message.EncodePhrase(name)
}

func formatAddress(f Formatter, a *message.Address, utf8 bool) {
	f.BeginList()
	nstring(f, phrase(a.Name, utf8))
	f.SP()
	f.Nil() // at-domain-list: source routes are obsolete (RFC 5322 §4.4)
	f.SP()
	f.String(a.LocalPart())
	f.SP()
	// An address without a domain still needs a non-NIL host: NIL would
	// make it a group marker.
	f.String(a.Domain())
	f.EndList()
}

// EnvelopeString returns FormatEnvelope's output as a string.
func EnvelopeString(e *mime.Envelope, utf8 bool) string {
	f := &textFormatter{utf8: utf8}
	FormatEnvelope(f, e, utf8)
	return f.b.String()
}
