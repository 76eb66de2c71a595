package imapserver

import (
	"strconv"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

var systemFlags = []imap.Flag{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagSeen, imap.FlagDraft}

// cmdSelect runs SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2).
func (c *Conn) cmdSelect(cmd imapwire.Command) error {
	args, err := imapwire.ReadSelectArgs(c.dec, false)
	if err != nil {
		return err
	}
	// RFC 3501 §6.3.1: a SELECT first deselects, even when it fails.
	c.unselect()
	readOnly := cmd.Name == "EXAMINE"
	mbox, err := c.session.Open(c.ctx, args.Mailbox, readOnly)
	if err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	snap, err := mbox.Poll(c.ctx)
	if err != nil {
		mbox.Close()
		return c.no(cmd.Tag, cmd, err)
	}
	s := &selected{name: args.Mailbox, mbox: mbox, readOnly: readOnly, msgs: snap.Messages,
		uidNext: snap.UIDNext, uidValid: snap.UIDValidity, perm: snap.PermanentFlags}
	c.sel, c.state = s, stateSelected

	flags := append([]imap.Flag(nil), systemFlags...)
	recent, unseen := 0, 0
	for i, m := range s.msgs {
		for _, f := range m.Flags {
			if f.Valid() && !f.IsSystem() && !imap.HasFlag(flags, f) {
				flags = append(flags, f)
			}
		}
		if m.Recent {
			recent++
		}
		if unseen == 0 && !imap.HasFlag(m.Flags, imap.FlagSeen) {
			unseen = i + 1
		}
	}
	c.untagged("FLAGS (" + joinFlags(flags) + ")")
	c.untagged(strconv.Itoa(len(s.msgs)) + " EXISTS")
	c.untagged(strconv.Itoa(recent) + " RECENT")
	if unseen > 0 {
		c.status("", imap.StatusOK, &imap.ResponseCode{Code: imap.CodeUnseen, Num: uint64(unseen)}, "first unseen")
	}
	perm := s.perm
	if perm == nil {
		perm = append(append([]imap.Flag(nil), systemFlags...), imap.FlagWildcard)
	}
	if readOnly {
		perm = []imap.Flag{}
	}
	c.status("", imap.StatusOK, &imap.ResponseCode{Code: imap.CodePermanentFlags, Flags: perm}, "flags permitted")
	c.status("", imap.StatusOK, &imap.ResponseCode{Code: imap.CodeUIDValidity, Num: uint64(s.uidValid)}, "UIDs valid")
	c.status("", imap.StatusOK, &imap.ResponseCode{Code: imap.CodeUIDNext, Num: uint64(s.uidNext)}, "predicted next UID")
	rc := code(imap.CodeReadWrite)
	if readOnly {
		rc = code(imap.CodeReadOnly)
	}
	c.status(cmd.Tag, imap.StatusOK, rc, cmd.Name+" completed")
	return nil
}

func joinFlags(flags []imap.Flag) string {
	s := ""
	for i, f := range flags {
		if i > 0 {
			s += " "
		}
		s += string(f)
	}
	return s
}

// cmdClose runs CLOSE (RFC 3501 §6.4.2), which expunges silently, and
// UNSELECT (RFC 3691), which does not.
func (c *Conn) cmdClose(cmd imapwire.Command) error {
	if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	if cmd.Name == "CLOSE" && !c.sel.readOnly {
		if uids := c.deleted(nil); len(uids) > 0 {
			if err := c.sel.mbox.Expunge(c.ctx, uids); err != nil {
				return c.no(cmd.Tag, cmd, err)
			}
		}
	}
	c.unselect()
	c.status(cmd.Tag, imap.StatusOK, nil, cmd.Name+" completed")
	return nil
}

// cmdCheck runs CHECK (RFC 3501 §6.4.1): the store has nothing pending.
func (c *Conn) cmdCheck(cmd imapwire.Command) error {
	if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	return c.ok(cmd.Tag, cmd, nil, "CHECK completed")
}

// deleted lists the UIDs in the view flagged \Deleted, within set when it
// is not nil.
func (c *Conn) deleted(set imap.UIDSet) []uint32 {
	var uids []uint32
	for _, m := range c.sel.msgs {
		if imap.HasFlag(m.Flags, imap.FlagDeleted) && (set == nil || set.Contains(m.UID)) {
			uids = append(uids, m.UID)
		}
	}
	return uids
}

// cmdExpunge runs EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315
// §2.1); ok reports the expunged messages.
func (c *Conn) cmdExpunge(cmd imapwire.Command) error {
	var set imap.UIDSet
	if cmd.UID {
		s, err := imapwire.ReadExpungeArgs(c.dec)
		if err != nil {
			return err
		}
		set = s.Resolve(c.sel.maxUID())
	} else if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	if c.sel.readOnly {
		return c.status2(cmd.Tag, imap.StatusNO, code(imap.CodeReadOnly), "mailbox is read-only")
	}
	if uids := c.deleted(set); len(uids) > 0 {
		if err := c.sel.mbox.Expunge(c.ctx, uids); err != nil {
			return c.no(cmd.Tag, cmd, err)
		}
	}
	return c.ok(cmd.Tag, cmd, nil, "EXPUNGE completed")
}

// status2 is status returning nil, for handlers.
func (c *Conn) status2(tag string, typ imap.StatusType, rc *imap.ResponseCode, text string) error {
	c.status(tag, typ, rc, text)
	return nil
}

// badSet answers a sequence set naming messages that do not exist.
func (c *Conn) badSet(tag string) error {
	return c.fail(tag, imap.StatusBAD, nil, "invalid message sequence number")
}

// cmdStore runs STORE and UID STORE (RFC 3501 §6.4.6).
func (c *Conn) cmdStore(cmd imapwire.Command) error {
	args, err := imapwire.ReadStoreArgs(c.dec)
	if err != nil {
		return err
	}
	if args.UnchangedSince != nil {
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "CONDSTORE not supported")
	}
	uids, ok := c.resolve(args.Set, cmd.UID)
	if !ok {
		return c.badSet(cmd.Tag)
	}
	if c.sel.readOnly {
		return c.status2(cmd.Tag, imap.StatusNO, code(imap.CodeReadOnly), "mailbox is read-only")
	}
	var flags []imap.Flag
	for _, f := range args.Flags {
		// \Recent is the server's (RFC 3501 §2.3.2).
		if !f.Equal(imap.FlagRecent) {
			flags = append(flags, f.Canonical())
		}
	}
	if len(uids) > 0 {
		if err := c.sel.mbox.Store(c.ctx, uids, byte(args.Op), flags); err != nil {
			return c.no(cmd.Tag, cmd, err)
		}
	}
	o := updateOpts{expunge: cmd.UID, uid: cmd.UID, report: map[uint32]bool{}, silent: map[uint32]bool{}}
	for _, u := range uids {
		if args.Silent {
			o.silent[u] = true
		} else {
			o.report[u] = true
		}
	}
	if err := c.updateWith(o); err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	c.status(cmd.Tag, imap.StatusOK, nil, "STORE completed")
	return nil
}

// cmdCopy runs COPY (RFC 3501 §6.4.7) and MOVE (RFC 6851), and their UID
// forms, with COPYUID (RFC 4315 §3).
func (c *Conn) cmdCopy(cmd imapwire.Command) error {
	set, dest, err := imapwire.ReadCopyArgs(c.dec, false)
	if err != nil {
		return err
	}
	uids, ok := c.resolve(set, cmd.UID)
	if !ok {
		return c.badSet(cmd.Tag)
	}
	if cmd.Name == "MOVE" && c.sel.readOnly {
		return c.status2(cmd.Tag, imap.StatusNO, code(imap.CodeReadOnly), "mailbox is read-only")
	}
	if len(uids) == 0 {
		return c.ok(cmd.Tag, cmd, nil, cmd.Name+" completed: nothing to do")
	}
	validity, newUIDs, err := c.sel.mbox.Copy(c.ctx, uids, dest)
	if err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	var rc *imap.ResponseCode
	if len(newUIDs) == len(uids) && validity != 0 {
		rc = &imap.ResponseCode{Code: imap.CodeCopyUID, UIDValidity: validity,
			SrcUIDs: imap.UIDSetNum(uids...), UIDs: imap.UIDSetNum(newUIDs...)}
	}
	if cmd.Name == "MOVE" {
		if err := c.sel.mbox.Expunge(c.ctx, uids); err != nil {
			return c.no(cmd.Tag, cmd, err)
		}
		// RFC 6851 §4.3: COPYUID in an untagged OK before the expunges.
		if rc != nil {
			c.status("", imap.StatusOK, rc, "moved")
			rc = nil
		}
	}
	return c.ok(cmd.Tag, cmd, rc, cmd.Name+" completed")
}
