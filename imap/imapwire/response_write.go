package imapwire

import (
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

// WriteResponse writes a response, the inverse of ReadResponse, for a
// server: r is one of the types ReadResponse returns, except FetchData,
// which a server writes with BeginFetch to stream body sections. Mailbox
// names are encoded as Encoder.UTF8 says. The line ends with CRLF; the
// output is not flushed.
func WriteResponse(e *Encoder, r any) error {
	switch r := r.(type) {
	case *Continuation:
		e.Atom("+ ")
		e.Text(r.Text)
		e.CRLF()
		return e.Err()
	case *imap.StatusResponse:
		e.StatusResponse(r)
		return e.Err()
	}
	e.Atom("* ")
	switch r := r.(type) {
	case *CapabilityData:
		e.Atom("CAPABILITY")
		for _, c := range r.Caps.Strings() {
			e.SP()
			e.Atom(c)
		}
	case *EnabledData:
		e.Atom("ENABLED")
		for _, c := range r.Caps {
			e.SP()
			e.Atom(string(c))
		}
	case *FlagsData:
		e.Atom("FLAGS ")
		e.FlagList(r.Flags)
	case *NumData:
		e.Number(uint64(r.Num))
		e.SP()
		e.Atom(string(r.Kind))
	case *ListData:
		if r.Lsub {
			e.Atom("LSUB (")
		} else {
			e.Atom("LIST (")
		}
		for i, a := range r.Attrs {
			if i > 0 {
				e.SP()
			}
			e.Flag(imap.Flag(a))
		}
		e.Atom(") ")
		writeDelim(e, r.Delim)
		e.SP()
		e.Mailbox(r.Mailbox)
		if len(r.ChildInfo) > 0 || r.OldName != "" {
			e.Atom(" (")
			if len(r.ChildInfo) > 0 {
				e.Atom(`"CHILDINFO" (`)
				for i, c := range r.ChildInfo {
					if i > 0 {
						e.SP()
					}
					e.String(c)
				}
				e.EndList()
			}
			if r.OldName != "" {
				if len(r.ChildInfo) > 0 {
					e.SP()
				}
				e.Atom(`"OLDNAME" (`)
				e.String(imap.EncodeMailbox(r.OldName, e.UTF8))
				e.EndList()
			}
			e.EndList()
		}
	case *imap.StatusData:
		e.Atom("STATUS ")
		e.Mailbox(r.Mailbox)
		e.Atom(" (")
		first := true
		item := func(name string, v uint64) {
			if !first {
				e.SP()
			}
			first = false
			e.Atom(name)
			e.SP()
			e.Number(v)
		}
		for _, it := range []struct {
			name string
			v    *uint32
		}{{"MESSAGES", r.Messages}, {"RECENT", r.Recent}, {"UIDNEXT", r.UIDNext}, {"UIDVALIDITY", r.UIDValidity},
			{"UNSEEN", r.Unseen}, {"DELETED", r.Deleted}} {
			if it.v != nil {
				item(it.name, uint64(*it.v))
			}
		}
		if r.Size != nil {
			item("SIZE", uint64(max(*r.Size, 0)))
		}
		if r.HighestModSeq != nil {
			item("HIGHESTMODSEQ", *r.HighestModSeq)
		}
		if r.AppendLimit != nil {
			item("APPENDLIMIT", *r.AppendLimit)
		}
		e.EndList()
	case *SearchData:
		e.Atom("SEARCH")
		for _, n := range r.Nums {
			e.SP()
			e.Number(uint64(n))
		}
		if r.ModSeq != 0 {
			e.Atom(" (MODSEQ ")
			e.Number(r.ModSeq)
			e.EndList()
		}
	case *ESearchData:
		e.Atom("ESEARCH")
		if r.Tag != "" {
			e.Atom(" (TAG ")
			e.String(r.Tag)
			e.EndList()
		}
		if r.UID {
			e.Atom(" UID")
		}
		if r.Min != 0 {
			e.Atom(" MIN ")
			e.Number(uint64(r.Min))
		}
		if r.Max != 0 {
			e.Atom(" MAX ")
			e.Number(uint64(r.Max))
		}
		if len(r.All) > 0 {
			e.Atom(" ALL ")
			e.SeqSet(r.All)
		}
		if r.Count != nil {
			e.Atom(" COUNT ")
			e.Number(uint64(*r.Count))
		}
		if r.ModSeq != 0 {
			e.Atom(" MODSEQ ")
			e.Number(r.ModSeq)
		}
	case *VanishedData:
		e.Atom("VANISHED ")
		if r.Earlier {
			e.Atom("(EARLIER) ")
		}
		e.UIDSet(r.UIDs)
	case *NamespaceData:
		e.Atom("NAMESPACE")
		for _, l := range [][]Namespace{r.Personal, r.Other, r.Shared} {
			e.SP()
			if len(l) == 0 {
				e.Nil()
				continue
			}
			e.BeginList()
			for _, ns := range l {
				e.BeginList()
				e.String(imap.EncodeMailbox(ns.Prefix, e.UTF8))
				e.SP()
				writeDelim(e, ns.Delim)
				names := make([]string, 0, len(ns.Extensions))
				for k := range ns.Extensions {
					names = append(names, k)
				}
				slices.Sort(names)
				for _, k := range names {
					e.SP()
					e.String(k)
					e.Atom(" (")
					for i, v := range ns.Extensions[k] {
						if i > 0 {
							e.SP()
						}
						e.String(v)
					}
					e.EndList()
				}
				e.EndList()
			}
			e.EndList()
		}
	case *IDData:
		e.Atom("ID ")
		if len(r.Fields) == 0 {
			e.Nil()
			break
		}
		e.BeginList()
		for i, f := range r.Fields {
			if i > 0 {
				e.SP()
			}
			e.String(f.Name)
			e.SP()
			if f.Value == nil {
				e.Nil()
			} else {
				e.String(*f.Value)
			}
		}
		e.EndList()
	case *QuotaData:
		e.Atom("QUOTA ")
		e.AString(r.Root)
		e.Atom(" (")
		for i, q := range r.Resources {
			if i > 0 {
				e.SP()
			}
			e.Atom(q.Name)
			e.SP()
			e.Number(q.Usage)
			e.SP()
			e.Number(q.Limit)
		}
		e.EndList()
	case *QuotaRootData:
		e.Atom("QUOTAROOT ")
		e.Mailbox(r.Mailbox)
		for _, root := range r.Roots {
			e.SP()
			e.AString(root)
		}
	default:
		return fmt.Errorf("imapwire: WriteResponse cannot write %T", r)
	}
	e.CRLF()
	return e.Err()
}

// writeDelim writes a hierarchy delimiter: a quoted character, or NIL.
func writeDelim(e *Encoder, r rune) {
	if r == 0 {
		e.Nil()
		return
	}
	var b [utf8.UTFMax]byte
	e.Quoted(string(b[:utf8.EncodeRune(b[:], r)]))
}

// FetchWriter writes one FETCH response item by item, so that a server
// streams body sections from its store. Begin with BeginFetch, write the
// items, and End.
type FetchWriter struct {
	e     *Encoder
	items int
}

// BeginFetch starts "* seq FETCH (".
func BeginFetch(e *Encoder, seq uint32) *FetchWriter {
	e.Atom("* ")
	e.Number(uint64(seq))
	e.Atom(" FETCH (")
	return &FetchWriter{e: e}
}

func (w *FetchWriter) name(s string) {
	if w.items > 0 {
		w.e.SP()
	}
	w.items++
	w.e.Atom(s)
	w.e.SP()
}

// UID writes UID.
func (w *FetchWriter) UID(uid uint32) { w.name("UID"); w.e.Number(uint64(uid)) }

// Flags writes FLAGS.
func (w *FetchWriter) Flags(flags []imap.Flag) { w.name("FLAGS"); w.e.FlagList(flags) }

// InternalDate writes INTERNALDATE.
func (w *FetchWriter) InternalDate(t time.Time) { w.name("INTERNALDATE"); w.e.DateTime(t) }

// RFC822Size writes RFC822.SIZE.
func (w *FetchWriter) RFC822Size(n int64) { w.name("RFC822.SIZE"); w.e.Number(uint64(max(n, 0))) }

// ModSeq writes MODSEQ (RFC 7162 §3.1.4).
func (w *FetchWriter) ModSeq(n uint64) {
	w.name("MODSEQ")
	w.e.BeginList()
	w.e.Number(n)
	w.e.EndList()
}

// Envelope writes ENVELOPE.
func (w *FetchWriter) Envelope(env *mime.Envelope) {
	w.name("ENVELOPE")
	imap.FormatEnvelope(w.e, env, w.e.UTF8)
}

// BodyStructure writes BODYSTRUCTURE (extended) or BODY.
func (w *FetchWriter) BodyStructure(s *mime.Structure, extended bool) {
	if extended {
		w.name("BODYSTRUCTURE")
	} else {
		w.name("BODY")
	}
	imap.FormatBodyStructure(w.e, s, extended, w.e.UTF8)
}

// BinarySize writes BINARY.SIZE[part].
func (w *FetchWriter) BinarySize(part []uint32, n uint64) {
	it := imap.FetchItem{Attr: imap.FetchBinarySize, Section: imap.Section{Part: part}}
	w.name(it.ResponseName())
	w.e.Number(n)
}

// Section writes a body section (BODY[...], BINARY[...], RFC822,
// RFC822.HEADER, RFC822.TEXT) named as a response names it, with size
// bytes of content streamed from r as a literal; r nil writes NIL. BINARY
// content goes as a literal8 (RFC 3516 §4.2).
func (w *FetchWriter) Section(it imap.FetchItem, size int64, r io.Reader) {
	w.name(it.ResponseName())
	switch {
	case r == nil:
		w.e.Nil()
	case it.Attr == imap.FetchBinary:
		w.e.Literal8(size, r)
	default:
		w.e.Literal(size, r)
	}
}

// Item writes any other item: its name and a value written by value.
func (w *FetchWriter) Item(name string, value func(e *Encoder)) {
	w.name(name)
	value(w.e)
}

// End closes the response: ")" CRLF.
func (w *FetchWriter) End() error {
	w.e.EndList()
	w.e.CRLF()
	return w.e.Err()
}
