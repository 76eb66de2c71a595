package imapwire

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

func readOne(t *testing.T, in string) any {
	t.Helper()
	d := newDec(in)
	r, err := ReadResponse(d, nil)
	require.NoError(t, err, in)
	_, more := d.Peek()
	assert.False(t, more, "%q: input left over", in)
	return r
}

func u32(v uint32) *uint32 { return &v }

func TestResponses(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"+ Ready for additional command text\r\n", &Continuation{Text: "Ready for additional command text"}},
		{"+\r\n", &Continuation{}},
		{"+ \r\n", &Continuation{}},
		{"* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n",
			&CapabilityData{Caps: imap.NewCapabilities("IMAP4rev1", "STARTTLS", "AUTH=GSSAPI", "LOGINDISABLED")}},
		{"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] IMAP4rev1 server logged in as Smith\r\n",
			&imap.StatusResponse{Type: imap.StatusPREAUTH, Code: &imap.ResponseCode{Code: imap.CodeCapability, Arg: "IMAP4rev1 IDLE",
				Caps: imap.NewCapabilities("IMAP4rev1", "IDLE")}, Text: "IMAP4rev1 server logged in as Smith"}},
		{"A1 NO [TRYCREATE] Mailbox doesn't exist\r\n",
			&imap.StatusResponse{Tag: "A1", Type: imap.StatusNO, Code: &imap.ResponseCode{Code: imap.CodeTryCreate}, Text: "Mailbox doesn't exist"}},
		{"a1 ok\r\n", &imap.StatusResponse{Tag: "a1", Type: imap.StatusOK}},
		{"A003 OK [APPENDUID 38505 3955] APPEND completed\r\n",
			&imap.StatusResponse{Tag: "A003", Type: imap.StatusOK, Code: &imap.ResponseCode{Code: imap.CodeAppendUID, Arg: "38505 3955",
				UIDValidity: 38505, UIDs: imap.UIDSet{{Start: 3955, Stop: 3955}}}, Text: "APPEND completed"}},
		{"* OK [HIGHESTMODSEQ 715194045007] Highest\r\n",
			&imap.StatusResponse{Type: imap.StatusOK, Code: &imap.ResponseCode{Code: imap.CodeHighestModSeq, Arg: "715194045007", Num: 715194045007}, Text: "Highest"}},
		{"* FLAGS ()\r\n", &FlagsData{Flags: []imap.Flag{}}},
		{"* 22 EXPUNGE\r\n", &NumData{Kind: NumExpunge, Num: 22}},
		{"* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n", &ListData{Attrs: []imap.MailboxAttr{imap.AttrNoSelect}, Delim: '/', Mailbox: "~/Mail/foo"}},
		{"* LIST () NIL inbox\r\n", &ListData{Delim: 0, Mailbox: "INBOX"}},
		{"* LSUB () \".\" #news.comp.mail.misc\r\n", &ListData{Lsub: true, Delim: '.', Mailbox: "#news.comp.mail.misc"}},
		{"* LIST (\\HasChildren \\Sent) \"/\" \"Gesendete &AMQ-\"\r\n", &ListData{Attrs: []imap.MailboxAttr{imap.AttrHasChildren, imap.AttrSent}, Delim: '/', Mailbox: "Gesendete Ä"}},
		{"* LIST () \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n", &ListData{Delim: '/', Mailbox: "Foo", ChildInfo: []string{"SUBSCRIBED"}}},
		{"* LIST () \"/\" \"NewName\" (\"OLDNAME\" (\"OldName\") \"X-UNKNOWN\" (1 (2 \"x\")))\r\n", &ListData{Delim: '/', Mailbox: "NewName", OldName: "OldName"}},
		{"* LIST () \"/\" {5}\r\na b c\r\n", &ListData{Delim: '/', Mailbox: "a b c"}},
		{"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n", &imap.StatusData{Mailbox: "blurdybloop", Messages: u32(231), UIDNext: u32(44292)}},
		{"* STATUS \"a b\" (HIGHESTMODSEQ 7011231777 UNSEEN 0 X-FOO (1 2) SIZE 123)\r\n",
			&imap.StatusData{Mailbox: "a b", HighestModSeq: ptr(uint64(7011231777)), Unseen: u32(0), Size: ptr(int64(123))}},
		{"* SEARCH 2 84 882\r\n", &SearchData{Nums: []uint32{2, 84, 882}}},
		{"* SEARCH\r\n", &SearchData{}},
		{"* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n", &SearchData{Nums: []uint32{2, 5, 6, 7, 11, 12, 18, 19, 20, 23}, ModSeq: 917162500}},
		{"* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n", &ESearchData{Tag: "A282", Min: 2, Count: u32(3)}},
		{"* ESEARCH (TAG \"A284\") UID ALL 4:18,21,28\r\n", &ESearchData{Tag: "A284", UID: true, All: mustSeq("4:18,21,28")}},
		{"* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800 MODSEQ 12\r\n", &ESearchData{Tag: "A285", UID: true, Min: 7, Max: 3800, ModSeq: 12}},
		{"* ESEARCH (TAG \"A286\")\r\n", &ESearchData{Tag: "A286"}},
		{"* ENABLED CONDSTORE QRESYNC\r\n", &EnabledData{Caps: []imap.Capability{"CONDSTORE", "QRESYNC"}}},
		{"* ENABLED\r\n", &EnabledData{}},
		{"* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n", &VanishedData{Earlier: true, UIDs: imap.UIDSet(mustSeq("41,43:116,118,120:211,214:540"))}},
		{"* VANISHED 405,407,410,425\r\n", &VanishedData{UIDs: imap.UIDSet(mustSeq("405,407,410,425"))}},
		{"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", &NamespaceData{Personal: []Namespace{{Prefix: "", Delim: '/'}}}},
		{"* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) ((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\"))\r\n",
			&NamespaceData{Personal: []Namespace{{Prefix: "", Delim: '/'}, {Prefix: "#mh/", Delim: '/', Extensions: map[string][]string{"X-PARAM": {"FLAG1", "FLAG2"}}}},
				Other: []Namespace{{Prefix: "~", Delim: '/'}}, Shared: []Namespace{{Prefix: "#shared/", Delim: '/'}, {Prefix: "#public/", Delim: '/'}}}},
		{"* ID (\"name\" \"Cyrus\" \"version\" \"1.5\" \"os\" NIL)\r\n", &IDData{Fields: []IDField{{"name", ptr("Cyrus")}, {"version", ptr("1.5")}, {"os", nil}}}},
		{"* ID NIL\r\n", &IDData{}},
		{"* QUOTA \"\" (STORAGE 10 512 MESSAGE 1 100)\r\n", &QuotaData{Root: "", Resources: []QuotaResource{{"STORAGE", 10, 512}, {"MESSAGE", 1, 100}}}},
		{"* QUOTAROOT INBOX \"\" user\r\n", &QuotaRootData{Mailbox: "INBOX", Roots: []string{"", "user"}}},
		{"* QUOTAROOT comp.mail.mime\r\n", &QuotaRootData{Mailbox: "comp.mail.mime"}},
		{"* XFOO bar {3}\r\nabc baz\r\n", &UnknownData{Name: "XFOO", Text: "bar {3} baz"}},
		{"* 3 XAPPLE x\r\n", &UnknownData{Name: "XAPPLE", Text: "x"}},
		{"* 12 FETCH (UID 7 MODSEQ (624140003) X-GM-MSGID 123 BINARY.SIZE[1.2] 42)\r\n",
			&FetchData{Seq: 12, UID: 7, ModSeq: 624140003, BinarySize: map[string]uint64{"1.2": 42},
				Items: []imap.FetchItem{{Attr: imap.FetchUID}, {Attr: imap.FetchModSeq}, {Attr: imap.FetchBinarySize, Section: imap.Section{Part: []uint32{1, 2}}}}}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, readOne(t, tt.in), tt.in)
	}
}

func TestFetchSections(t *testing.T) {
	in := "* 1 FETCH (BODY[1.HEADER.FIELDS (SUBJECT \"X-Y\")]<0> {4}\r\nab\r\n BINARY[2] ~{2}\r\n\x00\x01 RFC822.TEXT NIL BODY[TEXT] \"q\")\r\n"
	f := readOne(t, in).(*FetchData)
	require.Len(t, f.Sections, 4)
	assert.Equal(t, "BODY[1.HEADER.FIELDS (SUBJECT X-Y)]<0>", f.Sections[0].Item.ResponseName())
	assert.Equal(t, "ab\r\n", string(f.Sections[0].Data))
	assert.Equal(t, "\x00\x01", string(f.Sections[1].Data))
	assert.True(t, f.Sections[2].Nil)
	b, ok := f.Section("body[text]")
	assert.True(t, ok)
	assert.Equal(t, "q", string(b))

	// Streaming: the callback reads part of a section; the rest is
	// skipped and parsing goes on.
	big := strings.Repeat("x", 1<<20)
	in = "* 2 FETCH (UID 9 BODY[] {1048576}\r\n" + big + " FLAGS (\\Seen))\r\n* 3 EXISTS\r\n"
	d := NewDecoder(bufio.NewReaderSize(strings.NewReader(in), 64), Limits{})
	var got []string
	opts := &ResponseOptions{Section: func(seq uint32, it imap.FetchItem, r io.Reader, size int64) error {
		head := make([]byte, 3)
		_, err := io.ReadFull(r, head)
		got = append(got, it.ResponseName()+":"+string(head))
		assert.EqualValues(t, 1<<20, size)
		return err
	}}
	r, err := ReadResponse(d, opts)
	require.NoError(t, err)
	f = r.(*FetchData)
	assert.Equal(t, []string{"BODY[]:xxx"}, got)
	assert.Empty(t, f.Sections)
	assert.Equal(t, []imap.Flag{imap.FlagSeen}, f.Flags)
	r, err = ReadResponse(d, opts)
	require.NoError(t, err)
	assert.Equal(t, &NumData{Kind: NumExists, Num: 3}, r)

	// FetchSection sees the items read before the section.
	d = NewDecoder(bufio.NewReaderSize(strings.NewReader(in), 64), Limits{})
	var uid uint32
	opts = &ResponseOptions{FetchSection: func(f *FetchData, it imap.FetchItem, r io.Reader, size int64) error {
		uid = f.UID
		_, err := io.Copy(io.Discard, r)
		return err
	}, Section: func(uint32, imap.FetchItem, io.Reader, int64) error {
		t.Error("Section called with FetchSection set")
		return nil
	}}
	r, err = ReadResponse(d, opts)
	require.NoError(t, err)
	assert.EqualValues(t, 9, uid)
	assert.Empty(t, r.(*FetchData).Sections)
}

func TestResponseErrorsRecover(t *testing.T) {
	// After a malformed response the decoder goes on with the next one.
	in := "* 1 FETCH (FLAGS (\\Seen) UID x)\r\n" +
		"* STATUS x (MESSAGES\r\n" +
		"* OK [UIDNEXT abc] bad code\r\n" +
		"* 1 FETCH (INTERNALDATE \"bad\")\r\n" +
		"* 1 FETCH (BODY[] {3+}\r\nabc\r\n" + // unterminated list, recovered at the next line
		"* 4 EXISTS\r\n"
	d := newDec(in)
	var errs int
	for {
		r, err := ReadResponse(d, nil)
		if err != nil {
			if !isParseError(err) {
				t.Fatalf("unexpected error %v", err)
			}
			errs++
			continue
		}
		assert.Equal(t, &NumData{Kind: NumExists, Num: 4}, r)
		break
	}
	assert.Equal(t, 5, errs)
}

// ENVELOPE and BODYSTRUCTURE rendered by package imap parse back into the
// same mime values.
func TestEnvelopeBodyStructureRoundTrip(t *testing.T) {
	for _, name := range mimeTestdata(t) {
		raw := readFile(t, name)
		s, err := mime.ReadStructure(bytes.NewReader(raw))
		require.NoError(t, err)
		for _, ext := range []bool{false, true} {
			var buf bytes.Buffer
			e := NewEncoder(bufio.NewWriter(&buf))
			imap.FormatBodyStructure(e, s, ext, false)
			require.NoError(t, e.Flush())
			d := newDec(buf.String())
			got, ok := d.BodyStructure()
			require.True(t, ok, "%s: %v\n%s", name, d.Err(), buf.String())
			want := comparable(s, ext)
			assert.Equal(t, want, comparable(got, ext), "%s ext=%v\n%s", name, ext, buf.String())
		}
	}
}

// comparable strips what the wire form does not carry: defects, and the
// extension data when not extended; display names are compared decoded.
func comparable(s *mime.Structure, ext bool) *mime.Structure {
	c := *s
	c.Defects = nil
	if c.Type == "text" && c.Params["charset"] == "" {
		// The renderer names the default charset (RFC 2046 §4.1.2).
		p := map[string]string{"charset": "us-ascii"}
		for k, v := range c.Params {
			p[k] = v
		}
		c.Params = p
	}
	if len(c.Params) == 0 {
		c.Params = nil
	}
	if len(c.DispositionParams) == 0 {
		c.DispositionParams = nil
	}
	if c.Type == "multipart" {
		// Only the subtype and the extension data go on the wire.
		c.Encoding, c.Size, c.Lines, c.ID, c.Description, c.MD5 = "", 0, 0, "", "", ""
	}
	if !ext {
		c.MD5, c.Disposition, c.DispositionParams, c.Language, c.Location = "", "", nil, nil, ""
		if c.Type == "multipart" {
			c.Params = nil
		}
	}
	if c.Envelope != nil {
		e := *c.Envelope
		// The wire form carries parsed addresses; the raw strings come
		// back formatted from them.
		e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc = "", "", "", "", "", ""
		c.Envelope = &e
	}
	c.Children = nil
	for _, k := range s.Children {
		c.Children = append(c.Children, comparable(k, ext))
	}
	return &c
}
