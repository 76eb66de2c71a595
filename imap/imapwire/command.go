package imapwire

import (
	"strings"
	"time"

	"github.com/mailwire/mailwire/imap"
)

// Command is the start of a client command: its tag and name (RFC 3501
// §9 command). For "UID FETCH" and the other UID commands (RFC 3501
// §6.4.8), Name is the command after UID and UID is set.
type Command struct {
	Tag  string
	Name string // upper case
	UID  bool
}

func isTagChar(c byte) bool { return c != '+' && imap.IsAstringChar(c) }

// ReadCommand reads a command's tag and name. The arguments follow: a
// server reads them with the ReadXxxArgs function for the command, each
// of which reads through the final CRLF, or, for a command without
// arguments, with ReadNoArgs. On an error the server answers BAD (with
// the tag when it was read), calls DiscardLine and Reset, and reads on.
func ReadCommand(d *Decoder) (Command, error) {
	var c Command
	var ok bool
	c.Tag, ok = d.readWhile("tag", isTagChar)
	if !ok || !d.SP() || !d.Atom(&c.Name) {
		return c, d.Err()
	}
	c.Name = strings.ToUpper(c.Name)
	if c.Name == "UID" {
		c.UID = true
		if !d.SP() || !d.Atom(&c.Name) {
			return c, d.Err()
		}
		c.Name = strings.ToUpper(c.Name)
		switch c.Name {
		case "FETCH", "STORE", "COPY", "MOVE", "SEARCH", "EXPUNGE":
		default:
			d.Errorf("UID %s is not a command", c.Name)
			return c, d.Err()
		}
	}
	return c, nil
}

// ReadNoArgs reads the CRLF of a command without arguments (CAPABILITY,
// NOOP, LOGOUT, STARTTLS, CHECK, CLOSE, EXPUNGE, UNSELECT, IDLE,
// NAMESPACE).
func ReadNoArgs(d *Decoder) error {
	d.CRLF()
	return d.Err()
}

func end(d *Decoder) error {
	d.CRLF()
	return d.Err()
}

// ReadLoginArgs reads LOGIN's user name and password (RFC 3501 §6.2.3).
func ReadLoginArgs(d *Decoder) (user, password string, err error) {
	if d.SP() && d.AString(&user) && d.SP() {
		d.AString(&password)
	}
	return user, password, end(d)
}

// ReadAuthenticateArgs reads AUTHENTICATE's mechanism and the optional
// initial response of SASL-IR (RFC 4959): ir is nil when absent, and
// empty for "=" (an empty response). The response stays base64.
func ReadAuthenticateArgs(d *Decoder) (mech string, ir *string, err error) {
	if d.SP() && d.Atom(&mech) && d.Maybe(' ') {
		var s string
		if d.AtomSpecial(&s, "=") {
			if s == "=" {
				s = ""
			}
			ir = &s
		}
	}
	return strings.ToUpper(mech), ir, end(d)
}

// ReadMailboxArgs reads the one mailbox argument of CREATE, DELETE,
// SUBSCRIBE and UNSUBSCRIBE, decoded (see Decoder.Mailbox).
func ReadMailboxArgs(d *Decoder, utf8 bool) (string, error) {
	var name string
	if d.SP() {
		d.Mailbox(&name, utf8)
	}
	return name, end(d)
}

// ReadRenameArgs reads RENAME's two mailbox names.
func ReadRenameArgs(d *Decoder, utf8 bool) (from, to string, err error) {
	if d.SP() && d.Mailbox(&from, utf8) && d.SP() {
		d.Mailbox(&to, utf8)
	}
	return from, to, end(d)
}

// SelectArgs are the arguments of SELECT and EXAMINE.
type SelectArgs struct {
	Mailbox   string
	CondStore bool // (CONDSTORE), RFC 7162 §3.1.8
	// QResync holds the QRESYNC parameters (RFC 7162 §3.2.5), nil if
	// absent.
	QResync *QResyncArgs
}

// QResyncArgs are the parameters of SELECT (QRESYNC (...)).
type QResyncArgs struct {
	UIDValidity uint32
	ModSeq      uint64
	KnownUIDs   imap.UIDSet // optional
	// The optional sequence match data: sequence numbers and the UIDs
	// the client knows them by.
	SeqMatch imap.SeqSet
	UIDMatch imap.UIDSet
}

// ReadSelectArgs reads SELECT's or EXAMINE's arguments.
func ReadSelectArgs(d *Decoder, utf8 bool) (SelectArgs, error) {
	var a SelectArgs
	if !d.SP() || !d.Mailbox(&a.Mailbox, utf8) {
		return a, end(d)
	}
	if d.Maybe(' ') {
		d.List(func() bool {
			var name string
			if !d.Atom(&name) {
				return false
			}
			switch strings.ToUpper(name) {
			case "CONDSTORE":
				a.CondStore = true
				return true
			case "QRESYNC":
				q := &QResyncArgs{}
				a.QResync = q
				return d.SP() && d.Open() && d.NZNumber(&q.UIDValidity) && d.SP() && d.Number64(&q.ModSeq) &&
					qresyncRest(d, q) && d.Close()
			}
			return d.Errorf("unknown SELECT parameter %s", name)
		})
	}
	return a, end(d)
}

func qresyncRest(d *Decoder, q *QResyncArgs) bool {
	if !d.Maybe(' ') {
		return true
	}
	if !d.PeekIs('(') {
		if !d.UIDSet(&q.KnownUIDs) || !d.Maybe(' ') {
			return d.Err() == nil
		}
	}
	return d.Open() && d.SeqSet(&q.SeqMatch) && d.SP() && d.UIDSet(&q.UIDMatch) && d.Close()
}

// ListArgs are the arguments of LIST and LSUB, with LIST-EXTENDED's
// selection and return options (RFC 5258 §3) upper-cased.
type ListArgs struct {
	SelectOpts []string
	Reference  string
	Patterns   []string // one for plain LIST; decoded as mailbox names
	ReturnOpts []string
	// ReturnStatus holds the items of RETURN (STATUS (...)) (RFC 5819).
	ReturnStatus []imap.StatusItem
}

// listMailbox reads list-mailbox: 1*list-char / string.
func listMailbox(d *Decoder, p *string, utf8 bool) bool {
	var raw string
	c, ok := d.Peek()
	if !ok {
		return false
	}
	if c == '"' || d.atLiteral() {
		ok = d.String(&raw)
	} else {
		ok = d.AtomSpecial(&raw, "%*]")
	}
	if !ok {
		return false
	}
	name, err := imap.DecodeMailbox(raw, utf8)
	if err != nil {
		return d.fail(err)
	}
	*p = name
	return true
}

// ReadListArgs reads LIST's or LSUB's arguments.
func ReadListArgs(d *Decoder, utf8 bool) (ListArgs, error) {
	var a ListArgs
	opt := func(p *[]string) func() bool {
		return func() bool {
			var s string
			if !d.Atom(&s) {
				return false
			}
			*p = append(*p, strings.ToUpper(s))
			return true
		}
	}
	if !d.SP() {
		return a, end(d)
	}
	if d.PeekIs('(') && !(d.List(opt(&a.SelectOpts)) && d.SP()) {
		return a, end(d)
	}
	if !d.Mailbox(&a.Reference, utf8) || !d.SP() {
		return a, end(d)
	}
	if d.PeekIs('(') {
		d.List(func() bool {
			var p string
			if !listMailbox(d, &p, utf8) {
				return false
			}
			a.Patterns = append(a.Patterns, p)
			return true
		})
	} else {
		var p string
		if listMailbox(d, &p, utf8) {
			a.Patterns = append(a.Patterns, p)
		}
	}
	if d.Err() == nil && d.Maybe(' ') && d.ExpectAtom("RETURN") && d.SP() {
		d.List(func() bool {
			var s string
			if !d.Atom(&s) {
				return false
			}
			s = strings.ToUpper(s)
			a.ReturnOpts = append(a.ReturnOpts, s)
			if s == "STATUS" {
				return d.SP() && d.List(func() bool {
					var it string
					if !d.Atom(&it) {
						return false
					}
					a.ReturnStatus = append(a.ReturnStatus, imap.StatusItem(strings.ToUpper(it)))
					return true
				})
			}
			return true
		})
	}
	return a, end(d)
}

// ReadStatusArgs reads STATUS's mailbox and item names.
func ReadStatusArgs(d *Decoder, utf8 bool) (mailbox string, items []imap.StatusItem, err error) {
	if d.SP() && d.Mailbox(&mailbox, utf8) && d.SP() {
		d.List(func() bool {
			var it string
			if !d.Atom(&it) {
				return false
			}
			items = append(items, imap.StatusItem(strings.ToUpper(it)))
			return true
		})
	}
	return mailbox, items, end(d)
}

// AppendArgs are APPEND's arguments before the message.
type AppendArgs struct {
	Mailbox string
	Flags   []imap.Flag
	Date    time.Time // zero when absent
}

// ReadAppendArgs reads APPEND's mailbox, optional flag list and date-time,
// and the header of the message literal; it returns the literal, to be
// read to its end (the OnSyncLiteral hook sends the continuation first).
// A server checks the literal's Size (RFC 7889 APPENDLIMIT) before
// reading. The caller then calls ReadNoArgs for the final CRLF.
// MULTIAPPEND (RFC 3502) and CATENATE (RFC 4469) are not supported.
func ReadAppendArgs(d *Decoder, utf8 bool) (AppendArgs, *LiteralReader, error) {
	var a AppendArgs
	if !d.SP() || !d.Mailbox(&a.Mailbox, utf8) || !d.SP() {
		return a, nil, d.Err()
	}
	if d.PeekIs('(') && !(d.FlagList(&a.Flags) && d.SP()) {
		return a, nil, d.Err()
	}
	if d.PeekIs('"') {
		var s string
		if !d.Quoted(&s) || !d.SP() {
			return a, nil, d.Err()
		}
		t, err := imap.ParseDateTime(s)
		if err != nil {
			d.fail(err)
			return a, nil, err
		}
		a.Date = t
	}
	l, _ := d.Literal()
	return a, l, d.Err()
}

// FetchArgs are FETCH's arguments. Set holds UIDs for UID FETCH.
type FetchArgs struct {
	Set          imap.SeqSet
	Items        []imap.FetchItem
	ChangedSince uint64 // RFC 7162 §3.1.4.1; 0 when absent
	Vanished     bool   // RFC 7162 §3.2.6
}

// ReadFetchArgs reads FETCH's sequence set, items (a macro, one item or a
// list) and modifiers.
func ReadFetchArgs(d *Decoder) (FetchArgs, error) {
	var a FetchArgs
	if !d.SP() || !d.SeqSet(&a.Set) || !d.SP() {
		return a, end(d)
	}
	item := func() bool {
		var name string
		if !d.fetchItemName(&name) {
			return false
		}
		items, err := imap.ParseFetchItems(name)
		if err != nil {
			return d.fail(err)
		}
		a.Items = append(a.Items, items...)
		return true
	}
	var ok bool
	if d.PeekIs('(') {
		ok = d.List(func() bool {
			n := len(a.Items)
			if !item() {
				return false
			}
			if len(a.Items)-n != 1 {
				return d.Errorf("a macro cannot be part of a list")
			}
			return true
		})
	} else {
		ok = item()
	}
	if ok && d.Maybe(' ') {
		d.List(func() bool {
			var name string
			if !d.Atom(&name) {
				return false
			}
			switch strings.ToUpper(name) {
			case "CHANGEDSINCE":
				return d.SP() && d.Number64(&a.ChangedSince)
			case "VANISHED":
				a.Vanished = true
				return true
			}
			return d.Errorf("unknown FETCH modifier %s", name)
		})
	}
	return a, end(d)
}

// StoreOp is how STORE changes flags.
type StoreOp byte

// STORE operations.
const (
	StoreReplace StoreOp = '='
	StoreAdd     StoreOp = '+'
	StoreRemove  StoreOp = '-'
)

// StoreArgs are STORE's arguments. Set holds UIDs for UID STORE.
type StoreArgs struct {
	Set    imap.SeqSet
	Op     StoreOp
	Silent bool
	Flags  []imap.Flag
	// UnchangedSince is the UNCHANGEDSINCE modifier (RFC 7162 §3.1.3),
	// nil when absent.
	UnchangedSince *uint64
}

// ReadStoreArgs reads STORE's arguments. The flags may be a list or, as
// RFC 3501 §9 store-att-flags allows, bare flags separated by spaces.
func ReadStoreArgs(d *Decoder) (StoreArgs, error) {
	a := StoreArgs{Op: StoreReplace}
	if !d.SP() || !d.SeqSet(&a.Set) || !d.SP() {
		return a, end(d)
	}
	if d.PeekIs('(') {
		var mod string
		ok := d.Open() && d.Atom(&mod) && d.SP()
		if ok && !strings.EqualFold(mod, "UNCHANGEDSINCE") {
			ok = d.Errorf("unknown STORE modifier %s", mod)
		}
		var n uint64
		if !ok || !d.Number64(&n) || !d.Close() || !d.SP() {
			return a, end(d)
		}
		a.UnchangedSince = &n
	}
	var name string
	if !d.AtomSpecial(&name, "") {
		return a, end(d)
	}
	switch {
	case name[0] == '+' || name[0] == '-':
		a.Op = StoreOp(name[0])
		name = name[1:]
	}
	name = strings.ToUpper(name)
	if s, ok := strings.CutSuffix(name, ".SILENT"); ok {
		a.Silent, name = true, s
	}
	if name != "FLAGS" {
		d.Errorf("expected FLAGS, +FLAGS or -FLAGS")
		return a, end(d)
	}
	if !d.SP() {
		return a, end(d)
	}
	if d.PeekIs('(') {
		d.FlagList(&a.Flags)
	} else {
		a.Flags = []imap.Flag{}
		for {
			var f imap.Flag
			if !d.Flag(&f) {
				break
			}
			a.Flags = append(a.Flags, f)
			if !d.Maybe(' ') {
				break
			}
		}
	}
	for _, f := range a.Flags {
		if !f.Valid() {
			d.Errorf("invalid flag %s", f)
		}
	}
	return a, end(d)
}

// ReadCopyArgs reads the sequence set (UIDs for UID COPY) and mailbox of
// COPY and MOVE (RFC 6851).
func ReadCopyArgs(d *Decoder, utf8 bool) (set imap.SeqSet, mailbox string, err error) {
	if d.SP() && d.SeqSet(&set) && d.SP() {
		d.Mailbox(&mailbox, utf8)
	}
	return set, mailbox, end(d)
}

// ReadExpungeArgs reads UID EXPUNGE's UID set (RFC 4315 §2.1).
func ReadExpungeArgs(d *Decoder) (imap.UIDSet, error) {
	var s imap.UIDSet
	if d.SP() {
		d.UIDSet(&s)
	}
	return s, end(d)
}

// ReadEnableArgs reads ENABLE's capability names (RFC 5161 §3.1).
func ReadEnableArgs(d *Decoder) ([]imap.Capability, error) {
	var caps []imap.Capability
	for d.Maybe(' ') {
		var c string
		if !d.Atom(&c) {
			break
		}
		caps = append(caps, imap.Capability(c))
	}
	if len(caps) == 0 && d.Err() == nil {
		d.Errorf("ENABLE needs a capability")
	}
	return caps, end(d)
}

// ReadIDArgs reads ID's parameter list (RFC 2971 §3.1); NIL gives no
// fields.
func ReadIDArgs(d *Decoder) (*IDData, error) {
	id := &IDData{}
	if d.SP() {
		readID(d, id)
	}
	return id, end(d)
}

// SearchArgs are SEARCH's arguments.
type SearchArgs struct {
	// Return holds ESEARCH's RETURN options (RFC 4731 §3.1), upper case:
	// MIN, MAX, ALL, COUNT, SAVE. Nil when RETURN was absent; empty for
	// "RETURN ()".
	Return   []string
	Criteria imap.SearchCriteria
}

// ReadSearchArgs reads SEARCH's arguments into a tree of search keys.
func ReadSearchArgs(d *Decoder) (SearchArgs, error) {
	var a SearchArgs
	if !d.SP() {
		return a, end(d)
	}
	if d.MaybeAtom("RETURN") {
		a.Return = []string{}
		if !d.SP() || !d.List(func() bool {
			var s string
			if !d.Atom(&s) {
				return false
			}
			a.Return = append(a.Return, strings.ToUpper(s))
			return true
		}) || !d.SP() {
			return a, end(d)
		}
	}
	if d.MaybeAtom("CHARSET") {
		if !d.SP() || !d.AString(&a.Criteria.Charset) || !d.SP() {
			return a, end(d)
		}
	}
	for {
		var k imap.SearchKey
		if !readSearchKey(d, &k, 0) {
			break
		}
		a.Criteria.Keys = append(a.Criteria.Keys, k)
		if !d.Maybe(' ') {
			break
		}
	}
	return a, end(d)
}

// ReadSearchKey reads one search key (RFC 3501 §6.4.4, §9 search-key,
// with RFC 7162's MODSEQ and RFC 5032's OLDER and YOUNGER). Nesting of
// NOT, OR and parentheses is bounded by Limits.MaxDepth.
func (d *Decoder) ReadSearchKey(k *imap.SearchKey) bool { return readSearchKey(d, k, 0) }

func readSearchKey(d *Decoder, k *imap.SearchKey, depth int) bool {
	if depth > d.lim.MaxDepth {
		return d.fail(&LimitError{Limit: "MaxDepth", Max: int64(d.lim.MaxDepth)})
	}
	c, ok := d.Peek()
	if !ok {
		return false
	}
	switch {
	case c == '(':
		k.Op = imap.SearchAnd
		return d.List(func() bool {
			var sub imap.SearchKey
			if !readSearchKey(d, &sub, depth+1) {
				return false
			}
			k.Keys = append(k.Keys, sub)
			return true
		})
	case isDigit(c) || c == '*':
		k.Op = imap.SearchSeqSet
		return d.SeqSet(&k.Seq)
	}
	var name string
	if !d.Atom(&name) {
		return false
	}
	k.Op = imap.SearchOp(strings.ToUpper(name))
	kind, known := imap.SearchArg(k.Op)
	if !known || k.Op == imap.SearchAnd || k.Op == imap.SearchSeqSet {
		return d.Errorf("unknown search key %s", name)
	}
	if kind == imap.ArgNone {
		return true
	}
	if !d.SP() {
		return false
	}
	switch kind {
	case imap.ArgString:
		return d.AString(&k.Value)
	case imap.ArgHeader:
		return d.AString(&k.Field) && d.SP() && d.AString(&k.Value)
	case imap.ArgDate:
		var s string
		if d.PeekIs('"') {
			ok = d.Quoted(&s)
		} else {
			ok = d.Atom(&s)
		}
		if !ok {
			return false
		}
		t, err := imap.ParseDate(s)
		if err != nil {
			return d.fail(err)
		}
		k.Date = t
		return true
	case imap.ArgNumber:
		var n uint32
		if !d.Number(&n) {
			return false
		}
		k.Num = uint64(n)
		return true
	case imap.ArgFlag:
		var f imap.Flag
		if !d.Flag(&f) {
			return false
		}
		k.Flag = f
		return true
	case imap.ArgUIDSet:
		return d.UIDSet(&k.UIDs)
	case imap.ArgKeys1:
		k.Keys = make([]imap.SearchKey, 1)
		return readSearchKey(d, &k.Keys[0], depth+1)
	case imap.ArgKeys2:
		k.Keys = make([]imap.SearchKey, 2)
		return readSearchKey(d, &k.Keys[0], depth+1) && d.SP() && readSearchKey(d, &k.Keys[1], depth+1)
	case imap.ArgModSeq:
		if d.PeekIs('"') {
			if !d.Quoted(&k.ModSeqEntry) || !d.SP() || !d.Atom(&k.ModSeqType) || !d.SP() {
				return false
			}
			k.ModSeqType = strings.ToLower(k.ModSeqType)
		}
		return d.Number64(&k.Num)
	}
	return d.Errorf("unknown search key %s", name)
}
