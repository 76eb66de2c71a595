package imapwire

import (
	"io"
	"strings"

	"github.com/mailwire/mailwire/imap"
)

// ResponseOptions adjust how ReadResponse reads.
type ResponseOptions struct {
	// UTF8 says mailbox names are UTF-8 rather than modified UTF-7 (after
	// ENABLE UTF8=ACCEPT, RFC 6855 §3, or with IMAP4rev2).
	UTF8 bool

	// Section, when set, receives the content of each body section in a
	// FETCH response (BODY[...], BINARY[...], RFC822, RFC822.HEADER,
	// RFC822.TEXT) as a reader valid until it returns, so that a message
	// of any size streams through. When nil, sections are read into
	// SectionData.Data, bounded by Limits.MaxLiteral. An error from
	// Section ends ReadResponse with that error, and the connection is
	// then out of step.
	Section func(seq uint32, item imap.FetchItem, r io.Reader, size int64) error

	// FetchSection is Section with the FETCH response being read in place
	// of its sequence number: the items that came before the section are
	// already set in f (its UID, when the server sent that first, as
	// servers usually do). When FetchSection is set, Section is not
	// called. f is the value ReadResponse returns at the end.
	FetchSection func(f *FetchData, item imap.FetchItem, r io.Reader, size int64) error
}

// Continuation is a continuation request, "+ text" (RFC 3501 §7.5).
// During AUTHENTICATE the text is the base64 challenge.
type Continuation struct {
	Text string
}

// CapabilityData is a CAPABILITY response (RFC 3501 §7.2.1).
type CapabilityData struct {
	Caps imap.Capabilities
}

// FlagsData is a FLAGS response (RFC 3501 §7.2.6).
type FlagsData struct {
	Flags []imap.Flag
}

// NumKind names the responses that start with a number.
type NumKind string

// Message-number responses (RFC 3501 §7.3, §7.4.1).
const (
	NumExists  NumKind = "EXISTS"
	NumRecent  NumKind = "RECENT"
	NumExpunge NumKind = "EXPUNGE"
)

// NumData is an EXISTS, RECENT or EXPUNGE response.
type NumData struct {
	Kind NumKind
	Num  uint32
}

// SearchData is a SEARCH response (RFC 3501 §7.2.5), with the highest
// mod-sequence of the matches when CONDSTORE added it (RFC 7162 §3.1.5).
type SearchData struct {
	Nums   []uint32
	ModSeq uint64
}

// ESearchData is an ESEARCH response (RFC 4731 §3.1). Fields not returned
// are zero or nil; Count is a pointer as 0 is a valid count.
type ESearchData struct {
	Tag    string // the search correlator, "" when none
	UID    bool
	Min    uint32
	Max    uint32
	All    imap.SeqSet // sequence numbers, or UIDs when UID is set
	Count  *uint32
	ModSeq uint64 // RFC 7162 §3.1.5
}

// EnabledData is an ENABLED response (RFC 5161 §3.2).
type EnabledData struct {
	Caps []imap.Capability
}

// VanishedData is a VANISHED response (RFC 7162 §3.2.10).
type VanishedData struct {
	Earlier bool
	UIDs    imap.UIDSet
}

// ListData is a LIST or LSUB response (RFC 3501 §7.2.2, §7.2.3) with the
// extended data of RFC 5258 §3.
type ListData struct {
	Lsub    bool
	Attrs   []imap.MailboxAttr
	Delim   rune // 0 for NIL (a flat name space)
	Mailbox string
	// ChildInfo lists the CHILDINFO extended data item's values, such as
	// "SUBSCRIBED" (RFC 5258 §3.5); OldName is the OLDNAME item (RFC 5465
	// §5.4, RFC 9051).
	ChildInfo []string
	OldName   string
	// Status is set when LIST-STATUS returned a STATUS for the mailbox
	// in the same response set; ReadResponse returns STATUS separately,
	// so it stays nil here for callers to fill.
	Status *imap.StatusData
}

// NamespaceData is a NAMESPACE response (RFC 2342 §5).
type NamespaceData struct {
	Personal, Other, Shared []Namespace
}

// Namespace is one namespace description.
type Namespace struct {
	Prefix string
	Delim  rune
	// Extensions maps an extension's name to its values (RFC 2342 §5
	// Namespace_Response_Extensions).
	Extensions map[string][]string
}

// IDData is an ID response (RFC 2971 §3.2): field and value pairs in
// order; a nil Value is NIL. A NIL parameter list gives no Fields.
type IDData struct {
	Fields []IDField
}

// IDField is one field of an ID response.
type IDField struct {
	Name  string
	Value *string
}

// QuotaData is a QUOTA response (RFC 9208 §5.1, RFC 2087 §5.1).
type QuotaData struct {
	Root      string
	Resources []QuotaResource
}

// QuotaResource is a resource's usage and limit.
type QuotaResource struct {
	Name         string // upper case: STORAGE, MESSAGE...
	Usage, Limit uint64
}

// QuotaRootData is a QUOTAROOT response (RFC 9208 §5.2).
type QuotaRootData struct {
	Mailbox string
	Roots   []string
}

// UnknownData is an untagged response this package does not know,
// returned rather than dropped: its name and the rest of its line.
// Literals inside it are skipped.
type UnknownData struct {
	Name string
	Text string
}

// ReadResponse reads one server response: a continuation request, a
// status response (tagged or untagged), or untagged data. It returns one
// of *Continuation, *imap.StatusResponse, *CapabilityData, *ListData,
// *imap.StatusData, *SearchData, *ESearchData, *FlagsData, *NumData,
// *FetchData, *EnabledData, *VanishedData, *NamespaceData, *IDData,
// *QuotaData, *QuotaRootData, or *UnknownData. opts may be nil.
//
// On a syntax error the rest of the response is skipped, so the next
// call reads the next response; the error is a *ParseError (or a
// *LimitError, or an I/O error, after which the connection is lost).
func ReadResponse(d *Decoder, opts *ResponseOptions) (any, error) {
	if opts == nil {
		opts = &ResponseOptions{}
	}
	if d.err != nil {
		return nil, d.err
	}
	resp := readResponse(d, opts)
	if err := d.err; err != nil {
		if isParseError(err) {
			d.DiscardLine()
			d.Reset()
		}
		return nil, err
	}
	return resp, nil
}

func isParseError(err error) bool {
	_, ok := err.(*ParseError)
	if !ok {
		_, ok = err.(*imap.SyntaxError)
	}
	return ok
}

func readResponse(d *Decoder, opts *ResponseOptions) any {
	if d.Maybe('+') {
		d.Maybe(' ')
		var text string
		if !d.Text(&text) || !d.CRLF() {
			return nil
		}
		return &Continuation{Text: text}
	}
	var tag string
	if d.Maybe('*') {
		if !d.SP() {
			return nil
		}
	} else {
		if !d.AtomSpecial(&tag, "") || !d.SP() {
			return nil
		}
		var st imap.StatusResponse
		if !d.readStatus(&st) {
			return nil
		}
		st.Tag = tag
		return &st
	}
	c, ok := d.Peek()
	if !ok {
		return nil
	}
	if isDigit(c) {
		return readNumResponse(d, opts)
	}
	var name string
	if !d.Atom(&name) {
		return nil
	}
	name = strings.ToUpper(name)
	var resp any
	switch name {
	case "OK", "NO", "BAD", "PREAUTH", "BYE":
		st := &imap.StatusResponse{Type: imap.StatusType(name)}
		if !d.readRespText(st) {
			return nil
		}
		resp = st
	case "CAPABILITY":
		caps := imap.NewCapabilities()
		for d.Maybe(' ') {
			if d.AtEOL() {
				break
			}
			var c string
			if !d.AtomSpecial(&c, "") {
				return nil
			}
			caps.Add(imap.Capability(c))
		}
		resp = &CapabilityData{Caps: caps}
	case "ENABLED":
		var e EnabledData
		for d.Maybe(' ') {
			if d.AtEOL() {
				break
			}
			var c string
			if !d.Atom(&c) {
				return nil
			}
			e.Caps = append(e.Caps, imap.Capability(c))
		}
		resp = &e
	case "FLAGS":
		var f FlagsData
		if !d.SP() || !d.FlagList(&f.Flags) {
			return nil
		}
		resp = &f
	case "LIST", "LSUB":
		l := &ListData{Lsub: name == "LSUB"}
		if !d.SP() || !readList(d, l, opts.UTF8) {
			return nil
		}
		resp = l
	case "STATUS":
		s := &imap.StatusData{}
		if !d.SP() || !readStatusData(d, s, opts.UTF8) {
			return nil
		}
		resp = s
	case "SEARCH":
		s := &SearchData{}
		if !readSearch(d, s) {
			return nil
		}
		resp = s
	case "ESEARCH":
		s := &ESearchData{}
		if !readESearch(d, s) {
			return nil
		}
		resp = s
	case "VANISHED":
		v := &VanishedData{}
		if !d.SP() {
			return nil
		}
		if d.PeekIs('(') {
			if !d.Open() || !d.ExpectAtom("EARLIER") || !d.Close() || !d.SP() {
				return nil
			}
			v.Earlier = true
		}
		if !d.UIDSet(&v.UIDs) {
			return nil
		}
		resp = v
	case "NAMESPACE":
		n := &NamespaceData{}
		if !d.SP() || !readNamespaces(d, &n.Personal, opts.UTF8) || !d.SP() ||
			!readNamespaces(d, &n.Other, opts.UTF8) || !d.SP() || !readNamespaces(d, &n.Shared, opts.UTF8) {
			return nil
		}
		resp = n
	case "ID":
		id := &IDData{}
		if !d.SP() || !readID(d, id) {
			return nil
		}
		resp = id
	case "QUOTA":
		q := &QuotaData{}
		if !d.SP() || !readQuota(d, q) {
			return nil
		}
		resp = q
	case "QUOTAROOT":
		q := &QuotaRootData{}
		if !d.SP() || !readMailbox(d, &q.Mailbox, opts.UTF8) {
			return nil
		}
		for d.Maybe(' ') {
			var r string
			if !d.AString(&r) {
				return nil
			}
			q.Roots = append(q.Roots, r)
		}
		resp = q
	default:
		u := &UnknownData{Name: name}
		if d.Maybe(' ') {
			if !readRestSkippingLiterals(d, &u.Text) {
				return nil
			}
		}
		resp = u
	}
	if !d.CRLF() {
		return nil
	}
	return resp
}

// readRestSkippingLiterals reads the rest of a response of unknown syntax,
// skipping the bytes of literals, which are kept as "{n}".
func readRestSkippingLiterals(d *Decoder, p *string) bool {
	var b strings.Builder
	for {
		var t string
		if !d.Text(&t) {
			return false
		}
		b.WriteString(t)
		if !strings.HasSuffix(t, "}") {
			break
		}
		i := strings.LastIndexByte(t, '{')
		n, err := imap.ParseNumber(strings.TrimRight(t[i+1:len(t)-1], "+-"), 63)
		if i < 0 || err != nil {
			break
		}
		if !d.CRLF() {
			return false
		}
		if _, err := io.CopyN(io.Discard, d.r, int64(n)); err != nil {
			return d.ioErr(err)
		}
	}
	*p = b.String()
	return true
}

// readStatus reads "OK/NO/BAD/PREAUTH/BYE" resp-text CRLF.
func (d *Decoder) readStatus(st *imap.StatusResponse) bool {
	var name string
	if !d.Atom(&name) {
		return false
	}
	switch t := imap.StatusType(strings.ToUpper(name)); t {
	case imap.StatusOK, imap.StatusNO, imap.StatusBAD, imap.StatusPREAUTH, imap.StatusBYE:
		st.Type = t
	default:
		return d.Errorf("expected OK, NO, BAD, PREAUTH or BYE, found %q", name)
	}
	return d.readRespText(st) && d.CRLF()
}

// readRespText reads [SP ["[" resp-text-code "]" SP] text].
func (d *Decoder) readRespText(st *imap.StatusResponse) bool {
	if !d.Maybe(' ') {
		return true // lenient: "a1 OK" without text
	}
	if d.Maybe('[') {
		var code []byte
		for {
			c, ok := d.Peek()
			if !ok {
				return false
			}
			if c == ']' {
				break
			}
			if c == '\r' || c == '\n' {
				return d.Errorf("unterminated response code")
			}
			d.readByte()
			code = append(code, c)
		}
		d.readByte()
		rc, err := imap.ParseResponseCode(string(code))
		if err != nil {
			return d.fail(err)
		}
		st.Code = rc
		d.Maybe(' ')
	}
	return d.Text(&st.Text)
}

// ReadStatusResponse reads the rest of a status response after its tag
// and SP: condition, response code, text, CRLF.
func (d *Decoder) ReadStatusResponse(st *imap.StatusResponse) bool { return d.readStatus(st) }
