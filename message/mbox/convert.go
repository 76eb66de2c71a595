package mbox

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/mailwire/mailwire/message/maildir"
)

// maxPeekHeader bounds how much of a message's header ToMaildir and
// FromMaildir look at for Status, X-Status and Return-Path.
const maxPeekHeader = 64 << 10

// headerFields returns the values of the named fields (lower case, no
// colon) in the header at the start of b, unfolded; b may be cut short.
func headerFields(b []byte, names ...string) map[string]string {
	// Values are built in slices and joined at the end: appending to a
	// string for each continuation line would be quadratic.
	parts := map[string][]string{}
	var cur string
	for len(b) > 0 {
		line := b
		i := bytes.IndexByte(b, '\n')
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != "" {
				parts[cur] = append(parts[cur], strings.TrimSpace(string(line)))
			}
			continue
		}
		cur = ""
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		n := strings.ToLower(strings.TrimSpace(string(name)))
		for _, want := range names {
			if n == want {
				if _, seen := parts[n]; !seen {
					cur = n
					parts[n] = []string{strings.TrimSpace(string(value))}
				}
			}
		}
	}
	out := make(map[string]string, len(parts))
	for n, p := range parts {
		out[n] = strings.Join(p, " ")
	}
	return out
}

// statusFlags maps the Status and X-Status fields that mutt, Dovecot and
// other mbox readers keep to Maildir flags: R (read) is Seen; in X-Status
// A is Replied, F Flagged, T Draft and D Trashed (deleted).
func statusFlags(status, xstatus string) maildir.Flags {
	var f []maildir.Flag
	if strings.ContainsRune(status, 'R') {
		f = append(f, maildir.FlagSeen)
	}
	for _, c := range xstatus {
		switch c {
		case 'A':
			f = append(f, maildir.FlagReplied)
		case 'F':
			f = append(f, maildir.FlagFlagged)
		case 'T':
			f = append(f, maildir.FlagDraft)
		case 'D':
			f = append(f, maildir.FlagTrashed)
		}
	}
	return maildir.NewFlags(f...)
}

// ToMaildir copies every message of r into dst (with Dir.Append, so each is
// durable when counted), taking flags from Status and X-Status header
// fields and the internal date from the separator line. The messages are
// stored as read, header fields included. It returns the number of
// messages stored.
func ToMaildir(dst *maildir.Dir, r *Reader) (int, error) {
	n := 0
	br := bufio.NewReaderSize(nil, maxPeekHeader)
	for {
		m, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		br.Reset(m)
		head, _ := br.Peek(maxPeekHeader)
		h := headerFields(head, "status", "x-status")
		if _, err := dst.Append(br, statusFlags(h["status"], h["x-status"]), m.Date); err != nil {
			return n, fmt.Errorf("mbox: message %d: %w", n+1, err)
		}
		n++
	}
}

// FromMaildir writes every message of src, in UID order, to w. The
// separator carries the sender from the Return-Path field (MAILER-DAEMON
// when there is none) and the internal date; flags become Status and
// X-Status fields at the top of the header, replacing any there were. It
// returns the number of messages written. Call w.Flush afterwards.
func FromMaildir(w *Writer, src *maildir.Dir) (int, error) {
	msgs, err := src.List()
	if err != nil {
		return 0, err
	}
	n := 0
	br := bufio.NewReaderSize(nil, maxPeekHeader)
	for _, msg := range msgs {
		f, err := src.Open(msg.Key)
		if err != nil {
			if isNotExist(err) {
				continue // removed meanwhile
			}
			return n, err
		}
		br.Reset(f)
		head, _ := br.Peek(maxPeekHeader)
		sender := strings.Trim(headerFields(head, "return-path")["return-path"], "<> \t")
		if sender == "" || strings.ContainsFunc(sender, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
			sender = "MAILER-DAEMON"
		}
		status := "Status: O\n"
		if msg.Flags.Has(maildir.FlagSeen) {
			status = "Status: RO\n"
		}
		var x []byte
		for _, p := range []struct {
			f maildir.Flag
			c byte
		}{{maildir.FlagReplied, 'A'}, {maildir.FlagFlagged, 'F'}, {maildir.FlagDraft, 'T'}, {maildir.FlagTrashed, 'D'}} {
			if msg.Flags.Has(p.f) {
				x = append(x, p.c)
			}
		}
		if len(x) > 0 {
			status += "X-Status: " + string(x) + "\n"
		}
		body := io.MultiReader(strings.NewReader(status), &dropFields{br: br, lineStart: true, inHeader: true})
		err = w.WriteMessage(sender, msg.Date, body)
		f.Close()
		if err != nil {
			return n, fmt.Errorf("mbox: message %s: %w", msg.Key, err)
		}
		n++
	}
	return n, nil
}

// dropFields streams a message without its Status and X-Status fields.
type dropFields struct {
	br        *bufio.Reader
	lineStart bool
	inHeader  bool
	dropping  bool
}

func (d *dropFields) Read(p []byte) (int, error) {
	for {
		if !d.inHeader {
			return d.br.Read(p)
		}
		if d.lineStart {
			b, _ := d.br.Peek(len("x-status:"))
			if len(b) == 0 {
				return 0, io.EOF
			}
			switch {
			case b[0] == ' ' || b[0] == '\t':
				// continuation: same fate as the field it continues
			case b[0] == '\n' || bytes.HasPrefix(b, []byte("\r\n")):
				d.inHeader, d.dropping = false, false
				continue
			default:
				lb := bytes.ToLower(b)
				d.dropping = bytes.HasPrefix(lb, []byte("status:")) || bytes.HasPrefix(lb, []byte("x-status:"))
			}
			d.lineStart = false
		}
		b, err := d.br.Peek(max(d.br.Buffered(), 1))
		if len(b) == 0 {
			return 0, err
		}
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[:i+1]
			d.lineStart = true
		}
		if d.dropping {
			d.br.Discard(len(b))
			continue
		}
		n := copy(p, b)
		d.br.Discard(n)
		if n < len(b) {
			d.lineStart = false
		}
		return n, nil
	}
}
