package imapserver

import (
	"io"
	"strconv"
	"strings"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// readSearchArgs reads SEARCH's arguments as imapwire.ReadSearchArgs
// does, without RETURN (ESEARCH is not announced). It looks for CHARSET
// only in what has arrived: imapwire's MaybeAtom waits for more bytes than
// a short command such as "SEARCH ALL" has.
func (c *Conn) readSearchArgs() (imapwire.SearchArgs, error) {
	var a imapwire.SearchArgs
	d := c.dec
	if !d.SP() {
		return a, d.Err()
	}
	const word = "CHARSET "
	if b, _ := c.br.Peek(min(len(word), c.br.Buffered())); len(b) == len(word) && strings.EqualFold(string(b), word) {
		if !d.ExpectAtom("CHARSET") || !d.SP() || !d.AString(&a.Criteria.Charset) || !d.SP() {
			return a, d.Err()
		}
	}
	for {
		var k imap.SearchKey
		if !d.ReadSearchKey(&k) {
			return a, d.Err()
		}
		a.Criteria.Keys = append(a.Criteria.Keys, k)
		if !d.Maybe(' ') {
			break
		}
	}
	d.CRLF()
	return a, d.Err()
}

// cmdSearch runs SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8).
func (c *Conn) cmdSearch(cmd imapwire.Command) error {
	args, err := c.readSearchArgs()
	if err != nil {
		return err
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
