package imapserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/mime"
)

// maxHeaderSection bounds a header read into memory for HEADER.FIELDS.
const maxHeaderSection = 1 << 20

// cmdFetch runs FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8).
func (c *Conn) cmdFetch(cmd imapwire.Command) error {
	args, err := imapwire.ReadFetchArgs(c.dec)
	if err != nil {
		return err
	}
	if args.ChangedSince != 0 || args.Vanished {
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "CONDSTORE not supported")
	}
	for _, it := range args.Items {
		switch it.Attr {
		case imap.FetchBinary, imap.FetchBinarySize, imap.FetchModSeq:
			return c.fail(cmd.Tag, imap.StatusBAD, nil, "unsupported FETCH item "+string(it.Attr))
		}
	}
	uids, ok := c.resolve(args.Set, cmd.UID)
	if !ok {
		return c.badSet(cmd.Tag)
	}
	// RFC 3501 §6.4.5: fetching these sets \Seen, except in EXAMINE.
	setSeen := false
	for _, it := range args.Items {
		if it.SetsSeen() && !it.Peek {
			setSeen = !c.sel.readOnly
		}
	}
	if setSeen {
		var unseen []uint32
		for _, u := range uids {
			m := &c.sel.msgs[c.sel.seqOf(u)-1]
			if !imap.HasFlag(m.Flags, imap.FlagSeen) {
				unseen = append(unseen, u)
			}
		}
		if len(unseen) > 0 {
			if err := c.sel.mbox.Store(c.ctx, unseen, '+', []imap.Flag{imap.FlagSeen}); err != nil {
				return c.no(cmd.Tag, cmd, err)
			}
			// The changed FLAGS go with each message's response.
			for _, u := range unseen {
				m := &c.sel.msgs[c.sel.seqOf(u)-1]
				m.Flags = append(append([]imap.Flag(nil), m.Flags...), imap.FlagSeen)
			}
			setSeen = true
		} else {
			setSeen = false
		}
	}
	failed := false
	for _, u := range uids {
		seq := c.sel.seqOf(u)
		m := &c.sel.msgs[seq-1]
		if err := c.fetchOne(seq, m, args.Items, cmd.UID, setSeen); err != nil {
			if c.enc.Err() != nil {
				return c.enc.Err()
			}
			if errors.Is(err, ErrExpunged) {
				failed = true
				continue
			}
			return c.no(cmd.Tag, cmd, err)
		}
	}
	if failed {
		// RFC 3501 §7.4.1 and RFC 5530 EXPUNGEISSUED: some messages were
		// expunged by another session.
		return c.no(cmd.Tag, cmd, ErrExpunged)
	}
	return c.ok(cmd.Tag, cmd, nil, "FETCH completed")
}

// fetchOne writes the FETCH response of one message. Everything that may
// fail is computed before the response starts, except streamed sections.
func (c *Conn) fetchOne(seq uint32, m *MessageInfo, items []imap.FetchItem, uid, flags bool) error {
	type section struct {
		it   imap.FetchItem
		rng  sectionRange
		data []byte // HEADER.FIELDS, filtered
		none bool
	}
	var (
		env      *mime.Envelope
		bs       *mime.Structure
		sections []section
	)
	for _, it := range items {
		switch it.Attr {
		case imap.FetchEnvelope:
			if env == nil {
				h, err := c.readHeader(m.UID)
				if err != nil {
					return err
				}
				env = mime.EnvelopeOf(h)
			}
		case imap.FetchBody, imap.FetchBodyStructure:
			if bs == nil {
				s, err := c.structure(m.UID)
				if err != nil {
					return err
				}
				bs = s
			}
		case imap.FetchRFC822, imap.FetchRFC822Header, imap.FetchRFC822Text, imap.FetchBodySection:
			sec := it.Section
			switch it.Attr {
			case imap.FetchRFC822Header:
				sec = imap.Section{Specifier: imap.SpecHeader}
			case imap.FetchRFC822Text:
				sec = imap.Section{Specifier: imap.SpecText}
			}
			s := section{it: it}
			if len(sec.Part) == 0 && sec.Specifier == imap.SpecNone {
				s.rng = sectionRange{0, m.Size}
			} else {
				rc, err := c.sel.mbox.Open(c.ctx, m.UID)
				if err != nil {
					return err
				}
				s.rng, err = locateSection(rc, m.Size, sec)
				rc.Close()
				if errors.Is(err, errNoSection) {
					s.none, err = true, nil
				}
				if err != nil {
					return err
				}
			}
			if !s.none && (sec.Specifier == imap.SpecHeaderFields || sec.Specifier == imap.SpecHeaderFieldsNot) {
				h, err := c.readRange(m.UID, s.rng, maxHeaderSection)
				if err != nil {
					return err
				}
				s.data = filterHeader(h, sec.Fields, sec.Specifier == imap.SpecHeaderFieldsNot)
				s.rng = sectionRange{0, int64(len(s.data))}
			}
			sections = append(sections, s)
		}
	}

	w := imapwire.BeginFetch(c.enc, seq)
	wroteUID, wroteFlags := false, false
	if uid {
		w.UID(m.UID)
		wroteUID = true
	}
	si := 0
	for _, it := range items {
		switch it.Attr {
		case imap.FetchUID:
			if !wroteUID {
				w.UID(m.UID)
				wroteUID = true
			}
		case imap.FetchFlags:
			if !wroteFlags {
				w.Flags(viewFlags(m))
				wroteFlags = true
			}
		case imap.FetchInternalDate:
			w.InternalDate(m.InternalDate)
		case imap.FetchRFC822Size:
			w.RFC822Size(m.Size)
		case imap.FetchEnvelope:
			w.Envelope(env)
		case imap.FetchBody:
			w.BodyStructure(bs, false)
		case imap.FetchBodyStructure:
			w.BodyStructure(bs, true)
		case imap.FetchRFC822, imap.FetchRFC822Header, imap.FetchRFC822Text, imap.FetchBodySection:
			s := sections[si]
			si++
			if s.none {
				w.Section(it, 0, bytes.NewReader(nil))
				continue
			}
			start, n := partial(s.rng, it.Partial)
			if s.data != nil {
				w.Section(it, n, bytes.NewReader(s.data[start:start+n]))
				continue
			}
			rc, err := c.sel.mbox.Open(c.ctx, m.UID)
			if err != nil {
				// The response has started: it cannot be taken back.
				c.log.Error("backend error", "cmd", "FETCH", "err", err)
				return errClose
			}
			if _, err := io.CopyN(io.Discard, rc, start); err != nil {
				rc.Close()
				c.log.Error("backend error", "cmd", "FETCH", "err", err)
				return errClose
			}
			w.Section(it, n, io.LimitReader(rc, n))
			rc.Close()
		}
	}
	if flags && !wroteFlags {
		w.Flags(viewFlags(m))
	}
	return w.End()
}

// partial applies "<offset.count>" to a range (RFC 3501 §6.4.5).
func partial(r sectionRange, p *imap.Partial) (start, n int64) {
	start, n = r.Start, r.Len
	if p == nil {
		return start, n
	}
	off := int64(p.Offset)
	if off > n || off < 0 {
		return start + n, 0
	}
	start, n = start+off, n-off
	if p.Count > 0 && int64(p.Count) < n {
		n = int64(p.Count)
	}
	return start, n
}

// viewFlags returns the flags the client is told, \Recent included.
func viewFlags(m *MessageInfo) []imap.Flag {
	out := make([]imap.Flag, 0, len(m.Flags)+1)
	for _, f := range m.Flags {
		if f.Valid() && !f.Equal(imap.FlagRecent) {
			out = append(out, f.Canonical())
		}
	}
	if m.Recent {
		out = append(out, imap.FlagRecent)
	}
	return out
}

func (c *Conn) readHeader(uid uint32) (*message.Header, error) {
	rc, err := c.sel.mbox.Open(c.ctx, uid)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h, _, err := message.ReadHeaderLenient(bufio.NewReader(rc), message.Limits{})
	if h == nil {
		h = &message.Header{}
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		var he *message.HeaderError
		if !errors.As(err, &he) {
			return nil, err
		}
	}
	return h, nil
}

func (c *Conn) structure(uid uint32) (*mime.Structure, error) {
	rc, err := c.sel.mbox.Open(c.ctx, uid)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return mime.ReadStructure(rc)
}

// readRange reads [r.Start, r.Start+r.Len) of a message, at most max
// octets.
func (c *Conn) readRange(uid uint32, r sectionRange, max int64) ([]byte, error) {
	rc, err := c.sel.mbox.Open(c.ctx, uid)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if _, err := io.CopyN(io.Discard, rc, r.Start); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(rc, min(r.Len, max)))
}

var _ = context.Background
