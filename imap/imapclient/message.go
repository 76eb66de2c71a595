package imapclient

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// SearchOptions are SEARCH's optional parts.
type SearchOptions struct {
	// The ESEARCH return options (RFC 4731 §3.1): the lowest and highest
	// match, all matches as a set, their count. With none set, the
	// command is a plain SEARCH, whose answer fills every SearchData field.
	// Setting any needs ESEARCH.
	ReturnMin, ReturnMax, ReturnAll, ReturnCount bool
}

// SearchData is the answer to SEARCH (RFC 3501 §7.2.5) or ESEARCH (RFC
// 4731): message sequence numbers, or UIDs for UID SEARCH. Values not
// asked for are zero.
type SearchData struct {
	All   imap.SeqSet // the matches
	Min   uint32
	Max   uint32
	Count uint32
	// ModSeq is the highest mod-sequence of the matches, when the
	// criteria had a MODSEQ key (RFC 7162 §3.1.5).
	ModSeq uint64
}

// Nums returns the matches, ascending.
func (d *SearchData) Nums() []uint32 {
	n, _ := d.All.Nums()
	return n
}

// Search searches the selected mailbox (RFC 3501 §6.4.4); o may be nil.
// The numbers are message sequence numbers.
func (c *Client) Search(ctx context.Context, criteria imap.SearchCriteria, o *SearchOptions) (*SearchData, error) {
	return c.search(ctx, false, criteria, o)
}

// UIDSearch is Search answering with UIDs (RFC 3501 §6.4.8).
func (c *Client) UIDSearch(ctx context.Context, criteria imap.SearchCriteria, o *SearchOptions) (*SearchData, error) {
	return c.search(ctx, true, criteria, o)
}

func (c *Client) search(ctx context.Context, uid bool, criteria imap.SearchCriteria, o *SearchOptions) (*SearchData, error) {
	if o == nil {
		o = &SearchOptions{}
	}
	if err := criteria.Validate(); err != nil {
		return nil, err
	}
	var ret []string
	for _, r := range []struct {
		on   bool
		name string
	}{{o.ReturnMin, "MIN"}, {o.ReturnMax, "MAX"}, {o.ReturnAll, "ALL"}, {o.ReturnCount, "COUNT"}} {
		if r.on {
			ret = append(ret, r.name)
		}
	}
	if len(ret) > 0 {
		if has, err := c.has(ctx, imap.CapESearch); err != nil {
			return nil, err
		} else if !has {
			return nil, fmt.Errorf("%w: ESEARCH", ErrUnsupported)
		}
	}
	cmd := c.msgCommand("SEARCH", uid)
	cmd.kinds = kindSearch
	data := &SearchData{}
	cmd.onData = func(resp any) {
		switch r := resp.(type) {
		case *imapwire.SearchData:
			nums := slices.Clone(r.Nums)
			slices.Sort(nums)
			nums = slices.Compact(nums)
			data.All.AddNum(nums...)
			data.Count += uint32(len(nums))
			if len(nums) > 0 {
				if data.Min == 0 || nums[0] < data.Min {
					data.Min = nums[0]
				}
				data.Max = max(data.Max, nums[len(nums)-1])
			}
			data.ModSeq = max(data.ModSeq, r.ModSeq)
		case *imapwire.ESearchData:
			data.All, data.Min, data.Max, data.ModSeq = r.All, r.Min, r.Max, r.ModSeq
			if r.Count != nil {
				data.Count = *r.Count
			}
		}
	}
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		if len(ret) > 0 {
			e.Atom(" RETURN (")
			for i, r := range ret {
				if i > 0 {
					e.SP()
				}
				e.Atom(r)
			}
			e.EndList()
		}
		e.SP()
		criteria.Format(e)
	})
	if err != nil {
		return nil, err
	}
	data.All = data.All.Normalize()
	return data, nil
}

// msgCommand makes a command on messages: by sequence number, which
// RFC 3501 §5.5 keeps apart from commands that may expunge, or by UID.
func (c *Client) msgCommand(name string, uid bool) *command {
	if uid {
		return c.newCommand("UID " + name)
	}
	cmd := c.newCommand(name)
	cmd.seqNums = true
	// RFC 3501 §7.4.1: no EXPUNGE during FETCH, STORE and SEARCH.
	cmd.noExpunge = name == "FETCH" || name == "STORE" || name == "SEARCH"
	return cmd
}

// FetchOptions are FETCH's optional parts.
type FetchOptions struct {
	// ChangedSince fetches only messages whose mod-sequence is higher
	// (RFC 7162 §3.1.4.1, CONDSTORE); 0 sends none.
	ChangedSince uint64
	// Vanished, for UID FETCH with ChangedSince after ENABLE QRESYNC,
	// asks for the UIDs expunged since (RFC 7162 §3.2.6), which
	// FetchCommand.Vanished returns.
	Vanished bool

	// Section, when set, receives the content of each body section
	// (BODY[...], BINARY[...], RFC822...) as it arrives, streamed: r is
	// valid until Section returns, and what it leaves unread is skipped,
	// so that a message of any size passes without being held in memory.
	// msg holds the items of the same FETCH response that came before
	// the section (its UID, when the server sent it first, as servers
	// do); the whole response is then returned by Next without the
	// section. Section runs on the Client's reading goroutine: it must
	// not wait for the Client's calls. After it returns an error it is
	// not called again, and Close returns the error.
	//
	// When Section is nil, sections are read into memory (bounded by
	// Options.Limits.MaxLiteral) and returned in FetchData.Sections.
	Section func(msg *imapwire.FetchData, item imap.FetchItem, r io.Reader, size int64) error
}

// FetchCommand is a FETCH (or STORE) in progress. Its responses come one
// by one from Next; Close ends it. A FetchCommand must be read to the end
// or closed: until then the Client's other commands wait for their
// responses behind its own.
type FetchCommand struct {
	c   *Client
	ctx context.Context
	cmd *command
	ch  chan *imapwire.FetchData

	stop     chan struct{}
	stopOnce sync.Once
	err      error // of sending, or of Next's wait
	secErr   error // of the Section callback (reading goroutine)
	vanished imap.UIDSet
}

// Fetch fetches data items of the messages in set (RFC 3501 §6.4.5); o
// may be nil. The command is sent before Fetch returns; read the
// responses with Next and end with Close, or use Collect.
func (c *Client) Fetch(ctx context.Context, set imap.SeqSet, items []imap.FetchItem, o *FetchOptions) *FetchCommand {
	return c.fetch(ctx, false, set, items, o)
}

// UIDFetch is Fetch of the messages with the given UIDs (RFC 3501 §6.4.8);
// the responses always include the UID.
func (c *Client) UIDFetch(ctx context.Context, uids imap.UIDSet, items []imap.FetchItem, o *FetchOptions) *FetchCommand {
	return c.fetch(ctx, true, imap.SeqSet(uids), items, o)
}

func (c *Client) newFetchCommand(ctx context.Context, cmd *command) *FetchCommand {
	fc := &FetchCommand{c: c, ctx: ctx, cmd: cmd, ch: make(chan *imapwire.FetchData, 64), stop: make(chan struct{})}
	cmd.kinds |= kindFetch
	cmd.onData = func(resp any) {
		switch r := resp.(type) {
		case *imapwire.FetchData:
			select {
			case fc.ch <- r:
			case <-fc.stop:
			case <-c.closed:
			case <-ctx.Done():
				cmd.abandoned.Store(true)
			}
		case *imapwire.VanishedData:
			fc.vanished = append(fc.vanished, r.UIDs...)
		}
	}
	cmd.onDone = func() { close(fc.ch) }
	return fc
}

func (c *Client) fetch(ctx context.Context, uid bool, set imap.SeqSet, items []imap.FetchItem, o *FetchOptions) *FetchCommand {
	if o == nil {
		o = &FetchOptions{}
	}
	cmd := c.msgCommand("FETCH", uid)
	fc := c.newFetchCommand(ctx, cmd)
	if o.Section != nil {
		cmd.onSection = func(f *imapwire.FetchData, it imap.FetchItem, r io.Reader, size int64) {
			if fc.secErr == nil {
				fc.secErr = o.Section(f, it, r, size)
			}
		}
	}
	if len(set) == 0 {
		fc.err = fmt.Errorf("imapclient: FETCH of an empty set")
	} else if len(items) == 0 {
		fc.err = fmt.Errorf("imapclient: FETCH of no items")
	} else {
		fc.err = c.send(ctx, cmd, func(e *imapwire.Encoder) {
			e.SP()
			e.SeqSet(set)
			e.SP()
			imap.FormatFetchItems(e, items)
			if o.ChangedSince > 0 || o.Vanished {
				e.Atom(" (CHANGEDSINCE ")
				e.Number(o.ChangedSince)
				if o.Vanished {
					e.Atom(" VANISHED")
				}
				e.EndList()
			}
		})
	}
	if fc.err != nil {
		close(fc.stop)
	}
	return fc
}

// Next returns the next FETCH response, or nil when there are no more
// (the command completed, failed, or Close was called); Close then says
// how it ended. Responses may come in any order, and may include
// unsolicited ones about other messages (RFC 3501 §7.4.2).
func (fc *FetchCommand) Next() *imapwire.FetchData {
	if fc.err != nil {
		return nil
	}
	select {
	case <-fc.stop:
		return nil
	default:
	}
	f, ok, err := waitRecv(fc.ctx, fc.c, nil, fc.ch)
	if err != nil {
		fc.err = err
		fc.cmd.abandoned.Store(true)
		fc.stopOnce.Do(func() { close(fc.stop) })
		return nil
	}
	if !ok {
		return nil
	}
	return f
}

// Close stops the delivery of responses (the rest are read and dropped)
// and waits for the command to complete. It returns nil when the server
// answered OK, an *imap.Error for NO or BAD, the error of sending the
// command or of a Section callback, or the connection's error.
func (fc *FetchCommand) Close() error {
	if fc.err != nil {
		return fc.err
	}
	fc.stopOnce.Do(func() { close(fc.stop) })
	if err := fc.c.wait(fc.ctx, fc.cmd); err != nil {
		return err
	}
	return fc.secErr
}

// Collect reads every response and closes the command.
func (fc *FetchCommand) Collect() ([]*imapwire.FetchData, error) {
	var out []*imapwire.FetchData
	for f := fc.Next(); f != nil; f = fc.Next() {
		out = append(out, f)
	}
	return out, fc.Close()
}

// Vanished returns the UIDs reported expunged by UID FETCH with
// FetchOptions.Vanished (VANISHED (EARLIER), RFC 7162 §3.2.6), valid after
// Close.
func (fc *FetchCommand) Vanished() imap.UIDSet { return fc.vanished }

// StoreFlags is what STORE does to flags (RFC 3501 §6.4.6).
type StoreFlags struct {
	Op    imapwire.StoreOp // replace, add or remove
	Flags []imap.Flag
	// Silent asks the server not to answer with the new flags
	// (FLAGS.SILENT).
	Silent bool
}

// StoreOptions are STORE's modifiers.
type StoreOptions struct {
	// UnchangedSince makes the store conditional (RFC 7162 §3.1.3):
	// messages whose mod-sequence is higher are left alone and listed in
	// StoreData.Modified. Nil sends none.
	UnchangedSince *uint64
}

// StoreData is the answer to STORE: the FETCH responses with the new
// flags (none with Silent) and, for a conditional store, the messages it
// did not change ([MODIFIED], sequence numbers or UIDs as the command
// used).
type StoreData struct {
	Fetch    []*imapwire.FetchData
	Modified imap.SeqSet
}

// Store changes the flags of the messages in set (RFC 3501 §6.4.6); o may
// be nil.
func (c *Client) Store(ctx context.Context, set imap.SeqSet, flags StoreFlags, o *StoreOptions) (*StoreData, error) {
	return c.store(ctx, false, set, flags, o)
}

// UIDStore is Store of the messages with the given UIDs.
func (c *Client) UIDStore(ctx context.Context, uids imap.UIDSet, flags StoreFlags, o *StoreOptions) (*StoreData, error) {
	return c.store(ctx, true, imap.SeqSet(uids), flags, o)
}

func (c *Client) store(ctx context.Context, uid bool, set imap.SeqSet, flags StoreFlags, o *StoreOptions) (*StoreData, error) {
	if o == nil {
		o = &StoreOptions{}
	}
	var item string
	switch flags.Op {
	case imapwire.StoreReplace:
		item = "FLAGS"
	case imapwire.StoreAdd:
		item = "+FLAGS"
	case imapwire.StoreRemove:
		item = "-FLAGS"
	default:
		return nil, fmt.Errorf("imapclient: unknown STORE operation %q", flags.Op)
	}
	if flags.Silent {
		item += ".SILENT"
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("imapclient: STORE to an empty set")
	}
	cmd := c.msgCommand("STORE", uid)
	fc := c.newFetchCommand(ctx, cmd)
	fc.err = c.send(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.SeqSet(set)
		if o.UnchangedSince != nil {
			e.Atom(" (UNCHANGEDSINCE ")
			e.Number(*o.UnchangedSince)
			e.EndList()
		}
		e.SP()
		e.Atom(item)
		e.SP()
		e.FlagList(flags.Flags)
	})
	data := &StoreData{}
	var err error
	data.Fetch, err = fc.Collect()
	if err != nil {
		return nil, err
	}
	if rc := cmd.status.Code; rc.Is(imap.CodeModified) {
		data.Modified = rc.Modified
	}
	return data, nil
}

// CopyData is what COPY or MOVE reports with UIDPLUS (RFC 4315 §3,
// COPYUID): the destination's UIDVALIDITY, and the UIDs of the messages
// copied and of their copies, in the same order. Zero without UIDPLUS.
type CopyData struct {
	UIDValidity uint32
	SrcUIDs     imap.UIDSet
	DstUIDs     imap.UIDSet
}

func copyData(rc *imap.ResponseCode, data *CopyData) {
	if rc.Is(imap.CodeCopyUID) {
		data.UIDValidity, data.SrcUIDs, data.DstUIDs = rc.UIDValidity, rc.SrcUIDs, rc.UIDs
	}
}

// Copy copies the messages in set to a mailbox (RFC 3501 §6.4.7).
func (c *Client) Copy(ctx context.Context, set imap.SeqSet, mailbox string) (*CopyData, error) {
	return c.copyMove(ctx, "COPY", false, set, mailbox)
}

// UIDCopy copies the messages with the given UIDs.
func (c *Client) UIDCopy(ctx context.Context, uids imap.UIDSet, mailbox string) (*CopyData, error) {
	return c.copyMove(ctx, "COPY", true, imap.SeqSet(uids), mailbox)
}

// Move moves the messages in set to a mailbox (RFC 6851); their expunges
// from the selected mailbox reach the Handler. The server must announce
// MOVE.
func (c *Client) Move(ctx context.Context, set imap.SeqSet, mailbox string) (*CopyData, error) {
	return c.copyMove(ctx, "MOVE", false, set, mailbox)
}

// UIDMove moves the messages with the given UIDs.
func (c *Client) UIDMove(ctx context.Context, uids imap.UIDSet, mailbox string) (*CopyData, error) {
	return c.copyMove(ctx, "MOVE", true, imap.SeqSet(uids), mailbox)
}

func (c *Client) copyMove(ctx context.Context, name string, uid bool, set imap.SeqSet, mailbox string) (*CopyData, error) {
	if name == "MOVE" {
		if has, err := c.has(ctx, imap.CapMove); err != nil {
			return nil, err
		} else if !has {
			return nil, fmt.Errorf("%w: MOVE", ErrUnsupported)
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("imapclient: %s of an empty set", name)
	}
	cmd := c.msgCommand(name, uid)
	data := &CopyData{}
	if name == "MOVE" {
		// RFC 6851 §4.3: COPYUID comes in an untagged OK before the
		// expunges.
		cmd.kinds = kindCode
		cmd.onData = func(resp any) {
			if st, ok := resp.(*imap.StatusResponse); ok {
				copyData(st.Code, data)
			}
		}
	}
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.SeqSet(set)
		e.SP()
		e.Mailbox(mailbox)
	})
	if err != nil {
		return nil, err
	}
	copyData(cmd.status.Code, data)
	return data, nil
}
