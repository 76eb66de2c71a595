package imapclient

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// SelectOptions are the parameters of SELECT and EXAMINE.
type SelectOptions struct {
	// CondStore sends the CONDSTORE parameter (RFC 7162 §3.1.8), which
	// turns on mod-sequences for the session.
	CondStore bool
	// QResync sends the QRESYNC parameter (RFC 7162 §3.2.5): the server
	// reports what changed since ModSeq, the expunged UIDs through the
	// Handler's Vanished (with Earlier set) or in SelectData.Vanished,
	// the changed flags in SelectData.Changed. QRESYNC must have been
	// enabled first.
	QResync *imapwire.QResyncArgs
}

// SelectData is what SELECT or EXAMINE reports about the mailbox (RFC 3501
// §6.3.1, RFC 7162 §3.1.2, §3.2.5). Values the server did not send are
// zero.
type SelectData struct {
	Flags          []imap.Flag
	PermanentFlags []imap.Flag
	Exists         uint32
	Recent         uint32
	Unseen         uint32 // the first unseen message, when sent (not in IMAP4rev2)
	UIDNext        uint32
	UIDValidity    uint32
	HighestModSeq  uint64
	NoModSeq       bool // the mailbox has no mod-sequences (RFC 7162 §3.1.2.2)
	ReadOnly       bool // [READ-ONLY]: EXAMINE, or a mailbox the user may not change

	// Vanished and Changed are the answer to QRESYNC: the UIDs expunged
	// since the given mod-sequence (VANISHED (EARLIER)) and the FETCH
	// responses of messages changed since.
	Vanished imap.UIDSet
	Changed  []*imapwire.FetchData
}

// Select opens a mailbox read-write (RFC 3501 §6.3.1); o may be nil.
func (c *Client) Select(ctx context.Context, mailbox string, o *SelectOptions) (*SelectData, error) {
	return c.selectCmd(ctx, "SELECT", mailbox, o)
}

// Examine opens a mailbox read-only (RFC 3501 §6.3.2); o may be nil.
func (c *Client) Examine(ctx context.Context, mailbox string, o *SelectOptions) (*SelectData, error) {
	return c.selectCmd(ctx, "EXAMINE", mailbox, o)
}

func (c *Client) selectCmd(ctx context.Context, name, mailbox string, o *SelectOptions) (*SelectData, error) {
	if o == nil {
		o = &SelectOptions{}
	}
	cmd := c.newCommand(name)
	cmd.exclusive = true
	cmd.kinds = kindSelect | kindCode | kindFetch
	data := &SelectData{}
	cmd.onData = func(resp any) {
		switch r := resp.(type) {
		case *imapwire.FlagsData:
			data.Flags = r.Flags
		case *imapwire.NumData:
			if r.Kind == imapwire.NumExists {
				data.Exists = r.Num
			} else if r.Kind == imapwire.NumRecent {
				data.Recent = r.Num
			}
		case *imapwire.FetchData:
			data.Changed = append(data.Changed, r)
		case *imapwire.VanishedData:
			data.Vanished = append(data.Vanished, r.UIDs...)
		case *imap.StatusResponse:
			selectCode(data, r.Code)
		}
	}
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.Mailbox(mailbox)
		if o.CondStore || o.QResync != nil {
			e.SP()
			e.BeginList()
			if o.CondStore {
				e.Atom("CONDSTORE")
			}
			if q := o.QResync; q != nil {
				if o.CondStore {
					e.SP()
				}
				e.Atom("QRESYNC")
				e.SP()
				e.BeginList()
				e.Number(uint64(q.UIDValidity))
				e.SP()
				e.Number(q.ModSeq)
				if len(q.KnownUIDs) > 0 {
					e.SP()
					e.UIDSet(q.KnownUIDs)
				}
				if len(q.SeqMatch) > 0 && len(q.UIDMatch) > 0 {
					e.SP()
					e.BeginList()
					e.SeqSet(q.SeqMatch)
					e.SP()
					e.UIDSet(q.UIDMatch)
					e.EndList()
				}
				e.EndList()
			}
			e.EndList()
		}
	})
	if err != nil {
		return nil, err
	}
	if cmd.status != nil {
		selectCode(data, cmd.status.Code)
	}
	return data, nil
}

func selectCode(data *SelectData, rc *imap.ResponseCode) {
	if rc == nil {
		return
	}
	switch rc.Code {
	case imap.CodePermanentFlags:
		data.PermanentFlags = rc.Flags
	case imap.CodeUIDNext:
		data.UIDNext = uint32(rc.Num)
	case imap.CodeUIDValidity:
		data.UIDValidity = uint32(rc.Num)
	case imap.CodeUnseen:
		data.Unseen = uint32(rc.Num)
	case imap.CodeHighestModSeq:
		data.HighestModSeq = rc.Num
	case imap.CodeNoModSeq:
		data.NoModSeq = true
	case imap.CodeReadOnly:
		data.ReadOnly = true
	case imap.CodeReadWrite:
		data.ReadOnly = false
	}
}

// mailboxCmd runs a command whose one argument is a mailbox name.
func (c *Client) mailboxCmd(ctx context.Context, name, mailbox string) error {
	return c.run(ctx, c.newCommand(name), func(e *imapwire.Encoder) {
		e.SP()
		e.Mailbox(mailbox)
	})
}

// Create creates a mailbox (RFC 3501 §6.3.3).
func (c *Client) Create(ctx context.Context, mailbox string) error {
	return c.mailboxCmd(ctx, "CREATE", mailbox)
}

// Delete deletes a mailbox (RFC 3501 §6.3.4).
func (c *Client) Delete(ctx context.Context, mailbox string) error {
	return c.mailboxCmd(ctx, "DELETE", mailbox)
}

// Rename renames a mailbox (RFC 3501 §6.3.5).
func (c *Client) Rename(ctx context.Context, from, to string) error {
	return c.run(ctx, c.newCommand("RENAME"), func(e *imapwire.Encoder) {
		e.SP()
		e.Mailbox(from)
		e.SP()
		e.Mailbox(to)
	})
}

// Subscribe adds a mailbox to the subscriptions (RFC 3501 §6.3.6).
func (c *Client) Subscribe(ctx context.Context, mailbox string) error {
	return c.mailboxCmd(ctx, "SUBSCRIBE", mailbox)
}

// Unsubscribe removes a mailbox from the subscriptions (RFC 3501 §6.3.7).
func (c *Client) Unsubscribe(ctx context.Context, mailbox string) error {
	return c.mailboxCmd(ctx, "UNSUBSCRIBE", mailbox)
}

// ListOptions are LIST's extended options (RFC 5258 §3). The selection
// and return options need LIST-EXTENDED, SpecialUse SPECIAL-USE (RFC
// 6154), Status LIST-STATUS (RFC 5819).
type ListOptions struct {
	// Selection options: only subscribed mailboxes; remote ones too;
	// parents of matches; only special-use mailboxes.
	SelectSubscribed     bool
	SelectRemote         bool
	SelectRecursiveMatch bool
	SelectSpecialUse     bool

	// Return options: the \Subscribed attribute; \HasChildren or
	// \HasNoChildren; the special-use attributes; STATUS items for each
	// selectable mailbox, in ListData.Status.
	ReturnSubscribed bool
	ReturnChildren   bool
	ReturnSpecialUse bool
	ReturnStatus     []imap.StatusItem

	// Patterns are more mailbox patterns matched along with List's.
	Patterns []string
}

// List lists the mailboxes matching pattern under reference (RFC 3501
// §6.3.8): "*" matches any name, "%" any level of the hierarchy. o may be
// nil for a plain LIST.
func (c *Client) List(ctx context.Context, reference, pattern string, o *ListOptions) ([]*imapwire.ListData, error) {
	if o == nil {
		o = &ListOptions{}
	}
	var sel, ret []string
	for _, opt := range []struct {
		on   bool
		name string
		ret  bool
	}{
		{o.SelectSubscribed, "SUBSCRIBED", false},
		{o.SelectRemote, "REMOTE", false},
		{o.SelectRecursiveMatch, "RECURSIVEMATCH", false},
		{o.SelectSpecialUse, "SPECIAL-USE", false},
		{o.ReturnSubscribed, "SUBSCRIBED", true},
		{o.ReturnChildren, "CHILDREN", true},
		{o.ReturnSpecialUse, "SPECIAL-USE", true},
	} {
		if !opt.on {
			continue
		}
		if opt.ret {
			ret = append(ret, opt.name)
		} else {
			sel = append(sel, opt.name)
		}
	}
	cmd := c.newCommand("LIST")
	cmd.kinds = kindList
	if len(o.ReturnStatus) > 0 {
		cmd.kinds |= kindStatus
	}
	var list []*imapwire.ListData
	byName := map[string]*imapwire.ListData{}
	var early []*imap.StatusData
	cmd.onData = func(resp any) {
		switch r := resp.(type) {
		case *imapwire.ListData:
			list = append(list, r)
			byName[r.Mailbox] = r
		case *imap.StatusData:
			// RFC 5819 §2: STATUS follows its mailbox's LIST.
			if l := byName[r.Mailbox]; l != nil {
				l.Status = r
			} else {
				early = append(early, r)
			}
		}
	}
	patterns := append([]string{pattern}, o.Patterns...)
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		if len(sel) > 0 {
			e.BeginList()
			e.Atom(strings.Join(sel, " "))
			e.EndList()
			e.SP()
		}
		e.Mailbox(reference)
		e.SP()
		if len(patterns) > 1 {
			e.BeginList()
		}
		for i, p := range patterns {
			if i > 0 {
				e.SP()
			}
			listMailbox(e, p)
		}
		if len(patterns) > 1 {
			e.EndList()
		}
		if len(ret) > 0 || len(o.ReturnStatus) > 0 {
			e.Atom(" RETURN (")
			e.Atom(strings.Join(ret, " "))
			if len(o.ReturnStatus) > 0 {
				if len(ret) > 0 {
					e.SP()
				}
				e.Atom("STATUS ")
				statusItems(e, o.ReturnStatus)
			}
			e.EndList()
		}
	})
	for _, s := range early {
		if l := byName[s.Mailbox]; l != nil {
			l.Status = s
		}
	}
	return list, err
}

// listMailbox writes a list-mailbox: the wildcards "%" and "*" may go
// unquoted (RFC 3501 §9 list-char).
func listMailbox(e *imapwire.Encoder, p string) {
	enc := imap.EncodeMailbox(p, e.UTF8)
	ok := enc != ""
	for i := 0; i < len(enc); i++ {
		if ch := enc[i]; !imap.IsAstringChar(ch) && ch != '%' && ch != '*' {
			ok = false
			break
		}
	}
	if ok {
		e.Atom(enc)
	} else {
		e.String(enc)
	}
}

func statusItems(e *imapwire.Encoder, items []imap.StatusItem) {
	e.BeginList()
	for i, it := range items {
		if i > 0 {
			e.SP()
		}
		if !imap.IsAtom(string(it)) {
			e.String(string(it)) // refused by the server, harmless
			continue
		}
		e.Atom(string(it))
	}
	e.EndList()
}

// Lsub lists subscribed mailboxes (RFC 3501 §6.3.9).
func (c *Client) Lsub(ctx context.Context, reference, pattern string) ([]*imapwire.ListData, error) {
	cmd := c.newCommand("LSUB")
	cmd.kinds = kindList
	var list []*imapwire.ListData
	cmd.onData = func(resp any) { list = append(list, resp.(*imapwire.ListData)) }
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.Mailbox(reference)
		e.SP()
		listMailbox(e, pattern)
	})
	return list, err
}

// Status asks for the status of a mailbox (RFC 3501 §6.3.10).
func (c *Client) Status(ctx context.Context, mailbox string, items []imap.StatusItem) (*imap.StatusData, error) {
	cmd := c.newCommand("STATUS")
	cmd.kinds = kindStatus
	var data *imap.StatusData
	cmd.onData = func(resp any) { data = resp.(*imap.StatusData) }
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.Mailbox(mailbox)
		e.SP()
		statusItems(e, items)
	})
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("%w: no STATUS response", ErrProtocol)
	}
	return data, nil
}

// AppendOptions are APPEND's optional arguments.
type AppendOptions struct {
	Flags []imap.Flag
	Date  time.Time // the internal date; zero lets the server choose
	// Binary sends the message as a literal8 (RFC 3516 §4.4), which may
	// hold NUL bytes; the server must announce BINARY.
	Binary bool
}

// AppendData is the result of APPEND: with UIDPLUS (RFC 4315 §3), the
// UID given to the message and the mailbox's UIDVALIDITY; zero otherwise.
type AppendData struct {
	UIDValidity uint32
	UID         uint32
}

// Append adds a message of size bytes read from r to a mailbox (RFC 3501
// §6.3.11), streaming it: the message is never held in memory. o may be
// nil. A server's refusal before the message is sent (NO [TOOBIG],
// [TRYCREATE]) is an *imap.Error, and r is then not read.
func (c *Client) Append(ctx context.Context, mailbox string, size int64, r io.Reader, o *AppendOptions) (*AppendData, error) {
	if o == nil {
		o = &AppendOptions{}
	}
	cmd := c.newCommand("APPEND")
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.Mailbox(mailbox)
		if len(o.Flags) > 0 {
			e.SP()
			e.FlagList(o.Flags)
		}
		if !o.Date.IsZero() {
			e.SP()
			e.DateTime(o.Date)
		}
		e.SP()
		if o.Binary {
			e.Literal8(size, r)
		} else {
			e.Literal(size, r)
		}
	})
	if err != nil {
		return nil, err
	}
	data := &AppendData{}
	if rc := cmd.status.Code; rc.Is(imap.CodeAppendUID) {
		data.UIDValidity = rc.UIDValidity
		if uids, ok := rc.UIDs.Nums(); ok && len(uids) == 1 {
			data.UID = uids[0]
		}
	}
	return data, nil
}

// Check asks for a checkpoint of the selected mailbox (RFC 3501 §6.4.1).
func (c *Client) Check(ctx context.Context) error { return c.simple(ctx, "CHECK") }

// CloseMailbox closes the selected mailbox with CLOSE (RFC 3501 §6.4.2),
// expunging its \Deleted messages silently when it was opened read-write.
func (c *Client) CloseMailbox(ctx context.Context) error {
	cmd := c.newCommand("CLOSE")
	cmd.exclusive = true
	return c.run(ctx, cmd, nil)
}

// Unselect closes the selected mailbox without expunging (RFC 3691).
func (c *Client) Unselect(ctx context.Context) error {
	cmd := c.newCommand("UNSELECT")
	cmd.exclusive = true
	return c.run(ctx, cmd, nil)
}

// ExpungeData lists what EXPUNGE removed: the sequence numbers in the
// order the server reported them (each as numbered when reported), or,
// after ENABLE QRESYNC, the UIDs (RFC 7162 §3.2.10).
type ExpungeData struct {
	Seqs []uint32
	UIDs imap.UIDSet
}

func (c *Client) expungeCollector(cmd *command) *ExpungeData {
	data := &ExpungeData{}
	cmd.kinds |= kindExpunge
	prev := cmd.onData
	cmd.onData = func(resp any) {
		switch r := resp.(type) {
		case *imapwire.NumData:
			data.Seqs = append(data.Seqs, r.Num)
		case *imapwire.VanishedData:
			data.UIDs = append(data.UIDs, r.UIDs...)
		default:
			if prev != nil {
				prev(resp)
			}
		}
	}
	return data
}

// Expunge removes the messages flagged \Deleted (RFC 3501 §6.4.3).
func (c *Client) Expunge(ctx context.Context) (*ExpungeData, error) {
	cmd := c.newCommand("EXPUNGE")
	data := c.expungeCollector(cmd)
	if err := c.run(ctx, cmd, nil); err != nil {
		return nil, err
	}
	return data, nil
}

// UIDExpunge removes the messages among uids that are flagged \Deleted
// (RFC 4315 §2.1, UIDPLUS).
func (c *Client) UIDExpunge(ctx context.Context, uids imap.UIDSet) (*ExpungeData, error) {
	cmd := c.newCommand("UID EXPUNGE")
	data := c.expungeCollector(cmd)
	if err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.UIDSet(uids)
	}); err != nil {
		return nil, err
	}
	return data, nil
}

// QuotaRootData is the answer to GETQUOTAROOT: the quota roots of the
// mailbox and their quotas.
type QuotaRootData struct {
	Roots  []string
	Quotas []*imapwire.QuotaData
}

// GetQuota returns the usage and limits of a quota root (RFC 9208 §4.2).
func (c *Client) GetQuota(ctx context.Context, root string) (*imapwire.QuotaData, error) {
	cmd := c.newCommand("GETQUOTA")
	cmd.kinds = kindQuota
	var data *imapwire.QuotaData
	cmd.onData = func(resp any) {
		if q, ok := resp.(*imapwire.QuotaData); ok {
			data = q
		}
	}
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.AString(root)
	})
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("%w: no QUOTA response", ErrProtocol)
	}
	return data, nil
}

// GetQuotaRoot returns the quota roots of a mailbox and their quotas
// (RFC 9208 §4.3).
func (c *Client) GetQuotaRoot(ctx context.Context, mailbox string) (*QuotaRootData, error) {
	cmd := c.newCommand("GETQUOTAROOT")
	cmd.kinds = kindQuota
	data := &QuotaRootData{}
	cmd.onData = func(resp any) {
		switch r := resp.(type) {
		case *imapwire.QuotaRootData:
			data.Roots = append(data.Roots, r.Roots...)
		case *imapwire.QuotaData:
			data.Quotas = append(data.Quotas, r)
		}
	}
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.Mailbox(mailbox)
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}
