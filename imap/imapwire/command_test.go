package imapwire

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/imap"
)

// parseCommand reads one command and dispatches to its argument reader,
// as a server would.
func parseCommand(d *Decoder) (Command, any, error) {
	cmd, err := ReadCommand(d)
	if err != nil {
		return cmd, nil, err
	}
	var args any
	switch cmd.Name {
	case "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "CHECK", "CLOSE", "UNSELECT", "IDLE", "NAMESPACE":
		err = ReadNoArgs(d)
	case "EXPUNGE":
		if cmd.UID {
			args, err = ReadExpungeArgs(d)
		} else {
			err = ReadNoArgs(d)
		}
	case "LOGIN":
		var u, p string
		u, p, err = ReadLoginArgs(d)
		args = []string{u, p}
	case "AUTHENTICATE":
		var m string
		var ir *string
		m, ir, err = ReadAuthenticateArgs(d)
		args = []any{m, ir}
	case "CREATE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE":
		args, err = ReadMailboxArgs(d, false)
	case "RENAME":
		var a, b string
		a, b, err = ReadRenameArgs(d, false)
		args = []string{a, b}
	case "SELECT", "EXAMINE":
		args, err = ReadSelectArgs(d, false)
	case "LIST", "LSUB":
		args, err = ReadListArgs(d, false)
	case "STATUS":
		var m string
		var items []imap.StatusItem
		m, items, err = ReadStatusArgs(d, false)
		args = []any{m, items}
	case "APPEND":
		var a AppendArgs
		var l *LiteralReader
		a, l, err = ReadAppendArgs(d, false)
		if err == nil {
			var b bytes.Buffer
			b.ReadFrom(l)
			err = ReadNoArgs(d)
			args = []any{a, b.String()}
		}
	case "FETCH":
		args, err = ReadFetchArgs(d)
	case "STORE":
		args, err = ReadStoreArgs(d)
	case "COPY", "MOVE":
		var s imap.SeqSet
		var m string
		s, m, err = ReadCopyArgs(d, false)
		args = []any{s.String(), m}
	case "SEARCH":
		args, err = ReadSearchArgs(d)
	case "ENABLE":
		args, err = ReadEnableArgs(d)
	case "ID":
		args, err = ReadIDArgs(d)
	default:
		d.Errorf("unknown command %s", cmd.Name)
		err = d.Err()
	}
	return cmd, args, err
}

func ptr[T any](v T) *T { return &v }

func TestCommands(t *testing.T) {
	tests := []struct {
		in   string
		cmd  Command
		args any
	}{
		{"a1 CAPABILITY\r\n", Command{"a1", "CAPABILITY", false}, nil},
		{"a1 noop\r\n", Command{"a1", "NOOP", false}, nil},
		{"a1 LOGIN mrc secret\r\n", Command{"a1", "LOGIN", false}, []string{"mrc", "secret"}},
		{"a1 LOGIN \"a b\" {3}\r\nx\"y\r\n", Command{"a1", "LOGIN", false}, []string{"a b", `x"y`}},
		{"a1 AUTHENTICATE PLAIN\r\n", Command{"a1", "AUTHENTICATE", false}, []any{"PLAIN", (*string)(nil)}},
		{"a1 AUTHENTICATE plain AHVzZXIAcGFzcw==\r\n", Command{"a1", "AUTHENTICATE", false}, []any{"PLAIN", ptr("AHVzZXIAcGFzcw==")}},
		{"a1 AUTHENTICATE PLAIN =\r\n", Command{"a1", "AUTHENTICATE", false}, []any{"PLAIN", ptr("")}},
		{"a1 CREATE owatagusiam/\r\n", Command{"a1", "CREATE", false}, "owatagusiam/"},
		{"a1 DELETE \"Entw&APw-rfe\"\r\n", Command{"a1", "DELETE", false}, "Entwürfe"},
		{"a1 RENAME blurdybloop sarasoop\r\n", Command{"a1", "RENAME", false}, []string{"blurdybloop", "sarasoop"}},
		{"a1 SELECT inbox\r\n", Command{"a1", "SELECT", false}, SelectArgs{Mailbox: "INBOX"}},
		{"a1 EXAMINE INBOX (CONDSTORE)\r\n", Command{"a1", "EXAMINE", false}, SelectArgs{Mailbox: "INBOX", CondStore: true}},
		{"A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n", Command{"A02", "SELECT", false},
			SelectArgs{Mailbox: "INBOX", QResync: &QResyncArgs{UIDValidity: 67890007, ModSeq: 20050715194045000,
				KnownUIDs: imap.UIDSet{{Start: 41, Stop: 41}, {Start: 43, Stop: 211}, {Start: 214, Stop: 541}}}}},
		{"B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979:29997)))\r\n",
			Command{"B04", "SELECT", false}, SelectArgs{Mailbox: "INBOX", QResync: &QResyncArgs{UIDValidity: 67890007, ModSeq: 90060115194045000,
				KnownUIDs: imap.UIDSet{{Start: 1, Stop: 29997}},
				SeqMatch:  mustSeq("5000,7500,9000,9990:9999"), UIDMatch: imap.UIDSet(mustSeq("15000,22500,27000,29970,29973,29976,29979:29997"))}}},
		{"a1 LIST \"\" *\r\n", Command{"a1", "LIST", false}, ListArgs{Patterns: []string{"*"}}},
		{"a1 LIST /usr/staff/jones \"\"\r\n", Command{"a1", "LIST", false}, ListArgs{Reference: "/usr/staff/jones", Patterns: []string{""}}},
		{"a1 LSUB \"#news.\" \"comp.mail.*\"\r\n", Command{"a1", "LSUB", false}, ListArgs{Reference: "#news.", Patterns: []string{"comp.mail.*"}}},
		{"a1 LIST (SUBSCRIBED REMOTE) \"\" (\"%\" foo/%) RETURN (CHILDREN STATUS (MESSAGES UIDNEXT))\r\n", Command{"a1", "LIST", false},
			ListArgs{SelectOpts: []string{"SUBSCRIBED", "REMOTE"}, Patterns: []string{"%", "foo/%"}, ReturnOpts: []string{"CHILDREN", "STATUS"},
				ReturnStatus: []imap.StatusItem{imap.StatusMessages, imap.StatusUIDNext}}},
		{"a1 STATUS blurdybloop (UIDNEXT MESSAGES highestmodseq)\r\n", Command{"a1", "STATUS", false},
			[]any{"blurdybloop", []imap.StatusItem{imap.StatusUIDNext, imap.StatusMessages, imap.StatusHighestModSeq}}},
		{"A003 APPEND saved-messages (\\Seen) {5}\r\nhello\r\n", Command{"A003", "APPEND", false},
			[]any{AppendArgs{Mailbox: "saved-messages", Flags: []imap.Flag{imap.FlagSeen}}, "hello"}},
		{"A003 APPEND x {2+}\r\nhi\r\n", Command{"A003", "APPEND", false}, []any{AppendArgs{Mailbox: "x"}, "hi"}},
		{"A003 APPEND x ~{2}\r\n\x00\x01\r\n", Command{"A003", "APPEND", false}, []any{AppendArgs{Mailbox: "x"}, "\x00\x01"}},
		{"A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n", Command{"A654", "FETCH", false},
			FetchArgs{Set: mustSeq("2:4"), Items: []imap.FetchItem{{Attr: imap.FetchFlags},
				{Attr: imap.FetchBodySection, Section: imap.Section{Specifier: imap.SpecHeaderFields, Fields: []string{"DATE", "FROM"}}}}}},
		{"a1 FETCH 1 BODY.PEEK[HEADER.FIELDS ({7}\r\nSubject \"X-Y\")]<0.10>\r\n", Command{"a1", "FETCH", false},
			FetchArgs{Set: mustSeq("1"), Items: []imap.FetchItem{{Attr: imap.FetchBodySection, Peek: true, Partial: &imap.Partial{Count: 10},
				Section: imap.Section{Specifier: imap.SpecHeaderFields, Fields: []string{"Subject", "X-Y"}}}}}},
		{"a1 FETCH 12 full\r\n", Command{"a1", "FETCH", false}, FetchArgs{Set: mustSeq("12"), Items: imap.FetchMacroFull}},
		{"s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n", Command{"s100", "FETCH", true},
			FetchArgs{Set: mustSeq("300:500"), Items: []imap.FetchItem{{Attr: imap.FetchFlags}}, ChangedSince: 12345, Vanished: true}},
		{"A003 STORE 2:4 +FLAGS (\\Deleted)\r\n", Command{"A003", "STORE", false},
			StoreArgs{Set: mustSeq("2:4"), Op: StoreAdd, Flags: []imap.Flag{imap.FlagDeleted}}},
		{"a5 store 12 +flags \\deleted\r\n", Command{"a5", "STORE", false},
			StoreArgs{Set: mustSeq("12"), Op: StoreAdd, Flags: []imap.Flag{imap.FlagDeleted}}},
		{"a5 UID STORE 1 -FLAGS.SILENT (\\Seen $Junk)\r\n", Command{"a5", "STORE", true},
			StoreArgs{Set: mustSeq("1"), Op: StoreRemove, Silent: true, Flags: []imap.Flag{imap.FlagSeen, "$Junk"}}},
		{"d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)\r\n", Command{"d105", "STORE", false},
			StoreArgs{Set: mustSeq("7,5,9"), Op: StoreAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}, UnchangedSince: ptr(uint64(320162338))}},
		{"a5 STORE 1 FLAGS ()\r\n", Command{"a5", "STORE", false}, StoreArgs{Set: mustSeq("1"), Op: StoreReplace, Flags: []imap.Flag{}}},
		{"A003 COPY 2:4 MEETING\r\n", Command{"A003", "COPY", false}, []any{"2:4", "MEETING"}},
		{"A003 UID MOVE 42:69 foo\r\n", Command{"A003", "MOVE", true}, []any{"42:69", "foo"}},
		{"A003 UID EXPUNGE 3000:3002\r\n", Command{"A003", "EXPUNGE", true}, imap.UIDSet{{Start: 3000, Stop: 3002}}},
		{"A003 EXPUNGE\r\n", Command{"A003", "EXPUNGE", false}, nil},
		{"a1 ENABLE CONDSTORE X-GOOD-IDEA\r\n", Command{"a1", "ENABLE", false}, []imap.Capability{"CONDSTORE", "X-GOOD-IDEA"}},
		{"a023 ID (\"name\" \"sodr\" \"version\" NIL)\r\n", Command{"a023", "ID", false},
			&IDData{Fields: []IDField{{"name", ptr("sodr")}, {"version", nil}}}},
		{"a023 ID NIL\r\n", Command{"a023", "ID", false}, &IDData{}},
		{"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n", Command{"A282", "SEARCH", false},
			SearchArgs{Criteria: imap.SearchCriteria{Keys: []imap.SearchKey{{Op: imap.SearchFlagged},
				{Op: imap.SearchSince, Date: time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC)}, imap.Not(imap.SearchKey{Op: imap.SearchFrom, Value: "Smith"})}}}},
		{"A285 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n", Command{"A285", "SEARCH", false},
			SearchArgs{Criteria: imap.SearchCriteria{Charset: "UTF-8", Keys: []imap.SearchKey{{Op: imap.SearchText, Value: "XXXXXX"}}}}},
		{"A282 SEARCH RETURN (MIN COUNT) FLAGGED\r\n", Command{"A282", "SEARCH", false},
			SearchArgs{Return: []string{"MIN", "COUNT"}, Criteria: imap.SearchCriteria{Keys: []imap.SearchKey{{Op: imap.SearchFlagged}}}}},
		{"a UID SEARCH OR (1:3 UID 5:*) modseq \"/flags/\\\\draft\" all 620162338 younger 60\r\n", Command{"a", "SEARCH", true},
			SearchArgs{Criteria: imap.SearchCriteria{Keys: []imap.SearchKey{
				imap.Or(imap.And(imap.SearchKey{Op: imap.SearchSeqSet, Seq: mustSeq("1:3")}, imap.SearchKey{Op: imap.SearchUID, UIDs: imap.UIDSet(mustSeq("5:*"))}),
					imap.SearchKey{Op: imap.SearchModSeq, ModSeqEntry: `/flags/\draft`, ModSeqType: "all", Num: 620162338}),
				{Op: imap.SearchYounger, Num: 60}}}}},
	}
	for _, tt := range tests {
		d := newDec(tt.in)
		cmd, args, err := parseCommand(d)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.cmd, cmd, tt.in)
		if tt.args != nil {
			assert.Equal(t, tt.args, args, tt.in)
		}
		_, more := d.Peek()
		assert.False(t, more, "%q: input left over", tt.in)
	}
}

func mustSeq(s string) imap.SeqSet {
	set, err := imap.ParseSeqSet(s)
	if err != nil {
		panic(err)
	}
	return set
}

func TestCommandErrors(t *testing.T) {
	for _, in := range []string{
		"\r\n", "a1\r\n", "+ NOOP\r\n", "a1 UID NOOP\r\n", "a1 LOGIN onlyuser\r\n", "a1 LOGIN a b c\r\n",
		"a1 SELECT\r\n", "a1 SELECT INBOX (FOO)\r\n", "a1 FETCH 1\r\n", "a1 FETCH 0 FLAGS\r\n", "a1 FETCH 1 (FLAGS\r\n",
		"a1 FETCH 1 (ALL)\r\n", "a1 FETCH 1 BODY[\r\n", "a1 FETCH 1 FLAGS (CHANGEDSINCE x)\r\n",
		"a1 STORE 1 FLAGS\r\n", "a1 STORE 1 XFLAGS (\\Seen)\r\n", "a1 STORE 1 FLAGS (\\Seen\r\n",
		"a1 SEARCH\r\n", "a1 SEARCH FOO\r\n", "a1 SEARCH NOT\r\n", "a1 SEARCH OR SEEN\r\n", "a1 SEARCH SINCE 1-Foo-2000\r\n",
		"a1 SEARCH (SEEN\r\n", "a1 SEARCH LARGER 4294967296\r\n", "a1 ENABLE\r\n", "a1 STATUS x\r\n", "a1 COPY 1\r\n",
		"a1 APPEND x (\\Seen) \"bad date\" {1}\r\nx\r\n", "a1 LIST\r\n", "a1 RENAME a\r\n", "a1 DELETE &-x&\r\n",
		"a1 SEARCH " + repeatStr("NOT ", 1000) + "ALL\r\n",
	} {
		d := newDec(in)
		_, _, err := parseCommand(d)
		assert.Error(t, err, "%q", in)
	}
}

func repeatStr(s string, n int) string {
	var b bytes.Buffer
	for range n {
		b.WriteString(s)
	}
	return b.String()
}

// Search criteria formatted by the Encoder parse back to the same tree.
func TestSearchRoundTrip(t *testing.T) {
	day := time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC)
	all := []imap.SearchKey{
		{Op: imap.SearchAll}, {Op: imap.SearchAnswered}, {Op: imap.SearchBcc, Value: "b"}, {Op: imap.SearchBefore, Date: day},
		{Op: imap.SearchBody, Value: "two words"}, {Op: imap.SearchCc, Value: "日本"}, {Op: imap.SearchDeleted}, {Op: imap.SearchDraft},
		{Op: imap.SearchFlagged}, {Op: imap.SearchFrom, Value: `"q"`}, {Op: imap.SearchHeader, Field: "X-A", Value: ""},
		{Op: imap.SearchKeyword, Flag: "$Junk"}, {Op: imap.SearchLarger, Num: 4294967295}, {Op: imap.SearchNew},
		imap.Not(imap.SearchKey{Op: imap.SearchOld}), {Op: imap.SearchOn, Date: day}, imap.Or(imap.SearchKey{Op: imap.SearchRecent}, imap.SearchKey{Op: imap.SearchSeen}),
		{Op: imap.SearchSentBefore, Date: day}, {Op: imap.SearchSentOn, Date: day}, {Op: imap.SearchSentSince, Date: day},
		{Op: imap.SearchSince, Date: day}, {Op: imap.SearchSmaller, Num: 1}, {Op: imap.SearchSubject, Value: "line\r\nbreak"},
		{Op: imap.SearchText, Value: "t"}, {Op: imap.SearchTo, Value: "x@y"}, {Op: imap.SearchUID, UIDs: imap.UIDSet(mustSeq("1,3:*"))},
		{Op: imap.SearchUnanswered}, {Op: imap.SearchUndeleted}, {Op: imap.SearchUndraft}, {Op: imap.SearchUnflagged},
		{Op: imap.SearchUnkeyword, Flag: "foo"}, {Op: imap.SearchUnseen}, {Op: imap.SearchSeqSet, Seq: mustSeq("*")},
		imap.And(imap.SearchKey{Op: imap.SearchSeen}, imap.And(imap.SearchKey{Op: imap.SearchDraft})),
		{Op: imap.SearchModSeq, Num: 9223372036854775807}, {Op: imap.SearchOlder, Num: 1}, {Op: imap.SearchYounger, Num: 2},
	}
	c := imap.SearchCriteria{Charset: "UTF-8", Keys: all}
	require.NoError(t, c.Validate())
	var buf bytes.Buffer
	e := NewEncoder(bufio.NewWriter(&buf))
	e.Atom("t SEARCH ")
	c.Format(e)
	e.CRLF()
	require.NoError(t, e.Flush())
	d := newDec(buf.String())
	_, args, err := parseCommand(d)
	require.NoError(t, err, buf.String())
	assert.Equal(t, c, args.(SearchArgs).Criteria)
}

// The client's side of RFC 3501 §8's sample session.
func TestRFC3501SampleCommands(t *testing.T) {
	in := "a001 login mrc secret\r\na002 select inbox\r\na003 fetch 12 full\r\na004 fetch 12 body[header]\r\n" +
		"a005 store 12 +flags \\deleted\r\na006 logout\r\n"
	d := newDec(in)
	var got []any
	for range 6 {
		cmd, args, err := parseCommand(d)
		require.NoError(t, err)
		got = append(got, cmd.Tag+" "+cmd.Name, args)
	}
	assert.Equal(t, []any{
		"a001 LOGIN", []string{"mrc", "secret"},
		"a002 SELECT", SelectArgs{Mailbox: "INBOX"},
		"a003 FETCH", FetchArgs{Set: mustSeq("12"), Items: imap.FetchMacroFull},
		"a004 FETCH", FetchArgs{Set: mustSeq("12"), Items: []imap.FetchItem{{Attr: imap.FetchBodySection, Section: imap.Section{Specifier: imap.SpecHeader}}}},
		"a005 STORE", StoreArgs{Set: mustSeq("12"), Op: StoreAdd, Flags: []imap.Flag{imap.FlagDeleted}},
		"a006 LOGOUT", nil,
	}, got)
}
