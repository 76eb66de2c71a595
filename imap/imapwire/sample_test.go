package imapwire

import (
	"bufio"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

func newDec(s string) *Decoder {
	return NewDecoder(bufio.NewReader(strings.NewReader(s)), Limits{})
}

// The server's side of the sample session of RFC 3501 §8, the long FETCH
// line joined as the RFC's note on editorial line breaks says.
const rfc3501Sample = "* OK IMAP4rev1 Service Ready\r\n" +
	"a001 OK LOGIN completed\r\n" +
	"* 18 EXISTS\r\n" +
	"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n" +
	"* 2 RECENT\r\n" +
	"* OK [UNSEEN 17] Message 17 is the first unseen message\r\n" +
	"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n" +
	"a002 OK [READ-WRITE] SELECT completed\r\n" +
	`* 12 FETCH (FLAGS (\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" ` +
	`RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" ` +
	`"IMAP4rev1 WG mtg summary and minutes" ` +
	`(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
	`(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
	`(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
	`((NIL NIL "imap" "cac.washington.edu")) ` +
	`((NIL NIL "minutes" "CNRI.Reston.VA.US") ` +
	`("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ` +
	`"<B27397-0100000@cac.washington.edu>") ` +
	`BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 ` +
	"92))\r\n" +
	"a003 OK FETCH completed\r\n" +
	"* 12 FETCH (BODY[HEADER] {342}\r\n" +
	"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n" +
	"From: Terry Gray <gray@cac.washington.edu>\r\n" +
	"Subject: IMAP4rev1 WG mtg summary and minutes\r\n" +
	"To: imap@cac.washington.edu\r\n" +
	"cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n" +
	"Message-Id: <B27397-0100000@cac.washington.edu>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n" +
	"\r\n" +
	")\r\n" +
	"a004 OK FETCH completed\r\n" +
	"* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n" +
	"a005 OK +FLAGS completed\r\n" +
	"* BYE IMAP4rev1 server terminating connection\r\n" +
	"a006 OK LOGOUT completed\r\n"

func TestRFC3501SampleSession(t *testing.T) {
	d := newDec(rfc3501Sample)
	var got []any
	for {
		r, err := ReadResponse(d, nil)
		if err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		got = append(got, r)
	}
	require.Len(t, got, 16)
	assert.Equal(t, &imap.StatusResponse{Type: imap.StatusOK, Text: "IMAP4rev1 Service Ready"}, got[0])
	assert.Equal(t, &imap.StatusResponse{Tag: "a001", Type: imap.StatusOK, Text: "LOGIN completed"}, got[1])
	assert.Equal(t, &NumData{Kind: NumExists, Num: 18}, got[2])
	assert.Equal(t, &FlagsData{Flags: []imap.Flag{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagSeen, imap.FlagDraft}}, got[3])
	assert.Equal(t, &NumData{Kind: NumRecent, Num: 2}, got[4])
	st := got[5].(*imap.StatusResponse)
	assert.Equal(t, imap.CodeUnseen, st.Code.Code)
	assert.EqualValues(t, 17, st.Code.Num)
	assert.Equal(t, "Message 17 is the first unseen message", st.Text)
	assert.EqualValues(t, 3857529045, got[6].(*imap.StatusResponse).Code.Num)
	assert.True(t, got[7].(*imap.StatusResponse).Code.Is(imap.CodeReadWrite))

	f := got[8].(*FetchData)
	assert.EqualValues(t, 12, f.Seq)
	assert.Equal(t, []imap.Flag{imap.FlagSeen}, f.Flags)
	assert.Equal(t, time.Date(1996, 7, 17, 9, 44, 25, 0, time.UTC), f.InternalDate.UTC())
	assert.EqualValues(t, 4286, f.RFC822Size)
	e := f.Envelope
	assert.Equal(t, "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", e.Date)
	assert.Equal(t, "IMAP4rev1 WG mtg summary and minutes", e.Subject)
	require.Len(t, e.FromAddrs, 1)
	assert.Equal(t, "Terry Gray", e.FromAddrs[0].Name)
	assert.Equal(t, "gray@cac.washington.edu", e.FromAddrs[0].Addr)
	assert.Equal(t, "imap@cac.washington.edu", e.ToAddrs[0].Addr)
	require.Len(t, e.CcAddrs, 2)
	assert.Equal(t, "KLENSIN@MIT.EDU", e.CcAddrs[1].Addr)
	assert.Nil(t, e.BccAddrs)
	assert.Equal(t, "", e.InReplyTo)
	assert.Equal(t, "<B27397-0100000@cac.washington.edu>", e.MessageID)
	assert.Equal(t, &mime.Structure{Path: mime.Path{1}, Type: "text", Subtype: "plain",
		Params: map[string]string{"charset": "US-ASCII"}, Encoding: "7bit", Size: 3028, Lines: 92}, f.BodyStructure)
	assert.Equal(t, []imap.FetchAttr{imap.FetchFlags, imap.FetchInternalDate, imap.FetchRFC822Size, imap.FetchEnvelope, imap.FetchBody},
		attrs(f.Items))

	f = got[10].(*FetchData)
	hdr, ok := f.Section("BODY[HEADER]")
	require.True(t, ok)
	assert.Len(t, hdr, 342)
	assert.True(t, strings.HasPrefix(string(hdr), "Date: Wed, 17 Jul 1996"))

	assert.Equal(t, []imap.Flag{imap.FlagSeen, imap.FlagDeleted}, got[12].(*FetchData).Flags)
	assert.Equal(t, imap.StatusBYE, got[14].(*imap.StatusResponse).Type)
	assert.Equal(t, "a006", got[15].(*imap.StatusResponse).Tag)
}

func attrs(items []imap.FetchItem) []imap.FetchAttr {
	var out []imap.FetchAttr
	for _, it := range items {
		out = append(out, it.Attr)
	}
	return out
}
