package imapserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/imap/imapserver"
)

const msg1 = "From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: hello there\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\nThe body text.\r\n"

const msg2 = "From: carol@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--XX--\r\n"

func TestGreetingAndAnyState(t *testing.T) {
	addr := start(t, &imapserver.Server{Hostname: "imap.test", Backend: newBackend(t)})
	c := dial(t, addr)
	un, tagged := c.do("a1", "CAPABILITY")
	require.Len(t, un, 1)
	assert.Contains(t, un[0], "LOGINDISABLED")
	assert.NotContains(t, un[0], "AUTH=PLAIN")
	assert.Equal(t, "a1 OK CAPABILITY completed", tagged)
	_, tagged = c.do("a2", "NOOP")
	assert.Equal(t, "a2 OK NOOP completed", tagged)
	_, tagged = c.do("a3", "LOGIN alice secret")
	assert.True(t, strings.HasPrefix(tagged, "a3 NO [PRIVACYREQUIRED]"), tagged)
	_, tagged = c.do("a4", "SELECT INBOX")
	assert.True(t, strings.HasPrefix(tagged, "a4 BAD"), tagged)
	_, tagged = c.do("a5", "FROB")
	assert.True(t, strings.HasPrefix(tagged, "a5 BAD"), tagged)
	un, tagged = c.do("a6", "LOGOUT")
	assert.Equal(t, []string{"* BYE logging out"}, un)
	assert.Equal(t, "a6 OK LOGOUT completed", tagged)
}

func TestSession(t *testing.T) {
	b := newBackend(t)
	_, err := b.Deliver("alice", "INBOX", []byte(msg1))
	require.NoError(t, err)
	_, err = b.Deliver("alice", "INBOX", []byte(msg2))
	require.NoError(t, err)
	addr := start(t, &imapserver.Server{Hostname: "imap.test", Backend: b, AllowInsecureAuth: true})
	c := dial(t, addr)
	_, tagged := c.do("x", "LOGIN alice wrong")
	assert.Equal(t, "x NO [AUTHENTICATIONFAILED] authentication failed", tagged)
	c.login()

	steps := []struct {
		cmd     string
		untag   []string // each must appear among the untagged lines
		tagged  string   // prefix
		exactly []string // when set, the untagged lines exactly
	}{
		{cmd: "SELECT INBOX", untag: []string{"* 2 EXISTS", "* 2 RECENT", "* OK [UNSEEN 1] first unseen", "* OK [UIDNEXT 3] predicted next UID"}, tagged: "OK [READ-WRITE] SELECT"},
		{cmd: "FETCH 1 (UID FLAGS RFC822.SIZE)", exactly: []string{"* 1 FETCH (UID 1 FLAGS (\\Recent) RFC822.SIZE 130)"}, tagged: "OK"},
		{cmd: "FETCH 1 ENVELOPE", untag: []string{`* 1 FETCH (ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "hello there" (("Bob" NIL "bob" "example.org")) (("Bob" NIL "bob" "example.org")) (("Bob" NIL "bob" "example.org")) ((NIL NIL "alice" "example.org")) NIL NIL NIL NIL))`}, tagged: "OK"},
		{cmd: "FETCH 2 BODY.PEEK[1]", exactly: []string{"* 2 FETCH (BODY[1] {10}", "first part)"}, tagged: "OK"},
		{cmd: "FETCH 2 BODY.PEEK[2.MIME]", exactly: []string{"* 2 FETCH (BODY[2.MIME] {27}", "Content-Type: text/html", "", ")"}, tagged: "OK"},
		{cmd: "FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]", exactly: []string{"* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {24}", "Subject: hello there", "", ")"}, tagged: "OK"},
		{cmd: "FETCH 1 BODY.PEEK[TEXT]<4.4>", exactly: []string{"* 1 FETCH (BODY[TEXT]<4> {4}", "body)"}, tagged: "OK"},
		{cmd: "FETCH 1 BODY[TEXT]", exactly: []string{"* 1 FETCH (BODY[TEXT] {16}", "The body text.", " FLAGS (\\Seen \\Recent))"}, tagged: "OK"},
		{cmd: "FETCH 2 BODYSTRUCTURE", untag: []string{`* 2 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 13 0 NIL NIL NIL NIL) "mixed" ("boundary" "XX") NIL NIL NIL))`}, tagged: "OK"},
		{cmd: "SEARCH UNSEEN", exactly: []string{"* SEARCH 2"}, tagged: "OK"},
		{cmd: "SEARCH BODY second", exactly: []string{"* SEARCH 2"}, tagged: "OK"},
		{cmd: "SEARCH FROM bob SUBJECT hello", exactly: []string{"* SEARCH 1"}, tagged: "OK"},
		{cmd: "UID SEARCH TEXT \"first part\"", exactly: []string{"* SEARCH 2"}, tagged: "OK"},
		{cmd: "SEARCH CHARSET KOI8-R ALL", tagged: "NO [BADCHARSET"},
		{cmd: "STORE 2 +FLAGS (\\Flagged)", exactly: []string{"* 2 FETCH (FLAGS (\\Flagged \\Recent))"}, tagged: "OK"},
		{cmd: "UID STORE 2 -FLAGS.SILENT (\\Flagged)", exactly: nil, tagged: "OK"},
		{cmd: "FETCH 5 FLAGS", tagged: "BAD"},
		{cmd: "CREATE Archive/2024", tagged: "OK"},
		{cmd: "LIST \"\" *", untag: []string{`* LIST (\HasChildren) "/" Archive`, `* LIST (\HasNoChildren) "/" Archive/2024`, `* LIST (\HasNoChildren) "/" INBOX`}, tagged: "OK"},
		{cmd: "LIST \"\" %", exactly: []string{`* LIST (\HasChildren) "/" Archive`, `* LIST (\HasNoChildren) "/" INBOX`}, tagged: "OK"},
		{cmd: "LIST \"\" \"\"", exactly: []string{`* LIST (\Noselect) "/" ""`}, tagged: "OK"},
		{cmd: "SUBSCRIBE Archive", tagged: "OK"},
		{cmd: "LSUB \"\" *", exactly: []string{`* LSUB () "/" Archive`}, tagged: "OK"},
		{cmd: "UID COPY 1:2 Archive", tagged: "OK [COPYUID "},
		{cmd: "COPY 1 Nowhere", tagged: "NO [TRYCREATE]"},
		{cmd: "STATUS Archive (MESSAGES UIDNEXT UNSEEN)", exactly: []string{`* STATUS Archive (MESSAGES 2 UIDNEXT 3 UNSEEN 1)`}, tagged: "OK"},
		{cmd: "MOVE 1 Archive/2024", untag: []string{"* 1 EXPUNGE"}, tagged: "OK"},
		{cmd: "STORE 1 +FLAGS.SILENT (\\Deleted)", tagged: "OK"},
		{cmd: "EXPUNGE", exactly: []string{"* 1 EXPUNGE"}, tagged: "OK"},
		{cmd: "RENAME Archive Old", tagged: "OK"},
		{cmd: "DELETE Old/2024", tagged: "OK"},
		{cmd: "DELETE Nowhere", tagged: "NO [NONEXISTENT]"},
		{cmd: "EXAMINE Old", untag: []string{"* 2 EXISTS", "* OK [PERMANENTFLAGS ()] flags permitted"}, tagged: "OK [READ-ONLY]"},
		{cmd: "STORE 1 +FLAGS (\\Seen)", tagged: "NO [READ-ONLY]"},
		{cmd: "UNSELECT", tagged: "OK"},
		{cmd: "FETCH 1 FLAGS", tagged: "BAD"},
	}
	for i, s := range steps {
		tag := "t" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		un, tagged := c.do(tag, s.cmd)
		require.True(t, strings.HasPrefix(tagged, tag+" "+s.tagged), "%s: got %q", s.cmd, tagged)
		for _, u := range s.untag {
			assert.Contains(t, un, u, s.cmd)
		}
		if s.exactly != nil || s.untag == nil && strings.HasPrefix(s.tagged, "OK") && strings.Contains(s.cmd, "SILENT") {
			assert.Equal(t, s.exactly, un, s.cmd)
		}
	}
}

func TestAppendLiteral(t *testing.T) {
	b := newBackend(t)
	addr := start(t, &imapserver.Server{Backend: b, AllowInsecureAuth: true, Limits: imapserver.Limits{MaxMessageBytes: 100}})
	c := dial(t, addr)
	c.login()
	m := "Subject: hi\r\n\r\nyo\r\n"
	c.send("a APPEND INBOX (\\Seen) {19}\r\n")
	assert.True(t, strings.HasPrefix(c.line(), "+ "))
	c.send(m + "\r\n")
	_, tagged := c.until("a")
	assert.Regexp(t, `^a OK \[APPENDUID \d+ 1\] APPEND completed$`, tagged)
	// LITERAL+: no continuation.
	_, tagged = c.do("b", "APPEND INBOX {19+}\r\n"+m)
	assert.True(t, strings.HasPrefix(tagged, "b OK [APPENDUID"), tagged)
	// Too big: refused before the client sends it, and the session goes on.
	_, tagged = c.do("c", "APPEND INBOX {1000}")
	assert.True(t, strings.HasPrefix(tagged, "c NO [TOOBIG]"), tagged)
	_, tagged = c.do("d", "APPEND Nowhere {19+}\r\n"+m)
	assert.True(t, strings.HasPrefix(tagged, "d NO [TRYCREATE]"), tagged)
	un, _ := c.do("e", "SELECT INBOX")
	assert.Contains(t, un, "* 2 EXISTS")
	// A synchronising literal inside another command.
	c.send("f FETCH 1:* (FLAGS)\r\n")
	un, tagged = c.until("f")
	assert.Equal(t, "f OK FETCH completed", tagged)
	assert.Equal(t, []string{"* 1 FETCH (FLAGS (\\Seen \\Recent))", "* 2 FETCH (FLAGS (\\Recent))"}, un)
	c.send("g EXAMINE {5}\r\n")
	assert.True(t, strings.HasPrefix(c.line(), "+ "))
	c.send("INBOX\r\n")
	_, tagged = c.until("g")
	assert.True(t, strings.HasPrefix(tagged, "g OK [READ-ONLY]"), tagged)
	// A command refused before its arguments: no continuation for its
	// literal, which the client then does not send.
	_, tagged = c.do("h", "LOGIN {5}")
	assert.True(t, strings.HasPrefix(tagged, "h BAD"), tagged)
}

func TestPipelining(t *testing.T) {
	b := newBackend(t)
	addr := start(t, &imapserver.Server{Backend: b, AllowInsecureAuth: true})
	c := dial(t, addr)
	c.send("1 LOGIN alice secret\r\n2 SELECT INBOX\r\n3 NOOP\r\n4 LOGOUT\r\n")
	for _, tag := range []string{"1", "2", "3", "4"} {
		_, tagged := c.until(tag)
		assert.True(t, strings.HasPrefix(tagged, tag+" OK"), tagged)
	}
}

func TestUpdatesBetweenSessions(t *testing.T) {
	b := newBackend(t)
	_, err := b.Deliver("alice", "INBOX", []byte(msg1))
	require.NoError(t, err)
	addr := start(t, &imapserver.Server{Backend: b, AllowInsecureAuth: true})
	c1, c2 := dial(t, addr), dial(t, addr)
	c1.login()
	c2.login()
	c1.do("s", "SELECT INBOX")
	c2.do("s", "SELECT INBOX")
	_, err = b.Deliver("alice", "INBOX", []byte(msg2))
	require.NoError(t, err)
	c2.do("a", "STORE 1 +FLAGS.SILENT (\\Deleted)")
	// FETCH, STORE and SEARCH never carry EXPUNGE (RFC 3501 §7.4.1).
	_, tagged := c2.do("b", "EXPUNGE")
	require.True(t, strings.HasPrefix(tagged, "b OK"))
	un, _ := c1.do("f", "FETCH 1 FLAGS")
	assert.NotContains(t, strings.Join(un, "\n"), "EXPUNGE")
	assert.Contains(t, un, "* 2 EXISTS")
	un, _ = c1.do("n", "NOOP")
	assert.Equal(t, []string{"* 1 EXPUNGE"}, un)

	// IDLE hears of a delivery at once, and DONE ends it.
	c1.send("i IDLE\r\n")
	assert.True(t, strings.HasPrefix(c1.line(), "+ "))
	_, err = b.Deliver("alice", "INBOX", []byte(msg1))
	require.NoError(t, err)
	assert.Equal(t, "* 2 EXISTS", c1.line())
	assert.Equal(t, "* 1 RECENT", c1.line())
	c1.send("DONE\r\n")
	_, tagged = c1.until("i")
	assert.Equal(t, "i OK IDLE terminated", tagged)
}

func TestShutdown(t *testing.T) {
	b := newBackend(t)
	srv := &imapserver.Server{Backend: b, AllowInsecureAuth: true}
	addr := start(t, srv)
	c := dial(t, addr)
	c.login()
	c.send("i IDLE\r\n")
	assert.True(t, strings.HasPrefix(c.line(), "+ "))
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	assert.Equal(t, "* BYE server shutting down", c.line())
	require.NoError(t, <-done)
}
