package imap

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	assert.Equal(t, FlagSeen, Flag(`\SEEN`).Canonical())
	assert.Equal(t, Flag(`\X-Ext`), Flag(`\X-Ext`).Canonical())
	assert.Equal(t, Flag("$Junk"), Flag("$Junk").Canonical())
	assert.True(t, FlagDeleted.IsSystem())
	assert.True(t, Flag("$Forwarded").Valid())
	assert.True(t, Flag(`\Seen`).Valid())
	assert.False(t, FlagWildcard.Valid())
	assert.True(t, FlagWildcard.ValidPerm())
	for _, bad := range []string{"", "a b", "a(", "a)", "a{", "a%", "a*", `a"`, `a\`, "a]", "a\x00", "é", "a\r"} {
		assert.False(t, ValidKeyword(bad), "%q", bad)
	}
	assert.True(t, ValidKeyword("$MDNSent"))
	assert.True(t, HasFlag([]Flag{FlagSeen, "junk"}, "JUNK"))
	assert.False(t, HasFlag([]Flag{FlagSeen}, FlagDeleted))
}

func TestModifiedUTF7(t *testing.T) {
	tests := []struct{ name, wire string }{
		// RFC 3501 §5.1.3's example.
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"&", "&-"},
		{"a&b", "a&-b"},
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"😀", "&2D3eAA-"},
		{"é&é", "&AOk-&-&AOk-"},
		{"", ""},
		{"tab\there", "tab&AAk-here"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.wire, EncodeUTF7(tt.name), tt.name)
		got, err := DecodeUTF7(tt.wire)
		require.NoError(t, err, tt.wire)
		assert.Equal(t, tt.name, got)
		assert.Equal(t, tt.wire, EncodeMailbox(tt.name, false))
		assert.Equal(t, tt.name, EncodeMailbox(tt.name, true))
	}
	for _, bad := range []string{
		"&", "&U,BTFw", "&AGE-", // unterminated; ASCII "a" encoded
		"&2D0-",    // lone high surrogate
		"&3gA-",    // lone low surrogate
		"&AOl-",    // nonzero padding bits
		"&A-",      // too short
		"&U/BTFw-", // "/" is not modified base64
		"é", "a\x00", "a\x7f",
	} {
		_, err := DecodeUTF7(bad)
		var se *SyntaxError
		assert.ErrorAs(t, err, &se, "%q", bad)
	}
	_, err := DecodeMailbox("\xff", true)
	assert.Error(t, err)
	n, err := DecodeMailbox("日本", true)
	require.NoError(t, err)
	assert.Equal(t, "日本", n)
}

func TestMailboxNames(t *testing.T) {
	assert.Equal(t, "INBOX", CanonicalMailbox("inBox", 0))
	assert.Equal(t, "inbox/x", CanonicalMailbox("inbox/x", 0))
	assert.Equal(t, "INBOX/x", CanonicalMailbox("inbox/x", '/'))
	assert.Equal(t, "inboxes", CanonicalMailbox("inboxes", '/'))
	assert.Equal(t, "Inbox.x", CanonicalMailbox("Inbox.x", '/'))
	assert.Equal(t, []string{"a", "b", "c"}, SplitMailbox("a/b/c", '/'))
	assert.Equal(t, []string{"a/b"}, SplitMailbox("a/b", 0))
	assert.Equal(t, "a.b", JoinMailbox([]string{"a", "b"}, '.'))
	assert.True(t, AttrSent.Equal(`\sent`))
}

func TestDates(t *testing.T) {
	zone := time.FixedZone("", -7*3600)
	dt := time.Date(1996, 7, 17, 2, 44, 25, 0, zone)
	assert.Equal(t, "17-Jul-1996 02:44:25 -0700", FormatDateTime(dt))
	assert.Equal(t, " 1-Feb-2024 00:00:00 +0530", FormatDateTime(time.Date(2024, 2, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+1800))))
	for _, in := range []string{"17-Jul-1996 02:44:25 -0700", " 1-Feb-2024 23:59:59 +0000", "1-feb-2024 23:59:60 +1400"} {
		got, err := ParseDateTime(in)
		require.NoError(t, err, in)
		if in[0] != '1' || in[1] != '-' {
			assert.Equal(t, in, FormatDateTime(got))
		}
	}
	got, err := ParseDateTime("17-Jul-1996 02:44:25 -0700")
	require.NoError(t, err)
	assert.True(t, got.Equal(dt))
	for _, bad := range []string{"", "17-Jul-1996", "17-Jul-1996 02:44:25", "32-Jan-2000 00:00:00 +0000",
		"30-Feb-2000 00:00:00 +0000", "17-Foo-1996 02:44:25 -0700", "17-Jul-96 02:44:25 -0700",
		"17-Jul-1996 24:00:00 +0000", "17-Jul-1996 02:44:25 -0760", "17-Jul-1996 02:44:25 -0700x", "0-Jul-1996 02:44:25 -0700"} {
		_, err := ParseDateTime(bad)
		assert.Error(t, err, "%q", bad)
	}
	d, err := ParseDate("1-Feb-1994")
	require.NoError(t, err)
	assert.Equal(t, time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC), d)
	assert.Equal(t, "1-Feb-1994", FormatDate(d))
	_, err = ParseDate("1-Feb-1994 ")
	assert.Error(t, err)
}

func TestCapabilities(t *testing.T) {
	c := NewCapabilities("IMAP4rev1", "AUTH=PLAIN", "idle", "Auth=scram-sha-256", CapUIDPlus)
	assert.True(t, c.Has(CapIdle))
	assert.True(t, c.Has("imap4REV1"))
	assert.False(t, c.Has(CapMove))
	assert.Equal(t, []string{"PLAIN", "SCRAM-SHA-256"}, c.AuthMechanisms())
	assert.Equal(t, []string{"IMAP4rev1", "AUTH=PLAIN", "Auth=scram-sha-256", "UIDPLUS", "idle"}, c.Strings())
	c.Remove("IDLE")
	assert.False(t, c.Has(CapIdle))
}

func TestResponseCodes(t *testing.T) {
	tests := []struct {
		in    string
		check func(*ResponseCode)
	}{
		{"ALERT", func(rc *ResponseCode) { assert.Equal(t, CodeAlert, rc.Code) }},
		{"UIDVALIDITY 3857529045", func(rc *ResponseCode) { assert.EqualValues(t, 3857529045, rc.Num) }},
		{"UIDNEXT 4392", func(rc *ResponseCode) { assert.EqualValues(t, 4392, rc.Num) }},
		{"UNSEEN 17", func(rc *ResponseCode) { assert.EqualValues(t, 17, rc.Num) }},
		{"HIGHESTMODSEQ 715194045007", func(rc *ResponseCode) { assert.EqualValues(t, 715194045007, rc.Num) }},
		{`PERMANENTFLAGS (\Deleted \Seen \*)`, func(rc *ResponseCode) {
			assert.Equal(t, []Flag{FlagDeleted, FlagSeen, FlagWildcard}, rc.Flags)
		}},
		{"PERMANENTFLAGS ()", func(rc *ResponseCode) { assert.Empty(t, rc.Flags) }},
		{"CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE", func(rc *ResponseCode) {
			assert.True(t, rc.Caps.Has(CapIdle))
		}},
		{"BADCHARSET (UTF-8 US-ASCII)", func(rc *ResponseCode) { assert.Equal(t, []string{"UTF-8", "US-ASCII"}, rc.Charsets) }},
		{"APPENDUID 38505 3955", func(rc *ResponseCode) {
			assert.EqualValues(t, 38505, rc.UIDValidity)
			assert.Equal(t, "3955", rc.UIDs.String())
		}},
		{"COPYUID 38505 304,319:320 3956:3958", func(rc *ResponseCode) {
			assert.EqualValues(t, 38505, rc.UIDValidity)
			assert.Equal(t, "304,319:320", rc.SrcUIDs.String())
			assert.Equal(t, "3956:3958", rc.UIDs.String())
		}},
		{"MODIFIED 7,9", func(rc *ResponseCode) { assert.Equal(t, "7,9", rc.Modified.String()) }},
		{"UIDNOTSTICKY", func(rc *ResponseCode) { assert.Equal(t, CodeUIDNotSticky, rc.Code) }},
		{"X-FOO some thing", func(rc *ResponseCode) { assert.Equal(t, "some thing", rc.Arg) }},
		{"OVERQUOTA", func(rc *ResponseCode) { assert.True(t, rc.Code.Temporary()) }},
	}
	for _, tt := range tests {
		rc, err := ParseResponseCode(tt.in)
		require.NoError(t, err, tt.in)
		tt.check(rc)
		assert.Equal(t, tt.in, rc.String(), "round trip")
	}
	for _, bad := range []string{"UIDVALIDITY x", "UIDNEXT", "APPENDUID 1", "APPENDUID 0 1", "COPYUID 1 2",
		"PERMANENTFLAGS Seen", "HIGHESTMODSEQ 9223372036854775808", "", "A(B", "MODIFIED x"} {
		_, err := ParseResponseCode(bad)
		assert.Error(t, err, bad)
	}
}

func TestError(t *testing.T) {
	st := &StatusResponse{Tag: "a1", Type: StatusNO, Code: &ResponseCode{Code: CodeTryCreate}, Text: "no such mailbox"}
	err := fmt.Errorf("append: %w", st.Err())
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.True(t, e.Code.Is(CodeTryCreate))
	assert.False(t, e.Temporary())
	assert.Equal(t, "imap: NO [TRYCREATE] no such mailbox", e.Error())
	assert.Nil(t, (&StatusResponse{Type: StatusOK}).Err())
	assert.True(t, (&Error{Type: StatusNO, Code: &ResponseCode{Code: CodeInUse}}).Temporary())
	var nilCode *ResponseCode
	assert.False(t, nilCode.Is(CodeAlert))
}
