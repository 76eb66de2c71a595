package imapwire

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

// Responses written by WriteResponse read back equal (parse(format(x)) == x).
func TestWriteResponseRoundTrip(t *testing.T) {
	resps := []any{
		&Continuation{Text: "go ahead"},
		&imap.StatusResponse{Tag: "a1", Type: imap.StatusOK, Code: &imap.ResponseCode{Code: imap.CodeCopyUID, Arg: "38505 304,319:320 3956:3958",
			UIDValidity: 38505, SrcUIDs: imap.UIDSet(mustSeq("304,319:320")), UIDs: imap.UIDSet(mustSeq("3956:3958"))}, Text: "done"},
		&imap.StatusResponse{Type: imap.StatusBYE, Text: "bye"},
		&CapabilityData{Caps: imap.NewCapabilities("IMAP4rev1", "IDLE", "AUTH=PLAIN")},
		&EnabledData{Caps: []imap.Capability{"CONDSTORE"}},
		&FlagsData{Flags: []imap.Flag{imap.FlagSeen, "$Junk"}},
		&NumData{Kind: NumExists, Num: 172},
		&ListData{Attrs: []imap.MailboxAttr{imap.AttrHasNoChildren, imap.AttrDrafts}, Delim: '/', Mailbox: "Entwürfe/日本 x"},
		&ListData{Lsub: true, Delim: 0, Mailbox: "INBOX"},
		&ListData{Delim: '.', Mailbox: "a", ChildInfo: []string{"SUBSCRIBED"}, OldName: "b"},
		&imap.StatusData{Mailbox: "a b", Messages: u32(3), Unseen: u32(0), UIDNext: u32(9), UIDValidity: u32(1), Deleted: u32(1),
			Recent: u32(2), Size: ptr(int64(1234)), HighestModSeq: ptr(uint64(1 << 40)), AppendLimit: ptr(uint64(99))},
		&SearchData{Nums: []uint32{1, 5, 9}, ModSeq: 12},
		&SearchData{},
		&ESearchData{Tag: "t1", UID: true, Min: 1, Max: 9, All: mustSeq("1,3:9"), Count: u32(8), ModSeq: 3},
		&VanishedData{Earlier: true, UIDs: imap.UIDSet(mustSeq("1:5"))},
		&NamespaceData{Personal: []Namespace{{Prefix: "", Delim: '/'}}, Shared: []Namespace{{Prefix: "#shared/", Delim: '/', Extensions: map[string][]string{"X-A": {"b", "c"}}}}},
		&IDData{Fields: []IDField{{"name", ptr("mailwire")}, {"os", nil}}},
		&IDData{},
		&QuotaData{Root: "", Resources: []QuotaResource{{"STORAGE", 1, 2}}},
		&QuotaRootData{Mailbox: "INBOX", Roots: []string{""}},
	}
	for _, utf8 := range []bool{false, true} {
		var buf bytes.Buffer
		e := NewEncoder(bufio.NewWriter(&buf))
		e.UTF8 = utf8
		for _, r := range resps {
			require.NoError(t, WriteResponse(e, r), "%T", r)
		}
		require.NoError(t, e.Flush())
		d := newDec(buf.String())
		for _, want := range resps {
			got, err := ReadResponse(d, &ResponseOptions{UTF8: utf8})
			require.NoError(t, err, buf.String())
			assert.Equal(t, want, got)
		}
	}
	assert.Error(t, WriteResponse(NewEncoder(bufio.NewWriter(&bytes.Buffer{})), 42))
}

func TestFetchWriter(t *testing.T) {
	raw := readFile(t, "../../mime/testdata/rfc822-inside.eml")
	s, err := mime.ReadStructure(bytes.NewReader(raw))
	require.NoError(t, err)
	date := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

	var buf bytes.Buffer
	e := NewEncoder(bufio.NewWriter(&buf))
	w := BeginFetch(e, 7)
	w.UID(70)
	w.Flags([]imap.Flag{imap.FlagSeen})
	w.InternalDate(date)
	w.RFC822Size(int64(len(raw)))
	w.ModSeq(5)
	w.Envelope(s.Children[1].Envelope)
	w.BodyStructure(s, true)
	w.BinarySize([]uint32{1}, 12)
	w.Section(imap.FetchItem{Attr: imap.FetchBodySection, Peek: true, Partial: &imap.Partial{Offset: 0, Count: 10}}, 10, bytes.NewReader(raw[:10]))
	w.Section(imap.FetchItem{Attr: imap.FetchBinary, Section: imap.Section{Part: []uint32{1}}}, 2, strings.NewReader("\x00\x01"))
	w.Section(imap.FetchItem{Attr: imap.FetchRFC822Text}, 0, nil)
	require.NoError(t, w.End())
	require.NoError(t, e.Flush())
	assert.True(t, strings.HasPrefix(buf.String(), `* 7 FETCH (UID 70 FLAGS (\Seen) INTERNALDATE " 2-Jan-2024 03:04:05 +0000" RFC822.SIZE `), buf.String())

	r, err := ReadResponse(newDec(buf.String()), nil)
	require.NoError(t, err)
	f := r.(*FetchData)
	assert.EqualValues(t, 70, f.UID)
	assert.True(t, f.InternalDate.Equal(date))
	assert.EqualValues(t, len(raw), f.RFC822Size)
	assert.EqualValues(t, 5, f.ModSeq)
	assert.Equal(t, "inner", f.Envelope.Subject)
	assert.Equal(t, comparable(s, true), comparable(f.BodyStructure, true))
	assert.Equal(t, map[string]uint64{"1": 12}, f.BinarySize)
	b, ok := f.Section("BODY[]<0>")
	require.True(t, ok)
	assert.Equal(t, raw[:10], b)
	b, _ = f.Section("BINARY[1]")
	assert.Equal(t, "\x00\x01", string(b))
	assert.True(t, f.Sections[2].Nil)
}
