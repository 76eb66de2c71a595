package imapclient

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

func TestGreeting(t *testing.T) {
	t.Parallel()
	c, _ := newFake(t, "", nil)
	assert.Equal(t, imap.StatusOK, c.Greeting().Type)
	assert.True(t, c.Caps().Has(imap.CapIdle))

	// A BYE greeting is an *imap.Error.
	for _, g := range []string{"* BYE go away\r\n", "* NO what\r\n", "garbage\r\n"} {
		cc, sc := newPipe(t)
		go io.WriteString(sc, g)
		_, err := NewClient(ctxT(t), cc, nil)
		require.Error(t, err, g)
		if strings.HasPrefix(g, "* BYE") {
			var ie *imap.Error
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, imap.StatusBYE, ie.Type)
		} else {
			assert.ErrorIs(t, err, ErrProtocol)
		}
	}
}

func TestInsecureAuthRefused(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)
	assert.ErrorIs(t, c.Login(ctx, "u", "p"), ErrInsecureAuth)
	a, err := auth.NewClient("PLAIN", "u", "p", nil)
	require.NoError(t, err)
	assert.ErrorIs(t, c.Authenticate(ctx, a), ErrInsecureAuth)

	// Nothing was sent: the next command is the first.
	done := async(func() error { return c.Noop(ctx) })
	tag := f.expect("NOOP")
	assert.Equal(t, "A1", tag)
	f.write(tag, "$T OK done\r\n")
	require.NoError(t, <-done)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", &Options{AllowInsecureAuth: true})
	ctx := ctxT(t)
	done := async(func() error { return c.Login(ctx, "joe", `pa"ss`) })
	tag := f.expect(`LOGIN joe "pa\"ss"`)
	f.write(tag, "$T OK [CAPABILITY IMAP4rev1 IDLE] logged in\r\n")
	require.NoError(t, <-done)
	assert.False(t, c.Caps().Has(imap.CapSASLIR))

	// A wrong password: NO with its code.
	done = async(func() error { return c.Login(ctx, "joe", "x") })
	tag = f.expect(`LOGIN joe x`)
	f.write(tag, "$T NO [AUTHENTICATIONFAILED] bad\r\n")
	err := <-done
	var ie *imap.Error
	require.ErrorAs(t, err, &ie)
	assert.True(t, ie.Code.Is(imap.CodeAuthenticationFailed))
	// Capabilities were forgotten: nil until asked.
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	t.Run("SASL-IR", func(t *testing.T) {
		c, f := newFake(t, "", &Options{AllowInsecureAuth: true})
		a, _ := auth.NewClient("PLAIN", "u", "p", nil)
		done := async(func() error { return c.Authenticate(ctx, a) })
		tag := f.expect("AUTHENTICATE PLAIN AHUAcA==")
		f.write(tag, "$T OK done\r\n")
		require.NoError(t, <-done)
		assert.Nil(t, c.Caps())
	})
	t.Run("continuation", func(t *testing.T) {
		c, f := newFake(t, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n", &Options{AllowInsecureAuth: true})
		a, _ := auth.NewClient("PLAIN", "u", "p", nil)
		done := async(func() error { return c.Authenticate(ctx, a) })
		tag := f.expect("AUTHENTICATE PLAIN")
		f.write(tag, "+ \r\n")
		assert.Equal(t, "AHUAcA==", f.line())
		f.write(tag, "$T NO [AUTHENTICATIONFAILED] no\r\n")
		var ie *imap.Error
		require.ErrorAs(t, <-done, &ie)
	})
	t.Run("bad challenge", func(t *testing.T) {
		c, f := newFake(t, "* OK [CAPABILITY IMAP4rev1 AUTH=CRAM-MD5] hi\r\n", &Options{AllowInsecureAuth: true})
		a, _ := auth.NewClient("CRAM-MD5", "u", "p", nil)
		done := async(func() error { return c.Authenticate(ctx, a) })
		tag := f.expect("AUTHENTICATE CRAM-MD5")
		f.write(tag, "+ !!!notbase64\r\n")
		assert.Equal(t, "*", f.line())
		f.write(tag, "$T BAD cancelled\r\n")
		require.ErrorIs(t, <-done, ErrProtocol)
	})
}

func TestPipelining(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)

	// UID FETCH and STATUS go out together; the answers come in the
	// reverse order and still reach their commands.
	fch := make(chan *FetchCommand, 1)
	go func() { fch <- c.UIDFetch(ctx, imap.UIDSetNum(7), []imap.FetchItem{{Attr: imap.FetchFlags}}, nil) }()
	t1 := f.expect("UID FETCH 7 FLAGS")
	fc := <-fch
	type statusRes struct {
		d   *imap.StatusData
		err error
	}
	sch := make(chan statusRes, 1)
	go func() {
		d, err := c.Status(ctx, "Sent", []imap.StatusItem{imap.StatusMessages})
		sch <- statusRes{d, err}
	}()
	t2 := f.expect("STATUS Sent (MESSAGES)")
	f.write(t2, "* STATUS Sent (MESSAGES 4)\r\n$T OK status\r\n")
	r := <-sch
	require.NoError(t, r.err)
	assert.EqualValues(t, 4, *r.d.Messages)
	f.write(t1, "* 3 FETCH (UID 7 FLAGS (\\Seen))\r\n$T OK fetch\r\n")
	got, err := fc.Collect()
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.EqualValues(t, 7, got[0].UID)
}

func TestAmbiguityHeldBack(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	waiting := make(chan string, 4)
	c.testHookWait = func(name string) { waiting <- name }
	ctx := ctxT(t)

	// RFC 3501 §5.5: FETCH by sequence number waits for EXPUNGE.
	exp := make(chan *ExpungeData, 1)
	go func() {
		d, err := c.Expunge(ctx)
		assert.NoError(t, err)
		exp <- d
	}()
	tag := f.expect("EXPUNGE")
	fetched := make(chan []*imapwire.FetchData, 1)
	go func() {
		got, err := c.Fetch(ctx, imap.SeqSetNum(2), []imap.FetchItem{{Attr: imap.FetchUID}}, nil).Collect()
		assert.NoError(t, err)
		fetched <- got
	}()
	assert.Equal(t, "FETCH", <-waiting)
	f.write(tag, "* 3 EXPUNGE\r\n* 3 EXPUNGE\r\n$T OK expunged\r\n")
	assert.Equal(t, []uint32{3, 3}, (<-exp).Seqs)
	tag = f.expect("FETCH 2 UID")
	f.write(tag, "* 2 FETCH (UID 9)\r\n$T OK\r\n")
	got := <-fetched
	require.Len(t, got, 1)
	assert.EqualValues(t, 9, got[0].UID)

	// UID commands are not held back by EXPUNGE... but state changes
	// are exclusive: SELECT waits for NOOP.
	noop := async(func() error { return c.Noop(ctx) })
	tag = f.expect("NOOP")
	sel := make(chan *SelectData, 1)
	go func() {
		d, err := c.Select(ctx, "INBOX", nil)
		assert.NoError(t, err)
		sel <- d
	}()
	assert.Equal(t, "SELECT", <-waiting)
	f.write(tag, "$T OK\r\n")
	require.NoError(t, <-noop)
	tag = f.expect("SELECT INBOX")
	f.write(tag, "* FLAGS (\\Seen \\Deleted)\r\n* 5 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 42] v\r\n* OK [UIDNEXT 10] n\r\n* OK [PERMANENTFLAGS (\\Seen \\*)] p\r\n$T OK [READ-WRITE] selected\r\n")
	d := <-sel
	assert.EqualValues(t, 5, d.Exists)
	assert.EqualValues(t, 42, d.UIDValidity)
	assert.EqualValues(t, 10, d.UIDNext)
	assert.Len(t, d.Flags, 2)
	assert.Contains(t, d.PermanentFlags, imap.FlagWildcard)
	assert.False(t, d.ReadOnly)
}

func TestConflicts(t *testing.T) {
	c := &Client{}
	mk := func(name string, uid bool) *command { return c.msgCommand(name, uid) }
	fetch, uidFetch, search, copyCmd := mk("FETCH", false), mk("FETCH", true), mk("SEARCH", false), mk("COPY", false)
	fetch.kinds, uidFetch.kinds, search.kinds = kindFetch, kindFetch, kindSearch
	expunge := c.newCommand("EXPUNGE")
	expunge.kinds = kindExpunge
	noop := c.newCommand("NOOP")
	sel := c.newCommand("SELECT")
	sel.exclusive = true
	for _, tc := range []struct {
		a, b *command
		want bool
	}{
		{fetch, search, false}, // both protected from EXPUNGE
		{fetch, expunge, true}, // §5.5
		{search, noop, true},   // NOOP may report expunges
		{uidFetch, expunge, false},
		{uidFetch, fetch, true}, // both collect FETCH responses
		{copyCmd, fetch, true},  // COPY by number, during which the server may expunge
		{sel, noop, true},
		{noop, noop, false},
	} {
		assert.Equal(t, tc.want, conflicts(tc.a, tc.b), "%s %s", tc.a.name, tc.b.name)
		assert.Equal(t, tc.want, conflicts(tc.b, tc.a), "%s %s", tc.b.name, tc.a.name)
	}
}

func TestUnilateral(t *testing.T) {
	t.Parallel()
	got := make(chan string, 16)
	h := &Handler{
		Exists:   func(n uint32) { got <- "exists " + itoa(n) },
		Expunge:  func(n uint32) { got <- "expunge " + itoa(n) },
		Fetch:    func(f *imapwire.FetchData) { got <- "fetch " + itoa(f.Seq) + " " + string(f.Flags[0]) },
		Alert:    func(s string) { got <- "alert " + s },
		Vanished: func(v *imapwire.VanishedData) { got <- "vanished " + v.UIDs.String() },
		Other:    func(r any) { got <- "other" },
	}
	c, f := newFake(t, "", &Options{Handler: h})
	ctx := ctxT(t)
	done := async(func() error { return c.Noop(ctx) })
	tag := f.expect("NOOP")
	f.write(tag, "* 3 EXISTS\r\n* 1 EXPUNGE\r\n* 2 FETCH (FLAGS (\\Seen))\r\n* OK [ALERT] disk full\r\n* VANISHED 4:5\r\n* XFOO bar\r\n$T OK\r\n")
	require.NoError(t, <-done)
	for _, want := range []string{"exists 3", "expunge 1", "fetch 2 \\Seen", "alert disk full", "vanished 4:5", "other"} {
		assert.Equal(t, want, <-got)
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func TestIdle(t *testing.T) {
	t.Parallel()
	exists := make(chan uint32, 1)
	c, f := newFake(t, "", &Options{Handler: &Handler{Exists: func(n uint32) { exists <- n }}})
	ctx := ctxT(t)

	// Ended by Close.
	type idleRes struct {
		ic  *IdleCommand
		err error
	}
	ich := make(chan idleRes, 1)
	go func() {
		ic, err := c.Idle(ctx)
		ich <- idleRes{ic, err}
	}()
	tag := f.expect("IDLE")
	f.write(tag, "+ idling\r\n")
	r := <-ich
	require.NoError(t, r.err)
	f.write(tag, "* 4 EXISTS\r\n")
	assert.EqualValues(t, 4, <-exists)
	closed := async(r.ic.Close)
	assert.Equal(t, "DONE", f.line())
	f.write(tag, "$T OK idle done\r\n")
	require.NoError(t, <-closed)

	// Ended by the context.
	ictx, cancel := context.WithCancel(ctx)
	go func() {
		ic, err := c.Idle(ictx)
		ich <- idleRes{ic, err}
	}()
	tag = f.expect("IDLE")
	f.write(tag, "+ idling\r\n")
	r = <-ich
	require.NoError(t, r.err)
	waited := async(r.ic.Wait)
	cancel()
	assert.Equal(t, "DONE", f.line())
	f.write(tag, "$T OK idle done\r\n")
	require.NoError(t, <-waited)

	// Refused.
	go func() {
		ic, err := c.Idle(ctx)
		ich <- idleRes{ic, err}
	}()
	tag = f.expect("IDLE")
	f.write(tag, "$T NO not now\r\n")
	r = <-ich
	var ie *imap.Error
	require.ErrorAs(t, r.err, &ie)
}

func TestAppend(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)
	msg := "Subject: hi\r\n\r\nbody\r\n"
	type appRes struct {
		d   *AppendData
		err error
	}
	ach := make(chan appRes, 1)
	go func() {
		d, err := c.Append(ctx, "Sent Items", int64(len(msg)), strings.NewReader(msg), &AppendOptions{
			Flags: []imap.Flag{imap.FlagSeen},
			Date:  time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC),
		})
		ach <- appRes{d, err}
	}()
	tag := f.expect(`APPEND "Sent Items" (\Seen) " 3-Feb-2024 04:05:06 +0000" {21}`)
	f.write(tag, "+ go ahead\r\n")
	assert.Equal(t, msg, f.read(len(msg)))
	assert.Equal(t, "", f.line())
	f.write(tag, "$T OK [APPENDUID 5 17] done\r\n")
	r := <-ach
	require.NoError(t, r.err)
	assert.Equal(t, &AppendData{UIDValidity: 5, UID: 17}, r.d)

	// Refused before the message: the reader is not read, and the
	// connection goes on.
	go func() {
		d, err := c.Append(ctx, "INBOX", 1<<30, failReader{t}, nil)
		ach <- appRes{d, err}
	}()
	tag = f.expect(`APPEND INBOX {1073741824}`)
	f.write(tag, "$T NO [TOOBIG] too big\r\n")
	r = <-ach
	var ie *imap.Error
	require.ErrorAs(t, r.err, &ie)
	assert.True(t, ie.Code.Is(imap.CodeTooBig))
	done := async(func() error { return c.Noop(ctx) })
	tag = f.expect("NOOP")
	f.write(tag, "$T OK\r\n")
	require.NoError(t, <-done)
}

type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("message read after a refusal")
	return 0, io.EOF
}

func TestFetchStreaming(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)
	body := strings.Repeat("x", 100000)
	type sec struct {
		uid  uint32
		name string
		data string
	}
	var secs []sec
	fch := make(chan *FetchCommand, 1)
	go func() {
		fch <- c.UIDFetch(ctx, imap.UIDSetNum(7, 8), []imap.FetchItem{{Attr: imap.FetchUID}, {Attr: imap.FetchBodySection, Peek: true}}, &FetchOptions{
			Section: func(m *imapwire.FetchData, it imap.FetchItem, r io.Reader, size int64) error {
				b, err := io.ReadAll(r)
				secs = append(secs, sec{m.UID, it.ResponseName(), string(b)})
				return err
			},
		})
	}()
	tag := f.expect("UID FETCH 7:8 (UID BODY.PEEK[])")
	fc := <-fch
	go f.write(tag, "* 1 FETCH (UID 7 BODY[] {100000}\r\n"+body+")\r\n* 2 FETCH (UID 8 BODY[] NIL)\r\n$T OK\r\n")
	var uids []uint32
	for m := fc.Next(); m != nil; m = fc.Next() {
		uids = append(uids, m.UID)
		assert.Empty(t, m.Sections)
	}
	require.NoError(t, fc.Close())
	assert.Equal(t, []uint32{7, 8}, uids)
	require.Len(t, secs, 2)
	assert.Equal(t, sec{7, "BODY[]", body}, secs[0])
	assert.Equal(t, sec{8, "BODY[]", ""}, secs[1])

	// Without Section, in memory; Close before the end drops the rest.
	go func() {
		fch <- c.Fetch(ctx, imap.SeqSetNum(1, 2), []imap.FetchItem{{Attr: imap.FetchBodySection, Section: imap.Section{Specifier: imap.SpecHeader}}}, nil)
	}()
	tag = f.expect("FETCH 1:2 BODY[HEADER]")
	fc = <-fch
	go f.write(tag, "* 1 FETCH (BODY[HEADER] {4}\r\nab\r\n)\r\n* 2 FETCH (BODY[HEADER] \"\")\r\n$T OK\r\n")
	m := fc.Next()
	require.NotNil(t, m)
	b, ok := m.Section("BODY[HEADER]")
	assert.True(t, ok)
	assert.Equal(t, "ab\r\n", string(b))
	require.NoError(t, fc.Close())
}

func TestSearch(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)
	type res struct {
		d   *SearchData
		err error
	}
	ch := make(chan res, 1)
	crit := imap.SearchCriteria{Keys: []imap.SearchKey{{Op: imap.SearchUnseen}, {Op: imap.SearchFrom, Value: "bob"}}}
	go func() {
		d, err := c.UIDSearch(ctx, crit, nil)
		ch <- res{d, err}
	}()
	tag := f.expect("UID SEARCH UNSEEN FROM bob")
	f.write(tag, "* SEARCH 5 3 4 9\r\n$T OK\r\n")
	r := <-ch
	require.NoError(t, r.err)
	assert.Equal(t, []uint32{3, 4, 5, 9}, r.d.Nums())
	assert.Equal(t, "3:5,9", r.d.All.String())
	assert.EqualValues(t, 4, r.d.Count)
	assert.EqualValues(t, 3, r.d.Min)
	assert.EqualValues(t, 9, r.d.Max)

	go func() {
		d, err := c.Search(ctx, crit, &SearchOptions{ReturnCount: true, ReturnMin: true})
		ch <- res{d, err}
	}()
	tag = f.expect("SEARCH RETURN (MIN COUNT) UNSEEN FROM bob")
	f.write(tag, "* ESEARCH (TAG \"$T\") MIN 2 COUNT 3\r\n$T OK\r\n")
	r = <-ch
	require.NoError(t, r.err)
	assert.EqualValues(t, 2, r.d.Min)
	assert.EqualValues(t, 3, r.d.Count)
}

func TestStoreCopyMove(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)
	type res struct {
		v   any
		err error
	}
	ch := make(chan res, 1)
	us := uint64(12)
	go func() {
		d, err := c.UIDStore(ctx, imap.UIDSetNum(4, 5), StoreFlags{Op: imapwire.StoreAdd, Flags: []imap.Flag{imap.FlagDeleted}}, &StoreOptions{UnchangedSince: &us})
		ch <- res{d, err}
	}()
	tag := f.expect(`UID STORE 4:5 (UNCHANGEDSINCE 12) +FLAGS (\Deleted)`)
	f.write(tag, "* 1 FETCH (UID 4 FLAGS (\\Deleted) MODSEQ (13))\r\n$T OK [MODIFIED 5] partly\r\n")
	r := <-ch
	require.NoError(t, r.err)
	sd := r.v.(*StoreData)
	require.Len(t, sd.Fetch, 1)
	assert.EqualValues(t, 13, sd.Fetch[0].ModSeq)
	assert.Equal(t, "5", sd.Modified.String())

	go func() {
		d, err := c.UIDCopy(ctx, imap.UIDSetNum(4), "Archive")
		ch <- res{d, err}
	}()
	tag = f.expect("UID COPY 4 Archive")
	f.write(tag, "$T OK [COPYUID 9 4 100] copied\r\n")
	r = <-ch
	require.NoError(t, r.err)
	assert.Equal(t, "100", r.v.(*CopyData).DstUIDs.String())

	go func() {
		d, err := c.Move(ctx, imap.SeqSetNum(1), "Trash")
		ch <- res{d, err}
	}()
	tag = f.expect("MOVE 1 Trash")
	f.write(tag, "* OK [COPYUID 9 4 101] moved\r\n* 1 EXPUNGE\r\n$T OK done\r\n")
	r = <-ch
	require.NoError(t, r.err)
	assert.Equal(t, "101", r.v.(*CopyData).DstUIDs.String())
}

func TestCancelAbandons(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)
	cctx, cancel := context.WithCancel(ctx)
	done := async(func() error { return c.Noop(cctx) })
	tag := f.expect("NOOP")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	// The late answer is dropped; the connection goes on.
	f.write(tag, "$T OK late\r\n")
	done = async(func() error { return c.Noop(ctx) })
	tag = f.expect("NOOP")
	f.write(tag, "$T OK\r\n")
	require.NoError(t, <-done)
}

// TestMisbehaving: a server that breaks the protocol gives typed errors,
// never a hang.
func TestMisbehaving(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	run := func(t *testing.T, o *Options, script string, close bool) (error, *Client) {
		c, f := newFake(t, "", o)
		ctx := ctx
		if o != nil && o.Timeout != 0 {
			// The context must have no deadline for Timeout to apply.
			ctx = context.Background()
		}
		done := async(func() error { return c.Noop(ctx) })
		tag := f.expect("NOOP")
		f.write(tag, script)
		if close {
			f.conn.Close()
		}
		return <-done, c
	}
	t.Run("bye mid-command", func(t *testing.T) {
		var bye *imap.StatusResponse
		o := &Options{Handler: &Handler{Bye: func(r *imap.StatusResponse) { bye = r }}}
		err, c := run(t, o, "* BYE shutting down\r\n", true)
		var ie *imap.Error
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, imap.StatusBYE, ie.Type)
		<-c.Done()
		require.NotNil(t, bye)
		assert.Equal(t, "shutting down", bye.Text)
		assert.ErrorAs(t, c.Noop(ctx), &ie)
	})
	t.Run("split mid-token", func(t *testing.T) {
		err, _ := run(t, nil, "* 1 FETCH (UID 1", true)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	})
	t.Run("unterminated line", func(t *testing.T) {
		o := &Options{Limits: imapwire.Limits{MaxLine: 1024}}
		err, _ := run(t, o, "* OK "+strings.Repeat("x", 4096), false)
		require.ErrorIs(t, err, ErrProtocol)
		require.ErrorIs(t, err, imapwire.ErrLimit)
	})
	t.Run("literal larger than announced", func(t *testing.T) {
		o := &Options{Timeout: 100 * time.Millisecond}
		err, _ := run(t, o, "* 1 FETCH (BODY[] {100}\r\nshort)\r\n$T OK done\r\n", false)
		require.ErrorIs(t, err, ErrTimeout)
	})
	t.Run("tag never answered", func(t *testing.T) {
		o := &Options{Timeout: 50 * time.Millisecond}
		err, c := run(t, o, "* 1 EXISTS\r\n", false)
		require.ErrorIs(t, err, ErrTimeout)
		require.ErrorIs(t, c.Noop(context.Background()), ErrTimeout)
	})
	t.Run("malformed completion", func(t *testing.T) {
		err, _ := run(t, nil, "$T OK [UIDNEXT abc] x\r\n", false)
		require.ErrorIs(t, err, ErrProtocol)
	})
	t.Run("literal over the limit", func(t *testing.T) {
		o := &Options{Limits: imapwire.Limits{MaxLiteral: 10}}
		err, _ := run(t, o, "* 1 FETCH (BODY[] {100}\r\n", false)
		require.ErrorIs(t, err, imapwire.ErrLimit)
	})
	t.Run("unknown tag", func(t *testing.T) {
		err, _ := run(t, nil, "Z9 OK who\r\n$T OK\r\n", false)
		require.NoError(t, err)
	})
	t.Run("data after STARTTLS", func(t *testing.T) {
		c, f := newFake(t, "", nil)
		done := async(func() error { return c.StartTLS(ctx, nil) })
		tag := f.expect("STARTTLS")
		f.write(tag, "$T OK begin\r\n* OK injected\r\n")
		require.ErrorIs(t, <-done, ErrProtocol)
	})
}

func TestCloseWhileWaiting(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)
	done := async(func() error { return c.Noop(ctx) })
	f.expect("NOOP")
	c.Close()
	require.ErrorIs(t, <-done, ErrClosed)
	require.ErrorIs(t, c.Noop(ctx), ErrClosed)
}

func TestInvalidArgumentKeepsConnection(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, "", nil)
	ctx := ctxT(t)
	_, err := c.Store(ctx, imap.SeqSetNum(1), StoreFlags{Op: imapwire.StoreAdd, Flags: []imap.Flag{"bad flag"}}, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, imapwire.ErrInvalid), "%v", err)
	done := async(func() error { return c.Noop(ctx) })
	tag := f.expect("NOOP")
	f.write(tag, "$T OK\r\n")
	require.NoError(t, <-done)
}
