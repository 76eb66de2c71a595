package imapserver

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/mime"
)

// searchMsg is one message as SEARCH sees it; its content is read only
// when a key needs it.
type searchMsg struct {
	seq, maxSeq, maxUID uint32
	info                *MessageInfo
	open                func() (io.ReadCloser, error)
	max                 int64

	loaded bool
	header *message.Header
	raw    []byte // the header as sent
	text   []byte // the decoded text of the text parts, lower case
}

// load reads the message once, bounded by max octets.
func (m *searchMsg) load() {
	if m.loaded {
		return
	}
	m.loaded = true
	m.header = &message.Header{}
	rc, err := m.open()
	if err != nil {
		return
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, m.max+1))
	if err != nil || int64(len(data)) > m.max {
		return
	}
	if h, _, err := message.ReadHeaderLenient(bufio.NewReader(bytes.NewReader(data)), message.Limits{}); h != nil {
		m.header = h
		_ = err
	}
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		m.raw = data[:i+2]
	} else if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
		m.raw = data[:i+1]
	} else {
		m.raw = data
	}
	var text bytes.Buffer
	mime.Walk(bytes.NewReader(data), func(p *mime.Part) error {
		if p.Boundary != "" || !strings.EqualFold(p.MediaType.Type, "text") {
			return nil
		}
		r, _ := p.Text()
		if r != nil {
			io.Copy(&text, io.LimitReader(r, m.max))
		}
		return nil
	})
	m.text = bytes.ToLower(text.Bytes())
}

// contains is SEARCH's case-insensitive substring match (RFC 3501
// §6.4.4).
func contains(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// headerMatch reports whether a field named name holds value, RFC 2047
// words decoded; an empty value matches any such field.
func (m *searchMsg) headerMatch(name, value string) bool {
	m.load()
	for _, v := range m.header.Values(name) {
		if d, err := message.DecodeWords(v); err == nil {
			v = d
		}
		if contains(v, value) {
			return true
		}
	}
	return false
}

func sameDay(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	x := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	y := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return x.Compare(y)
}

// matchKey evaluates one search key (RFC 3501 §6.4.4).
func matchKey(k *imap.SearchKey, m *searchMsg) bool {
	flag := func(f imap.Flag) bool { return imap.HasFlag(m.info.Flags, f) }
	switch k.Op {
	case imap.SearchAll:
		return true
	case imap.SearchAnd:
		for i := range k.Keys {
			if !matchKey(&k.Keys[i], m) {
				return false
			}
		}
		return true
	case imap.SearchNot:
		return len(k.Keys) == 1 && !matchKey(&k.Keys[0], m)
	case imap.SearchOr:
		return len(k.Keys) == 2 && (matchKey(&k.Keys[0], m) || matchKey(&k.Keys[1], m))
	case imap.SearchAnswered:
		return flag(imap.FlagAnswered)
	case imap.SearchDeleted:
		return flag(imap.FlagDeleted)
	case imap.SearchDraft:
		return flag(imap.FlagDraft)
	case imap.SearchFlagged:
		return flag(imap.FlagFlagged)
	case imap.SearchSeen:
		return flag(imap.FlagSeen)
	case imap.SearchUnanswered:
		return !flag(imap.FlagAnswered)
	case imap.SearchUndeleted:
		return !flag(imap.FlagDeleted)
	case imap.SearchUndraft:
		return !flag(imap.FlagDraft)
	case imap.SearchUnflagged:
		return !flag(imap.FlagFlagged)
	case imap.SearchUnseen:
		return !flag(imap.FlagSeen)
	case imap.SearchKeyword:
		return flag(k.Flag)
	case imap.SearchUnkeyword:
		return !flag(k.Flag)
	case imap.SearchRecent:
		return m.info.Recent
	case imap.SearchNew:
		return m.info.Recent && !flag(imap.FlagSeen)
	case imap.SearchOld:
		return !m.info.Recent
	case imap.SearchLarger:
		return uint64(m.info.Size) > k.Num
	case imap.SearchSmaller:
		return uint64(m.info.Size) < k.Num
	case imap.SearchBefore:
		return sameDay(m.info.InternalDate, k.Date) < 0
	case imap.SearchOn:
		return sameDay(m.info.InternalDate, k.Date) == 0
	case imap.SearchSince:
		return sameDay(m.info.InternalDate, k.Date) >= 0
	case imap.SearchSentBefore, imap.SearchSentOn, imap.SearchSentSince:
		m.load()
		d, err := message.ParseDate(m.header.Get("Date"))
		if err != nil {
			return false
		}
		c := sameDay(d, k.Date)
		switch k.Op {
		case imap.SearchSentBefore:
			return c < 0
		case imap.SearchSentOn:
			return c == 0
		}
		return c >= 0
	case imap.SearchSeqSet:
		return k.Seq.Resolve(m.maxSeq).Contains(m.seq)
	case imap.SearchUID:
		return k.UIDs.Resolve(m.maxUID).Contains(m.info.UID)
	case imap.SearchFrom, imap.SearchTo, imap.SearchCc, imap.SearchBcc, imap.SearchSubject:
		return m.headerMatch(string(k.Op), k.Value)
	case imap.SearchHeader:
		return m.headerMatch(k.Field, k.Value)
	case imap.SearchBody:
		m.load()
		return bytes.Contains(m.text, bytes.ToLower([]byte(k.Value)))
	case imap.SearchText:
		m.load()
		return contains(string(m.raw), k.Value) || bytes.Contains(m.text, bytes.ToLower([]byte(k.Value)))
	}
	// MODSEQ, OLDER, YOUNGER: not announced.
	return false
}
