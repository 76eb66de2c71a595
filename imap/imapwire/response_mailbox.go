package imapwire

import (
	"strings"
	"unicode/utf8"

	"github.com/mailwire/mailwire/imap"
)

// Mailbox reads a mailbox name (RFC 3501 §9 mailbox: an astring) and
// decodes it: modified UTF-7, or UTF-8 when utf8 is set; "INBOX" in any
// case becomes "INBOX". A name that is not valid modified UTF-7 is an
// error.
func (d *Decoder) Mailbox(p *string, utf8 bool) bool {
	var raw string
	if !d.AString(&raw) {
		return false
	}
	name, err := imap.DecodeMailbox(raw, utf8)
	if err != nil {
		return d.fail(err)
	}
	*p = imap.CanonicalMailbox(name, 0)
	return true
}

// readMailbox is Mailbox for responses: a name that does not decode is
// kept as sent rather than failing the response.
func readMailbox(d *Decoder, p *string, utf8 bool) bool {
	var raw string
	if !d.AString(&raw) {
		return false
	}
	name, err := imap.DecodeMailbox(raw, utf8)
	if err != nil {
		name = raw
	}
	*p = imap.CanonicalMailbox(name, 0)
	return true
}

// readDelim reads DQUOTE QUOTED-CHAR DQUOTE / nil.
func readDelim(d *Decoder, p *rune) bool {
	if d.MaybeNil() {
		*p = 0
		return true
	}
	var s string
	if !d.Quoted(&s) {
		return false
	}
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || n != len(s) {
		return d.Errorf("hierarchy delimiter must be one character")
	}
	*p = r
	return true
}

func readList(d *Decoder, l *ListData, utf8 bool) bool {
	ok := d.List(func() bool {
		var f imap.Flag
		if !d.Flag(&f) {
			return false
		}
		l.Attrs = append(l.Attrs, imap.MailboxAttr(f))
		return true
	})
	if !ok || !d.SP() || !readDelim(d, &l.Delim) || !d.SP() || !readMailbox(d, &l.Mailbox, utf8) {
		return false
	}
	if !d.Maybe(' ') {
		return true
	}
	// RFC 5258 §9 mbox-list-extended.
	return d.List(func() bool {
		var tag string
		if !d.AString(&tag) || !d.SP() {
			return false
		}
		switch strings.ToUpper(tag) {
		case "CHILDINFO":
			return d.List(func() bool {
				var s string
				if !d.AString(&s) {
					return false
				}
				l.ChildInfo = append(l.ChildInfo, strings.ToUpper(s))
				return true
			})
		case "OLDNAME":
			return d.List(func() bool { return readMailbox(d, &l.OldName, utf8) })
		}
		return d.SkipValue()
	})
}

// SkipValue reads and discards one value of any kind: a list, a string,
// NIL, a number or an atom (RFC 4466 §2.1 tagged-ext-val), for extension
// data this package does not know.
func (d *Decoder) SkipValue() bool {
	c, ok := d.Peek()
	if !ok {
		return false
	}
	switch c {
	case '(':
		return d.List(d.SkipValue)
	case '"':
		var s string
		return d.Quoted(&s)
	case '{', '~':
		if c == '~' && !d.atLiteral() {
			break
		}
		l, ok := d.Literal()
		if ok {
			d.ready() // drain it now
		}
		_ = l
		return ok
	}
	var s string
	return d.AtomSpecial(&s, "]")
}

func readStatusData(d *Decoder, s *imap.StatusData, utf8 bool) bool {
	if !readMailbox(d, &s.Mailbox, utf8) || !d.SP() {
		return false
	}
	return d.List(func() bool {
		var name string
		if !d.Atom(&name) || !d.SP() {
			return false
		}
		n32 := func(p **uint32) bool {
			var v uint32
			if !d.Number(&v) {
				return false
			}
			*p = &v
			return true
		}
		switch imap.StatusItem(strings.ToUpper(name)) {
		case imap.StatusMessages:
			return n32(&s.Messages)
		case imap.StatusRecent:
			return n32(&s.Recent)
		case imap.StatusUIDNext:
			return n32(&s.UIDNext)
		case imap.StatusUIDValidity:
			return n32(&s.UIDValidity)
		case imap.StatusUnseen:
			return n32(&s.Unseen)
		case imap.StatusDeleted:
			return n32(&s.Deleted)
		case imap.StatusSize:
			var v uint64
			if !d.Number64(&v) {
				return false
			}
			n := int64(v)
			s.Size = &n
			return true
		case imap.StatusHighestModSeq:
			var v uint64
			if !d.Number64(&v) {
				return false
			}
			s.HighestModSeq = &v
			return true
		case imap.StatusAppendLimit:
			if d.MaybeNil() {
				return true
			}
			var v uint64
			if !d.Number64(&v) {
				return false
			}
			s.AppendLimit = &v
			return true
		}
		return d.SkipValue()
	})
}

func readSearch(d *Decoder, s *SearchData) bool {
	for d.Maybe(' ') {
		if d.AtEOL() {
			break // "* SEARCH " with a trailing space, as some servers send
		}
		if d.PeekIs('(') {
			return d.Open() && d.ExpectAtom("MODSEQ") && d.SP() && d.Number64(&s.ModSeq) && d.Close()
		}
		var n uint32
		if !d.NZNumber(&n) {
			return false
		}
		s.Nums = append(s.Nums, n)
	}
	return true
}

func readESearch(d *Decoder, s *ESearchData) bool {
	if !d.Maybe(' ') {
		return true
	}
	if d.PeekIs('(') {
		if !d.Open() || !d.ExpectAtom("TAG") || !d.SP() || !d.String(&s.Tag) || !d.Close() {
			return false
		}
		if !d.Maybe(' ') {
			return true
		}
	}
	if d.MaybeAtom("UID") {
		s.UID = true
		if !d.Maybe(' ') {
			return true
		}
	}
	for {
		var name string
		if !d.Atom(&name) || !d.SP() {
			return false
		}
		var ok bool
		switch strings.ToUpper(name) {
		case "MIN":
			ok = d.NZNumber(&s.Min)
		case "MAX":
			ok = d.NZNumber(&s.Max)
		case "COUNT":
			var n uint32
			ok = d.Number(&n)
			s.Count = &n
		case "ALL":
			ok = d.SeqSet(&s.All)
		case "MODSEQ":
			ok = d.Number64(&s.ModSeq)
		default:
			ok = d.SkipValue()
		}
		if !ok {
			return false
		}
		if !d.Maybe(' ') {
			return true
		}
	}
}

func readNamespaces(d *Decoder, p *[]Namespace, utf8 bool) bool {
	if d.MaybeNil() {
		return true
	}
	return d.List(func() bool {
		var ns Namespace
		ok := d.Open() && d.String(&ns.Prefix) && d.SP() && readDelim(d, &ns.Delim)
		if !ok {
			return false
		}
		if name, err := imap.DecodeMailbox(ns.Prefix, utf8); err == nil {
			ns.Prefix = name
		}
		for d.Maybe(' ') {
			var ext string
			if !d.String(&ext) || !d.SP() {
				return false
			}
			var vals []string
			if !d.List(func() bool {
				var v string
				if !d.String(&v) {
					return false
				}
				vals = append(vals, v)
				return true
			}) {
				return false
			}
			if ns.Extensions == nil {
				ns.Extensions = map[string][]string{}
			}
			ns.Extensions[ext] = vals
		}
		if !d.Close() {
			return false
		}
		*p = append(*p, ns)
		return true
	})
}

func readID(d *Decoder, id *IDData) bool {
	if d.MaybeNil() {
		return true
	}
	return d.List(func() bool {
		var f IDField
		if !d.String(&f.Name) || !d.SP() || !d.NStringPtr(&f.Value) {
			return false
		}
		id.Fields = append(id.Fields, f)
		return true
	})
}

func readQuota(d *Decoder, q *QuotaData) bool {
	if !d.AString(&q.Root) || !d.SP() {
		return false
	}
	return d.List(func() bool {
		var r QuotaResource
		if !d.Atom(&r.Name) || !d.SP() || !d.Number64(&r.Usage) || !d.SP() || !d.Number64(&r.Limit) {
			return false
		}
		r.Name = strings.ToUpper(r.Name)
		q.Resources = append(q.Resources, r)
		return true
	})
}
