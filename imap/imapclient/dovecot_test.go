package imapclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
	"github.com/mailwire/mailwire/internal/peer"
)

// dovecotExtra turns on Dovecot's quota plugins, for GETQUOTA, and
// answers failed logins at once.
const dovecotExtra = `auth_failure_delay = 0
mail_plugins = $mail_plugins quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota imap_zlib
}
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=100M
}`

// testMessage returns a small message numbered i.
func testMessage(i int) string {
	return fmt.Sprintf("From: Sender %d <sender%d@example.test>\r\n"+
		"To: user@example.test\r\n"+
		"Subject: message %d\r\n"+
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"+
		"Message-ID: <m%d@example.test>\r\n"+
		"\r\n"+
		"Body of message %d.\r\n", i, i, i, i, i)
}

// prefill writes n messages into a Maildir's new directory, the first
// seen ones (in cur with the S flag) when seen is set.
func prefill(n int, seen int) func(user, dir string) error {
	return func(user, dir string) error {
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
				return err
			}
		}
		for i := 1; i <= n; i++ {
			name := filepath.Join(dir, "new", fmt.Sprintf("%d.M%dP1.test", 1700000000+i, i))
			if i <= seen {
				name = filepath.Join(dir, "cur", fmt.Sprintf("%d.M%dP1.test:2,S", 1700000000+i, i))
			}
			if err := os.WriteFile(name, []byte(testMessage(i)), 0o600); err != nil {
				return err
			}
		}
		return nil
	}
}

func startDovecot(t testing.TB, n, seen int) *peer.Dovecot {
	return peer.StartDovecot(t, peer.DovecotOptions{
		Protocols: []string{"imap"},
		TLS:       true,
		Prefill:   prefill(n, seen),
		Extra:     dovecotExtra,
	})
}

func TestDovecotConnect(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, 0, 0)
	ctx := ctxT(t)
	addr := peer.Addr(d.IMAPPort)

	// Cleartext: credentials are refused before they are sent.
	c, err := Dial(ctx, addr, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, c.Login(ctx, "user", "pass"), ErrInsecureAuth)
	require.NoError(t, c.Logout(ctx))

	// Allowed explicitly.
	c, err = Dial(ctx, addr, &Options{AllowInsecureAuth: true})
	require.NoError(t, err)
	var ie *imap.Error
	require.ErrorAs(t, c.Login(ctx, "user", "wrong"), &ie)
	assert.True(t, ie.Code.Is(imap.CodeAuthenticationFailed), "%v", ie)
	require.NoError(t, c.Login(ctx, "user", "pass"))
	require.NoError(t, c.Logout(ctx))
	require.ErrorIs(t, c.Noop(ctx), ErrClosed)

	// STARTTLS, then every SASL mechanism Dovecot offers.
	o := &Options{TLSConfig: d.TLS.Client}
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"} {
		c, err := DialStartTLS(ctx, addr, o)
		require.NoError(t, err, mech)
		_, isTLS := c.TLSConnectionState()
		assert.True(t, isTLS)
		caps, err := c.Capability(ctx)
		require.NoError(t, err)
		require.Contains(t, caps.AuthMechanisms(), mech)
		cs, _ := c.TLSConnectionState()
		a, err := auth.NewClient(mech, "user", "pass", &cs)
		require.NoError(t, err)
		require.NoError(t, c.Authenticate(ctx, a), mech)
		require.NoError(t, c.Noop(ctx))
		require.NoError(t, c.Logout(ctx))
	}
	// COMPRESS=DEFLATE, with a message both ways.
	c, err = DialTLS(ctx, peer.Addr(d.IMAPSPort), o)
	require.NoError(t, err)
	require.NoError(t, c.Login(ctx, "user", "pass"))
	require.NoError(t, c.Compress(ctx))
	big := testMessage(1) + strings.Repeat("All work and no play.\r\n", 5000)
	_, err = c.Append(ctx, "INBOX", int64(len(big)), strings.NewReader(big), nil)
	require.NoError(t, err)
	_, err = c.Select(ctx, "INBOX", nil)
	require.NoError(t, err)
	msgs, err := c.Fetch(ctx, imap.SeqSetNum(1), []imap.FetchItem{{Attr: imap.FetchBodySection}}, nil).Collect()
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Len(t, msgs[0].Sections, 1)
	assert.Equal(t, big, string(msgs[0].Sections[0].Data))
	_, isTLS := c.TLSConnectionState()
	assert.True(t, isTLS)
	require.NoError(t, c.Logout(ctx))

	// Implicit TLS. (A second failed login would cost seconds: Dovecot
	// delays the failures from an address more and more.)
	c, err = DialTLS(ctx, peer.Addr(d.IMAPSPort), o)
	require.NoError(t, err)
	require.NoError(t, c.Login(ctx, "user", "pass"))
	require.NoError(t, c.Logout(ctx))
}

// TestDovecotCommands runs every command Dovecot offers that the client
// implements, on one connection.
func TestDovecotCommands(t *testing.T) {
	t.Parallel()
	const n = 20
	d := startDovecot(t, n, 5)
	ctx := ctxT(t)
	var mu sync.Mutex
	var expunged []uint32
	o := &Options{TLSConfig: d.TLS.Client, Handler: &Handler{
		Expunge: func(seq uint32) { mu.Lock(); expunged = append(expunged, seq); mu.Unlock() },
	}}
	o.Logger = slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := DialTLS(ctx, peer.Addr(d.IMAPSPort), o)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Login(ctx, "user", "pass"))
	caps, err := c.Capability(ctx)
	require.NoError(t, err)
	for _, cp := range []imap.Capability{imap.CapIdle, imap.CapUIDPlus, imap.CapMove, imap.CapCondStore, imap.CapQResync, imap.CapESearch, imap.CapListStatus, imap.CapQuota, imap.CapNamespace, imap.CapID, imap.CapEnable, imap.CapUnselect} {
		assert.True(t, caps.Has(cp), cp)
	}

	t.Run("session", func(t *testing.T) {
		require.NoError(t, c.Noop(ctx))
		v := "mailwire"
		id, err := c.ID(ctx, []imapwire.IDField{{Name: "name", Value: &v}})
		require.NoError(t, err)
		assert.NotEmpty(t, id.Fields)
		ns, err := c.Namespace(ctx)
		require.NoError(t, err)
		require.Len(t, ns.Personal, 1)
		assert.Equal(t, '/', ns.Personal[0].Delim)
		en, err := c.Enable(ctx, imap.CapCondStore)
		require.NoError(t, err)
		assert.Equal(t, []imap.Capability{imap.CapCondStore}, en)
		assert.True(t, c.Enabled(imap.CapCondStore))
	})

	t.Run("mailboxes", func(t *testing.T) {
		require.NoError(t, c.Create(ctx, "Projekte/Größe"))
		require.NoError(t, c.Create(ctx, "Archive"))
		require.NoError(t, c.Create(ctx, "Old"))
		require.NoError(t, c.Rename(ctx, "Old", "Older"))
		require.NoError(t, c.Create(ctx, "Gone"))
		require.NoError(t, c.Delete(ctx, "Gone"))
		require.NoError(t, c.Subscribe(ctx, "Archive"))
		var ie *imap.Error
		require.ErrorAs(t, c.Create(ctx, "Archive"), &ie)

		list, err := c.List(ctx, "", "*", nil)
		require.NoError(t, err)
		var names []string
		for _, l := range list {
			names = append(names, l.Mailbox)
		}
		assert.ElementsMatch(t, []string{"INBOX", "Projekte", "Projekte/Größe", "Archive", "Older"}, names)

		list, err = c.List(ctx, "", "%", &ListOptions{ReturnChildren: true, ReturnSpecialUse: true, ReturnSubscribed: true, ReturnStatus: []imap.StatusItem{imap.StatusMessages, imap.StatusUnseen}})
		require.NoError(t, err)
		for _, l := range list {
			if l.Mailbox == imap.Inbox {
				require.NotNil(t, l.Status)
				assert.EqualValues(t, n, *l.Status.Messages)
				assert.EqualValues(t, n-5, *l.Status.Unseen)
			}
			if l.Mailbox == "Projekte" {
				assert.Contains(t, l.Attrs, imap.AttrHasChildren)
			}
		}
		list, err = c.List(ctx, "", "*", &ListOptions{SelectSubscribed: true})
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "Archive", list[0].Mailbox)
		lsub, err := c.Lsub(ctx, "", "*")
		require.NoError(t, err)
		require.Len(t, lsub, 1)
		require.NoError(t, c.Unsubscribe(ctx, "Archive"))

		st, err := c.Status(ctx, "INBOX", []imap.StatusItem{imap.StatusMessages, imap.StatusUIDNext, imap.StatusHighestModSeq})
		require.NoError(t, err)
		assert.EqualValues(t, n, *st.Messages)
		assert.EqualValues(t, n+1, *st.UIDNext)
	})

	t.Run("append", func(t *testing.T) {
		msg := testMessage(99)
		ad, err := c.Append(ctx, "Archive", int64(len(msg)), strings.NewReader(msg), &AppendOptions{
			Flags: []imap.Flag{imap.FlagFlagged}, Date: time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)})
		require.NoError(t, err)
		assert.EqualValues(t, 1, ad.UID)
		assert.NotZero(t, ad.UIDValidity)
		var ie *imap.Error
		_, err = c.Append(ctx, "Missing", int64(len(msg)), strings.NewReader(msg), nil)
		require.ErrorAs(t, err, &ie)
		assert.True(t, ie.Code.Is(imap.CodeTryCreate))
	})

	t.Run("select", func(t *testing.T) {
		sd, err := c.Examine(ctx, "INBOX", nil)
		require.NoError(t, err)
		assert.True(t, sd.ReadOnly)
		require.NoError(t, c.Unselect(ctx))
		sd, err = c.Select(ctx, "INBOX", &SelectOptions{CondStore: true})
		require.NoError(t, err)
		assert.EqualValues(t, n, sd.Exists)
		assert.EqualValues(t, n+1, sd.UIDNext)
		assert.NotZero(t, sd.UIDValidity)
		assert.NotZero(t, sd.HighestModSeq)
		assert.False(t, sd.ReadOnly)
		assert.Contains(t, sd.Flags, imap.FlagSeen)
		require.NoError(t, c.Check(ctx))
	})

	t.Run("search", func(t *testing.T) {
		sd, err := c.Search(ctx, imap.SearchCriteria{Keys: []imap.SearchKey{{Op: imap.SearchUnseen}}}, nil)
		require.NoError(t, err)
		assert.EqualValues(t, n-5, sd.Count)
		assert.EqualValues(t, 6, sd.Min)
		sd, err = c.UIDSearch(ctx, imap.SearchCriteria{Keys: []imap.SearchKey{{Op: imap.SearchSubject, Value: "message 1"}}}, &SearchOptions{ReturnAll: true, ReturnCount: true})
		require.NoError(t, err)
		assert.Equal(t, "1,10:19", sd.All.String()) // "message 1", "message 10"...
		assert.EqualValues(t, 11, sd.Count)
		// A string that must go as a literal.
		sd, err = c.Search(ctx, imap.SearchCriteria{Charset: "UTF-8", Keys: []imap.SearchKey{{Op: imap.SearchBody, Value: "Größe\r\n"}}}, nil)
		require.NoError(t, err)
		assert.Zero(t, sd.Count)
	})

	t.Run("sort thread", func(t *testing.T) {
		// Messages 1 to 9 are shorter than 10 to 20; ties go by number.
		nums, err := c.Sort(ctx, []SortKey{{Criterion: SortSize, Reverse: true}}, imap.SearchCriteria{})
		require.NoError(t, err)
		assert.Equal(t, []uint32{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nums)
		nums, err = c.UIDSort(ctx, []SortKey{{Criterion: SortSize}}, imap.SearchCriteria{Keys: []imap.SearchKey{{Op: imap.SearchSubject, Value: "message 2"}}})
		require.NoError(t, err)
		assert.Equal(t, []uint32{2, 20}, nums)
		threads, err := c.Thread(ctx, ThreadReferences, imap.SearchCriteria{})
		require.NoError(t, err)
		assert.Len(t, threads, n)
		threads, err = c.UIDThread(ctx, ThreadOrderedSubject, imap.SearchCriteria{Keys: []imap.SearchKey{{Op: imap.SearchUnseen}}})
		require.NoError(t, err)
		assert.Len(t, threads, n-5)
	})

	t.Run("fetch", func(t *testing.T) {
		msgs, err := c.Fetch(ctx, imap.SeqSet{{Start: 1, Stop: imap.Star}}, []imap.FetchItem{{Attr: imap.FetchUID}, {Attr: imap.FetchEnvelope}, {Attr: imap.FetchFlags}, {Attr: imap.FetchRFC822Size}, {Attr: imap.FetchBodyStructure}, {Attr: imap.FetchModSeq}}, nil).Collect()
		require.NoError(t, err)
		require.Len(t, msgs, n)
		for _, m := range msgs {
			assert.Equal(t, fmt.Sprintf("message %d", m.UID), m.Envelope.Subject)
			assert.EqualValues(t, len(testMessage(int(m.UID))), m.RFC822Size)
			assert.NotZero(t, m.ModSeq)
			assert.Equal(t, "text", m.BodyStructure.Type)
		}

		// Bodies streamed, with their UIDs.
		got := map[uint32]string{}
		fc := c.UIDFetch(ctx, imap.UIDSet{{Start: 1, Stop: 3}}, []imap.FetchItem{{Attr: imap.FetchUID}, {Attr: imap.FetchBodySection, Peek: true}}, &FetchOptions{
			Section: func(m *imapwire.FetchData, it imap.FetchItem, r io.Reader, size int64) error {
				var b bytes.Buffer
				_, err := io.Copy(&b, r)
				got[m.UID] = b.String()
				return err
			}})
		for m := fc.Next(); m != nil; m = fc.Next() {
		}
		require.NoError(t, fc.Close())
		require.Len(t, got, 3)
		for uid, body := range got {
			assert.Equal(t, testMessage(int(uid)), body)
		}

		// Pipelined: several UID FETCHes from goroutines at once.
		var wg sync.WaitGroup
		for i := 1; i <= 5; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msgs, err := c.UIDFetch(ctx, imap.UIDSetNum(uint32(i)), []imap.FetchItem{{Attr: imap.FetchBodySection, Peek: true, Section: imap.Section{Specifier: imap.SpecHeaderFields, Fields: []string{"Subject"}}}}, nil).Collect()
				assert.NoError(t, err)
				if assert.Len(t, msgs, 1) {
					b, _ := msgs[0].Section(`BODY[HEADER.FIELDS ("SUBJECT")]`)
					if len(msgs[0].Sections) == 1 {
						b = msgs[0].Sections[0].Data
					}
					assert.Equal(t, fmt.Sprintf("Subject: message %d\r\n\r\n", i), string(b))
				}
			}()
		}
		wg.Wait()

	})

	t.Run("store", func(t *testing.T) {
		sd, err := c.Store(ctx, imap.SeqSetNum(6), StoreFlags{Op: imapwire.StoreAdd, Flags: []imap.Flag{imap.FlagSeen, "$Label"}}, nil)
		require.NoError(t, err)
		require.Len(t, sd.Fetch, 1)
		assert.Contains(t, sd.Fetch[0].Flags, imap.FlagSeen)
		old := sd.Fetch[0].ModSeq
		require.NotZero(t, old)
		sd, err = c.UIDStore(ctx, imap.UIDSetNum(6), StoreFlags{Op: imapwire.StoreRemove, Flags: []imap.Flag{"$Label"}, Silent: true}, nil)
		require.NoError(t, err)
		// Conditional on the old mod-sequence: refused, reported in
		// MODIFIED.
		sd, err = c.UIDStore(ctx, imap.UIDSetNum(6, 7), StoreFlags{Op: imapwire.StoreAdd, Flags: []imap.Flag{imap.FlagFlagged}}, &StoreOptions{UnchangedSince: &old})
		require.NoError(t, err)
		assert.Equal(t, "6", sd.Modified.String())
		msgs, err := c.UIDFetch(ctx, imap.UIDSetNum(1, 2, 3, 4, 5, 6, 7), []imap.FetchItem{{Attr: imap.FetchFlags}}, &FetchOptions{ChangedSince: old}).Collect()
		require.NoError(t, err)
		require.Len(t, msgs, 2) // 6 lost $Label, 7 got \Flagged
		assert.ElementsMatch(t, []uint32{6, 7}, []uint32{msgs[0].UID, msgs[1].UID})
	})

	t.Run("copy move expunge", func(t *testing.T) {
		cd, err := c.Copy(ctx, imap.SeqSetNum(1, 2), "Archive")
		require.NoError(t, err)
		assert.Equal(t, "1:2", cd.SrcUIDs.String())
		assert.Equal(t, "2:3", cd.DstUIDs.String())
		cd, err = c.UIDMove(ctx, imap.UIDSetNum(20), "Archive")
		require.NoError(t, err)
		assert.Equal(t, "4", cd.DstUIDs.String())
		cd, err = c.Move(ctx, imap.SeqSetNum(1), "Older")
		require.NoError(t, err)
		assert.Equal(t, "1", cd.DstUIDs.String())

		_, err = c.Store(ctx, imap.SeqSetNum(1, 2, 3), StoreFlags{Op: imapwire.StoreAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil)
		require.NoError(t, err)
		ed, err := c.UIDExpunge(ctx, imap.UIDSetNum(2))
		require.NoError(t, err)
		assert.Equal(t, []uint32{1}, ed.Seqs)
		ed, err = c.Expunge(ctx)
		require.NoError(t, err)
		assert.ElementsMatch(t, []uint32{1, 2}, ed.Seqs) // in either order
		mu.Lock()
		assert.Equal(t, append([]uint32{20, 1, 1}, ed.Seqs...), expunged)
		mu.Unlock()
		require.NoError(t, c.CloseMailbox(ctx))
	})

	t.Run("quota", func(t *testing.T) {
		qr, err := c.GetQuotaRoot(ctx, "INBOX")
		require.NoError(t, err)
		require.NotEmpty(t, qr.Roots)
		require.NotEmpty(t, qr.Quotas)
		q, err := c.GetQuota(ctx, qr.Roots[0])
		require.NoError(t, err)
		require.NotEmpty(t, q.Resources)
		assert.Equal(t, "STORAGE", q.Resources[0].Name)
		assert.EqualValues(t, 100<<10, q.Resources[0].Limit)
	})

	t.Run("qresync", func(t *testing.T) {
		_, err := c.Enable(ctx, imap.CapQResync)
		require.NoError(t, err)
		sd, err := c.Select(ctx, "Archive", nil)
		require.NoError(t, err)
		_, err = c.UIDStore(ctx, imap.UIDSetNum(1), StoreFlags{Op: imapwire.StoreAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil)
		require.NoError(t, err)
		ed, err := c.Expunge(ctx)
		require.NoError(t, err)
		assert.Equal(t, "1", ed.UIDs.String())
		require.NoError(t, c.Unselect(ctx))
		sd2, err := c.Select(ctx, "Archive", &SelectOptions{QResync: &imapwire.QResyncArgs{UIDValidity: sd.UIDValidity, ModSeq: sd.HighestModSeq, KnownUIDs: imap.UIDSet{{Start: 1, Stop: 10}}}})
		require.NoError(t, err)
		assert.Equal(t, "1", sd2.Vanished.String())
		fc := c.UIDFetch(ctx, imap.UIDSet{{Start: 1, Stop: imap.Star}}, []imap.FetchItem{{Attr: imap.FetchFlags}}, &FetchOptions{ChangedSince: sd.HighestModSeq, Vanished: true})
		_, err = fc.Collect()
		require.NoError(t, err)
		assert.Equal(t, "1", fc.Vanished().String())
	})

	require.NoError(t, c.Logout(ctx))
}

// TestDovecotIdle waits in IDLE for a message appended by another
// connection.
func TestDovecotIdle(t *testing.T) {
	t.Parallel()
	d := startDovecot(t, 2, 0)
	ctx := ctxT(t)
	exists := make(chan uint32, 8)
	o := &Options{TLSConfig: d.TLS.Client, Handler: &Handler{Exists: func(n uint32) { exists <- n }}}
	c, err := DialTLS(ctx, peer.Addr(d.IMAPSPort), o)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Login(ctx, "user", "pass"))
	_, err = c.Select(ctx, "INBOX", nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2, <-exists)

	idle, err := c.Idle(ctx)
	require.NoError(t, err)

	other, err := DialTLS(ctx, peer.Addr(d.IMAPSPort), &Options{TLSConfig: d.TLS.Client})
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.Login(ctx, "user", "pass"))
	msg := testMessage(3)
	_, err = other.Append(ctx, "INBOX", int64(len(msg)), strings.NewReader(msg), nil)
	require.NoError(t, err)

	assert.EqualValues(t, 3, <-exists)
	require.NoError(t, idle.Close())
	// Commands go on after IDLE.
	require.NoError(t, c.Noop(ctx))

	// IDLE ended by its context.
	ictx, cancel := context.WithCancel(ctx)
	idle, err = c.Idle(ictx)
	require.NoError(t, err)
	cancel()
	require.NoError(t, idle.Wait())
	require.NoError(t, c.Logout(ctx))
}

// tlog writes a logger's records to the test log.
type tlog struct{ t testing.TB }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
