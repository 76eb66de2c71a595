package imapserver

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mailwire/mailwire/imap"
)

// selected is the server's view of the selected mailbox: the messages the
// client knows, by sequence number (index+1), with the flags it was told.
type selected struct {
	name     string
	mbox     Mailbox
	readOnly bool
	msgs     []MessageInfo
	uidNext  uint32
	uidValid uint32
	perm     []imap.Flag
}

// maxUID is the UID of the last message, 0 when empty.
func (s *selected) maxUID() uint32 {
	if len(s.msgs) == 0 {
		return 0
	}
	return s.msgs[len(s.msgs)-1].UID
}

// seqOf returns the sequence number of uid, 0 when not in the view.
func (s *selected) seqOf(uid uint32) uint32 {
	i, ok := slices.BinarySearchFunc(s.msgs, uid, func(m MessageInfo, u uint32) int {
		switch {
		case m.UID < u:
			return -1
		case m.UID > u:
			return 1
		}
		return 0
	})
	if !ok {
		return 0
	}
	return uint32(i + 1)
}

// updateOpts says what update may and must report.
type updateOpts struct {
	expunge bool            // EXPUNGE responses allowed (RFC 3501 §7.4.1)
	uid     bool            // add UID to FETCH responses (a UID command)
	report  map[uint32]bool // FETCH FLAGS for these even if unchanged
	silent  map[uint32]bool // no FETCH FLAGS for these (STORE .SILENT)
}

// update polls the mailbox and tells the client what changed since its
// view: EXPUNGE (when allowed), FETCH FLAGS and EXISTS/RECENT.
func (c *Conn) update(allowExpunge bool) error {
	return c.updateWith(updateOpts{expunge: allowExpunge})
}

func (c *Conn) updateWith(o updateOpts) error {
	s := c.sel
	if s == nil {
		return nil
	}
	snap, err := s.mbox.Poll(c.ctx)
	if err != nil {
		return err
	}
	now := make(map[uint32]*MessageInfo, len(snap.Messages))
	for i := range snap.Messages {
		now[snap.Messages[i].UID] = &snap.Messages[i]
	}
	// Expunged messages, in ascending order: each EXPUNGE renumbers the
	// messages after it.
	kept := s.msgs[:0:0]
	removed := 0
	for i, m := range s.msgs {
		if now[m.UID] == nil && o.expunge {
			c.untagged(strconv.Itoa(i+1-removed) + " EXPUNGE")
			removed++
			continue
		}
		kept = append(kept, m)
	}
	s.msgs = kept
	// Flag changes.
	for i := range s.msgs {
		m := &s.msgs[i]
		n := now[m.UID]
		if n == nil {
			continue
		}
		changed := !sameFlags(m.Flags, n.Flags) || m.Recent != n.Recent && n.Recent
		m.Flags = n.Flags
		if n.Recent {
			m.Recent = true
		}
		if (changed || o.report[m.UID]) && !o.silent[m.UID] {
			c.writeFlags(uint32(i+1), m, o.uid)
		}
	}
	// New messages.
	last := s.maxUID()
	added, recent := false, 0
	for _, n := range snap.Messages {
		if n.UID > last {
			s.msgs = append(s.msgs, n)
			added = true
		}
	}
	if snap.UIDNext > s.uidNext {
		s.uidNext = snap.UIDNext
	}
	if added || removed > 0 {
		for _, m := range s.msgs {
			if m.Recent {
				recent++
			}
		}
	}
	if added {
		c.untagged(strconv.Itoa(len(s.msgs)) + " EXISTS")
		c.untagged(strconv.Itoa(recent) + " RECENT")
	}
	return nil
}

// writeFlags writes "* seq FETCH (FLAGS (...))".
func (c *Conn) writeFlags(seq uint32, m *MessageInfo, uid bool) {
	line := strconv.FormatUint(uint64(seq), 10) + " FETCH ("
	if uid {
		line += "UID " + strconv.FormatUint(uint64(m.UID), 10) + " "
	}
	c.untagged(line + "FLAGS (" + flagString(m) + "))")
}

// flagString lists a message's valid flags, \Recent included.
func flagString(m *MessageInfo) string {
	var b strings.Builder
	for _, f := range m.Flags {
		if !f.Valid() || f.Equal(imap.FlagRecent) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(f.Canonical()))
	}
	if m.Recent {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(imap.FlagRecent))
	}
	return b.String()
}

func sameFlags(a, b []imap.Flag) bool {
	if len(a) != len(b) {
		return false
	}
	for _, f := range a {
		if !imap.HasFlag(b, f) {
			return false
		}
	}
	return true
}

// unselect closes the selected mailbox, if any.
func (c *Conn) unselect() {
	if c.sel == nil {
		return
	}
	if err := c.sel.mbox.Close(); err != nil {
		c.log.Error("backend error", "cmd", "close mailbox", "err", err)
	}
	c.sel = nil
	if c.state == stateSelected {
		c.state = stateAuthenticated
	}
}

// resolve returns the UIDs of the messages a sequence set (or, for a UID
// command, a UID set) names, in ascending order, and whether every
// sequence number exists (RFC 3501 §9: "*" is the largest number in use).
func (c *Conn) resolve(set imap.SeqSet, uid bool) ([]uint32, bool) {
	s := c.sel
	var uids []uint32
	if uid {
		us := imap.UIDSet(set).Resolve(s.maxUID())
		for _, m := range s.msgs {
			if us.Contains(m.UID) {
				uids = append(uids, m.UID)
			}
		}
		return uids, true
	}
	n := uint32(len(s.msgs))
	rs := set.Resolve(n)
	for _, r := range rs {
		if r.Stop > n || r.Start == 0 {
			return nil, false
		}
	}
	for seq := range rs.All(n) {
		uids = append(uids, s.msgs[seq-1].UID)
	}
	return uids, true
}
