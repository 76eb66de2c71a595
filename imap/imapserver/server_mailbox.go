package imapserver

import (
	"io"
	"strings"
	"time"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// cmdCreate runs CREATE (RFC 3501 §6.3.3).
func (c *Conn) cmdCreate(cmd imapwire.Command) error {
	name, err := imapwire.ReadMailboxArgs(c.dec, false)
	if err != nil {
		return err
	}
	// RFC 3501 §6.3.3: a trailing delimiter only says that inferiors
	// will follow.
	name = strings.TrimSuffix(name, "/")
	if name == "" || strings.EqualFold(name, imap.Inbox) {
		return c.status2(cmd.Tag, imap.StatusNO, code(imap.CodeAlreadyExists), "cannot create that mailbox")
	}
	if err := c.session.Create(c.ctx, name); err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	return c.ok(cmd.Tag, cmd, nil, "CREATE completed")
}

// cmdDelete runs DELETE (RFC 3501 §6.3.4).
func (c *Conn) cmdDelete(cmd imapwire.Command) error {
	name, err := imapwire.ReadMailboxArgs(c.dec, false)
	if err != nil {
		return err
	}
	if name == imap.Inbox {
		return c.status2(cmd.Tag, imap.StatusNO, code(imap.CodeCannot), "INBOX cannot be deleted")
	}
	if err := c.session.Delete(c.ctx, name); err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	return c.ok(cmd.Tag, cmd, nil, "DELETE completed")
}

// cmdRename runs RENAME (RFC 3501 §6.3.5).
func (c *Conn) cmdRename(cmd imapwire.Command) error {
	from, to, err := imapwire.ReadRenameArgs(c.dec, false)
	if err != nil {
		return err
	}
	if to == imap.Inbox {
		return c.status2(cmd.Tag, imap.StatusNO, code(imap.CodeAlreadyExists), "cannot rename to INBOX")
	}
	if err := c.session.Rename(c.ctx, from, to); err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	return c.ok(cmd.Tag, cmd, nil, "RENAME completed")
}

// cmdSubscribe runs SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6, §6.3.7).
func (c *Conn) cmdSubscribe(cmd imapwire.Command) error {
	name, err := imapwire.ReadMailboxArgs(c.dec, false)
	if err != nil {
		return err
	}
	if err := c.session.Subscribe(c.ctx, name, cmd.Name == "SUBSCRIBE"); err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	return c.ok(cmd.Tag, cmd, nil, cmd.Name+" completed")
}

// cmdList runs LIST and LSUB (RFC 3501 §6.3.8, §6.3.9) over the
// Session's list of mailboxes.
func (c *Conn) cmdList(cmd imapwire.Command) error {
	args, err := imapwire.ReadListArgs(c.dec, false)
	if err != nil {
		return err
	}
	if len(args.SelectOpts) > 0 || len(args.ReturnOpts) > 0 || len(args.Patterns) != 1 {
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "LIST-EXTENDED not supported")
	}
	lsub := cmd.Name == "LSUB"
	boxes, err := c.session.Mailboxes(c.ctx)
	if err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	delim := '/'
	if len(boxes) > 0 {
		delim = boxes[0].Delim
	}
	if args.Patterns[0] == "" && !lsub {
		// RFC 3501 §6.3.8: the hierarchy delimiter and root name.
		root := ""
		if delim != 0 {
			if i := strings.IndexRune(args.Reference, delim); i >= 0 {
				root = args.Reference[:i+1]
			}
		}
		c.writeList(&imapwire.ListData{Attrs: []imap.MailboxAttr{imap.AttrNoSelect}, Delim: delim, Mailbox: root})
		return c.ok(cmd.Tag, cmd, nil, cmd.Name+" completed")
	}
	pattern := args.Reference + args.Patterns[0]
	names := make(map[string]bool, len(boxes))
	for _, b := range boxes {
		names[b.Name] = true
	}
	for _, b := range boxes {
		if lsub && !b.Subscribed {
			continue
		}
		if !matchMailbox(pattern, b.Name, b.Delim) {
			continue
		}
		attrs := append([]imap.MailboxAttr(nil), b.Attrs...)
		if !lsub && b.Delim != 0 {
			children := false
			prefix := b.Name + string(b.Delim)
			for n := range names {
				if strings.HasPrefix(n, prefix) {
					children = true
					break
				}
			}
			if children {
				attrs = append(attrs, imap.AttrHasChildren)
			} else {
				attrs = append(attrs, imap.AttrHasNoChildren)
			}
		}
		c.writeList(&imapwire.ListData{Lsub: lsub, Attrs: attrs, Delim: b.Delim, Mailbox: b.Name})
	}
	return c.ok(cmd.Tag, cmd, nil, cmd.Name+" completed")
}

func (c *Conn) writeList(l *imapwire.ListData) {
	if err := imapwire.WriteResponse(c.enc, l); err != nil {
		c.log.Error("LIST response", "err", err)
	}
}

// matchMailbox matches a LIST pattern (RFC 3501 §6.3.8): "*" matches any
// run of characters, "%" any run without the hierarchy delimiter. INBOX
// matches without regard to case.
func matchMailbox(pattern, name string, delim rune) bool {
	if strings.EqualFold(name, imap.Inbox) && strings.EqualFold(pattern, imap.Inbox) {
		return true
	}
	return match([]rune(pattern), []rune(name), delim)
}

func match(p, n []rune, delim rune) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*', '%':
			for i := 0; i <= len(n); i++ {
				if match(p[1:], n[i:], delim) {
					return true
				}
				if i < len(n) && p[0] == '%' && delim != 0 && n[i] == delim {
					return false
				}
			}
			return false
		default:
			if len(n) == 0 || n[0] != p[0] {
				return false
			}
			p, n = p[1:], n[1:]
		}
	}
	return len(n) == 0
}

// cmdStatus runs STATUS (RFC 3501 §6.3.10).
func (c *Conn) cmdStatus(cmd imapwire.Command) error {
	name, items, err := imapwire.ReadStatusArgs(c.dec, false)
	if err != nil {
		return err
	}
	st, err := c.session.Status(c.ctx, name)
	if err != nil {
		return c.no(cmd.Tag, cmd, err)
	}
	d := &imap.StatusData{Mailbox: name}
	for _, it := range items {
		switch it {
		case imap.StatusMessages:
			d.Messages = &st.Messages
		case imap.StatusRecent:
			d.Recent = &st.Recent
		case imap.StatusUIDNext:
			d.UIDNext = &st.UIDNext
		case imap.StatusUIDValidity:
			d.UIDValidity = &st.UIDValidity
		case imap.StatusUnseen:
			d.Unseen = &st.Unseen
		default:
			return c.fail(cmd.Tag, imap.StatusBAD, nil, "unsupported STATUS item "+string(it))
		}
	}
	if err := imapwire.WriteResponse(c.enc, d); err != nil {
		c.log.Error("STATUS response", "err", err)
	}
	return c.ok(cmd.Tag, cmd, nil, "STATUS completed")
}

// cmdAppend runs APPEND (RFC 3501 §6.3.11), streaming the message literal
// to the Session, with APPENDUID (RFC 4315 §3).
func (c *Conn) cmdAppend(cmd imapwire.Command) error {
	args, lit, err := imapwire.ReadAppendArgs(c.dec, false)
	if err != nil {
		return err
	}
	var flags []imap.Flag
	for _, f := range args.Flags {
		if !f.Equal(imap.FlagRecent) {
			flags = append(flags, f.Canonical())
		}
	}
	date := args.Date
	if date.IsZero() {
		date = time.Now()
	}
	uid, validity, aerr := c.session.Append(c.ctx, args.Mailbox, flags, date, lit.Size, lit)
	// Whatever the Session did not read is still on its way.
	if _, err := io.Copy(io.Discard, lit); err != nil {
		return err
	}
	if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	if aerr != nil {
		return c.no(cmd.Tag, cmd, aerr)
	}
	var rc *imap.ResponseCode
	if uid != 0 && validity != 0 {
		rc = &imap.ResponseCode{Code: imap.CodeAppendUID, UIDValidity: validity, UIDs: imap.UIDSetNum(uid)}
	}
	return c.ok(cmd.Tag, cmd, rc, "APPEND completed")
}
