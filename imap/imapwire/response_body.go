package imapwire

import (
	"strings"

	"github.com/mailwire/mailwire/internal/charset"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/mime"
)

// Envelope reads an ENVELOPE structure (RFC 3501 §7.4.2) into e. The raw
// address fields (From, To...) are rebuilt from the address structures
// with message.FormatAddressList; display names have their RFC 2047 words
// decoded.
func (d *Decoder) Envelope(e *mime.Envelope) bool {
	if !d.Open() {
		return false
	}
	ok := d.NString(&e.Date) && d.SP() && d.NString(&e.Subject)
	lists := []*[]*message.Address{&e.FromAddrs, &e.SenderAddrs, &e.ReplyToAddrs, &e.ToAddrs, &e.CcAddrs, &e.BccAddrs}
	raws := []*string{&e.From, &e.Sender, &e.ReplyTo, &e.To, &e.Cc, &e.Bcc}
	for i, l := range lists {
		if !ok || !d.SP() || !d.addressList(l) {
			return false
		}
		if *l != nil {
			*raws[i] = message.FormatAddressList(*l)
		}
	}
	if !ok || !d.SP() || !d.NString(&e.InReplyTo) || !d.SP() || !d.NString(&e.MessageID) {
		return false
	}
	// Lenient: some servers add fields; skip them.
	for d.Maybe(' ') {
		if !d.SkipValue() {
			return false
		}
	}
	return d.Close()
}

// addressList reads "(" 1*address ")" / nil, rebuilding groups from the
// start and end markers.
func (d *Decoder) addressList(p *[]*message.Address) bool {
	if d.MaybeNil() {
		*p = nil
		return true
	}
	var list []*message.Address
	var group *message.Address
	ok := d.List(func() bool {
		var name, adl, mbox, host *string
		if !d.Open() || !d.NStringPtr(&name) || !d.SP() || !d.NStringPtr(&adl) || !d.SP() ||
			!d.NStringPtr(&mbox) || !d.SP() || !d.NStringPtr(&host) || !d.Close() {
			return false
		}
		if host == nil {
			if mbox != nil { // start of a group: the name is in mbox
				group = &message.Address{IsGroup: true, Name: decodeWords(*mbox)}
				list = append(list, group)
			} else {
				group = nil // end of group
			}
			return true
		}
		a := &message.Address{}
		if name != nil {
			a.Name = decodeWords(*name)
		}
		local := ""
		if mbox != nil {
			local = *mbox
		}
		a.Addr = local
		if *host != "" {
			a.Addr = local + "@" + *host
		}
		if group != nil {
			group.Members = append(group.Members, a)
		} else {
			list = append(list, a)
		}
		return true
	})
	*p = list
	return ok
}

func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if dec, err := message.DecodeWords(s); err == nil {
		return dec
	}
	return s
}

// BodyStructure reads a body structure as BODY or BODYSTRUCTURE sends it
// (RFC 3501 §7.4.2, §9 body) into the mime package's type. Type, subtype,
// encoding, parameter names and the disposition are lower-cased, as
// mime.ReadStructure gives them; part paths are assigned as IMAP numbers
// parts (RFC 3501 §6.4.5). Extension data beyond location are skipped.
func (d *Decoder) BodyStructure() (*mime.Structure, bool) {
	s, ok := d.body()
	if !ok {
		return nil, false
	}
	assignPaths(s, nil, true)
	return s, true
}

func assignPaths(s *mime.Structure, prefix mime.Path, numbered bool) {
	if s.Type == "multipart" {
		s.Path = prefix
		for i, c := range s.Children {
			assignPaths(c, append(append(mime.Path(nil), prefix...), i+1), false)
		}
		return
	}
	if numbered {
		s.Path = append(append(mime.Path(nil), prefix...), 1)
	} else {
		s.Path = prefix
	}
	if len(s.Children) == 1 { // message/rfc822
		assignPaths(s.Children[0], s.Path, true)
	}
}

func (d *Decoder) body() (*mime.Structure, bool) {
	if !d.Open() {
		return nil, false
	}
	s := &mime.Structure{}
	if d.PeekIs('(') {
		// body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
		s.Type = "multipart"
		for d.PeekIs('(') {
			c, ok := d.body()
			if !ok {
				return nil, false
			}
			s.Children = append(s.Children, c)
			d.Maybe(' ')
		}
		if !d.String(&s.Subtype) {
			return nil, false
		}
		s.Subtype = strings.ToLower(s.Subtype)
		if d.Maybe(' ') {
			if !d.params(&s.Params) || !d.bodyExt(s) {
				return nil, false
			}
		}
		return s, d.Close()
	}
	var size uint64
	ok := d.String(&s.Type) && d.SP() && d.String(&s.Subtype) && d.SP() && d.params(&s.Params) && d.SP() &&
		d.NString(&s.ID) && d.SP() && d.NString(&s.Description) && d.SP() && d.String(&s.Encoding) &&
		d.SP() && d.Number64(&size)
	if !ok {
		return nil, false
	}
	s.Type, s.Subtype, s.Encoding = strings.ToLower(s.Type), strings.ToLower(s.Subtype), strings.ToLower(s.Encoding)
	s.Size = int64(size)
	var lines uint64
	switch {
	case s.Type == "message" && (s.Subtype == "rfc822" || s.Subtype == "global") && d.PeekIs(' '):
		// A server may send message/rfc822 as a basic type when it has no
		// nested structure; the envelope then is absent.
		d.SP()
		if !d.PeekIs('(') {
			if !d.NString(&s.MD5) || !d.bodyExt(s) {
				return nil, false
			}
			return s, d.Close()
		}
		s.Envelope = &mime.Envelope{}
		if !d.Envelope(s.Envelope) || !d.SP() {
			return nil, false
		}
		c, ok := d.body()
		if !ok || !d.SP() || !d.Number64(&lines) {
			return nil, false
		}
		s.Children = []*mime.Structure{c}
		s.Lines = int64(lines)
	case s.Type == "text" && d.PeekIs(' '):
		if !d.SP() || !d.Number64(&lines) {
			return nil, false
		}
		s.Lines = int64(lines)
	}
	if d.Maybe(' ') {
		if !d.NString(&s.MD5) || !d.bodyExt(s) {
			return nil, false
		}
	}
	return s, d.Close()
}

// bodyExt reads [SP disposition [SP language [SP location *(SP ext)]]].
func (d *Decoder) bodyExt(s *mime.Structure) bool {
	if !d.Maybe(' ') {
		return true
	}
	if !d.MaybeNil() {
		if !d.Open() || !d.String(&s.Disposition) || !d.SP() || !d.params(&s.DispositionParams) || !d.Close() {
			return false
		}
		s.Disposition = strings.ToLower(s.Disposition)
	}
	if !d.Maybe(' ') {
		return true
	}
	if d.PeekIs('(') {
		if !d.List(func() bool {
			var l string
			if !d.String(&l) {
				return false
			}
			s.Language = append(s.Language, l)
			return true
		}) {
			return false
		}
	} else {
		var l string
		if !d.NString(&l) {
			return false
		}
		if l != "" {
			s.Language = []string{l}
		}
	}
	if !d.Maybe(' ') {
		return true
	}
	if !d.NString(&s.Location) {
		return false
	}
	for d.Maybe(' ') {
		if !d.SkipValue() {
			return false
		}
	}
	return true
}

// params reads body-fld-param: "(" string SP string *(SP string SP string) ")" / nil.
func (d *Decoder) params(p *map[string]string) bool {
	if d.MaybeNil() {
		return true
	}
	m := map[string]string{}
	ok := d.List(func() bool {
		var k, v string
		if !d.String(&k) || !d.SP() || !d.String(&v) {
			return false
		}
		k = strings.ToLower(k)
		// Give values as package mime does: RFC 2231 extended values
		// and RFC 2047 words decoded to UTF-8.
		if name, ok := strings.CutSuffix(k, "*"); ok {
			if dec, ok := decode2231(v); ok {
				k, v = name, dec
			}
		} else if strings.Contains(v, "=?") {
			v = decodeWords(v)
		}
		m[k] = v
		return true
	})
	*p = m
	return ok
}

// decode2231 decodes an RFC 2231 §4 extended value, charset'language'
// followed by %XX escapes, to UTF-8.
func decode2231(v string) (string, bool) {
	cs, rest, ok := strings.Cut(v, "'")
	if !ok {
		return "", false
	}
	_, enc, ok := strings.Cut(rest, "'")
	if !ok {
		return "", false
	}
	b := make([]byte, 0, len(enc))
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if c == '%' && i+2 < len(enc) && isHex(enc[i+1]) && isHex(enc[i+2]) {
			b = append(b, unhex(enc[i+1])<<4|unhex(enc[i+2]))
			i += 2
			continue
		}
		b = append(b, c)
	}
	if cs == "" {
		cs = "us-ascii"
	}
	out, err := charset.DecodeString(cs, string(b))
	if err != nil {
		return "", false
	}
	return out, true
}

func isHex(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}
