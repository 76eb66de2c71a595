package imapserver

import (
	"io"
	"strconv"
	"strings"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// cmdSearch runs SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8).
func (c *Conn) cmdSearch(cmd imapwire.Command) error {
	args, err := imapwire.ReadSearchArgs(c.dec)
	if err != nil {
		return err
	}
	if args.Return != nil {
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "ESEARCH not supported")
	}
	switch strings.ToUpper(args.Criteria.Charset) {
	case "", "US-ASCII", "UTF-8":
	default:
		return c.status2(cmd.Tag, imap.StatusNO, &imap.ResponseCode{Code: imap.CodeBadCharset, Charsets: []string{"US-ASCII", "UTF-8"}}, "unsupported charset")
	}
	if err := args.Criteria.Validate(); err != nil {
		return c.fail(cmd.Tag, imap.StatusBAD, nil, err.Error())
	}
	s := c.sel
	line := "SEARCH"
	for i := range s.msgs {
		info := &s.msgs[i]
		m := &searchMsg{seq: uint32(i + 1), maxSeq: uint32(len(s.msgs)), maxUID: s.maxUID(), info: info,
			max:  c.srv.limits().MaxSectionBytes,
			open: func() (io.ReadCloser, error) { return s.mbox.Open(c.ctx, info.UID) }}
		all := true
		for j := range args.Criteria.Keys {
			if !matchKey(&args.Criteria.Keys[j], m) {
				all = false
				break
			}
		}
		if all {
			n := uint64(i + 1)
			if cmd.UID {
				n = uint64(info.UID)
			}
			line += " " + strconv.FormatUint(n, 10)
		}
	}
	c.untagged(line)
	return c.ok(cmd.Tag, cmd, nil, "SEARCH completed")
}
