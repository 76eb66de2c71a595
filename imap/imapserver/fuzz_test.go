package imapserver

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"context"
	"errors"
	"slices"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// fuzzSession is a tiny in-package backend (imapmem imports this
// package): one user, u/p, and an INBOX holding one multipart message.
type fuzzSession struct {
	c    *Conn
	msgs []MessageInfo
	data map[uint32]string
}

const fuzzMsg = "From: a@b\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n\r\none\r\n--X--\r\n"

func newFuzzSession(c *Conn) (Session, error) {
	return &fuzzSession{c: c, msgs: []MessageInfo{{UID: 1, Size: int64(len(fuzzMsg))}}, data: map[uint32]string{1: fuzzMsg}}, nil
}

func (s *fuzzSession) SASLMechanisms() []string { return []string{"PLAIN"} }
func (s *fuzzSession) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	st := auth.NewMemoryStore()
	st.SetPassword("u", "p")
	return (&auth.ServerConfig{Credentials: st, AllowCleartext: true}).NewServer(mech, nil)
}
func (s *fuzzSession) Mailboxes(context.Context) ([]MailboxInfo, error) {
	return []MailboxInfo{{Name: "INBOX", Delim: '/'}}, nil
}
func (s *fuzzSession) Create(context.Context, string) error         { return nil }
func (s *fuzzSession) Delete(context.Context, string) error         { return ErrNoSuchMailbox }
func (s *fuzzSession) Rename(context.Context, string, string) error { return nil }
func (s *fuzzSession) Subscribe(context.Context, string, bool) error {
	return errors.New("backend down")
}
func (s *fuzzSession) Status(context.Context, string) (*MailboxStatus, error) {
	return &MailboxStatus{Messages: uint32(len(s.msgs)), UIDNext: 100, UIDValidity: 1}, nil
}
func (s *fuzzSession) Append(_ context.Context, name string, flags []imap.Flag, date time.Time, size int64, r io.Reader) (uint32, uint32, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, 0, err
	}
	uid := s.msgs[len(s.msgs)-1].UID + 1
	if len(s.msgs) == 0 {
		uid = 1
	}
	s.msgs = append(s.msgs, MessageInfo{UID: uid, Flags: flags, Size: int64(len(b)), InternalDate: date})
	s.data[uid] = string(b)
	return uid, 1, nil
}
func (s *fuzzSession) Open(context.Context, string, bool) (Mailbox, error) { return fuzzBox{s}, nil }
func (b fuzzBox) Poll(context.Context) (*Snapshot, error) {
	return &Snapshot{UIDValidity: 1, UIDNext: 100, Messages: slices.Clone(b.s.msgs)}, nil
}
func (b fuzzBox) Open(_ context.Context, uid uint32) (io.ReadCloser, error) {
	d, ok := b.s.data[uid]
	if !ok {
		return nil, ErrExpunged
	}
	return io.NopCloser(strings.NewReader(d)), nil
}
func (b fuzzBox) Close() error { return nil }
func (b fuzzBox) Store(_ context.Context, uids []uint32, op byte, flags []imap.Flag) error {
	for i := range b.s.msgs {
		if slices.Contains(uids, b.s.msgs[i].UID) {
			b.s.msgs[i].Flags = flags
		}
	}
	return nil
}
func (b fuzzBox) Expunge(_ context.Context, uids []uint32) error {
	b.s.msgs = slices.DeleteFunc(b.s.msgs, func(m MessageInfo) bool { return slices.Contains(uids, m.UID) })
	return nil
}
func (b fuzzBox) Copy(_ context.Context, uids []uint32, dest string) (uint32, []uint32, error) {
	return 0, nil, ErrTryCreate
}
func (s *fuzzSession) Close() error { return nil }

// fuzzBox is the session's INBOX.
type fuzzBox struct{ s *fuzzSession }

// FuzzServer feeds arbitrary client input to a server connection: no
// panic, no hang, and every response line is a well-formed IMAP response.
func FuzzServer(f *testing.F) {
	for _, s := range []string{
		"a LOGIN u p\r\nb SELECT INBOX\r\nc FETCH 1:* (FLAGS BODY[] BODYSTRUCTURE ENVELOPE)\r\nd LOGOUT\r\n",
		"a AUTHENTICATE PLAIN AHUAcA==\r\nb LIST \"\" *\r\nc STATUS INBOX (MESSAGES UNSEEN)\r\n",
		"a LOGIN u p\r\nb APPEND INBOX {5+}\r\nhello\r\nc SELECT INBOX\r\nd SEARCH TEXT x OR SEEN NOT UID 1:*\r\n",
		"a LOGIN u p\r\nb SELECT INBOX\r\nc STORE 1 +FLAGS (\\Deleted)\r\nd EXPUNGE\r\ne UID MOVE 1 INBOX\r\nf IDLE\r\nDONE\r\n",
		"a LOGIN {1}\r\nu {1}\r\np\r\nb CREATE x/y\r\nc RENAME x z\r\nd FETCH 1 BODY[1.MIME]\r\n",
		"\r\n\x00\xff a\r\n* BAD\r\na UID FROB\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		srv := &Server{Hostname: "fuzz.test", Backend: BackendFunc(newFuzzSession), AllowInsecureAuth: true,
			Limits: Limits{LoginTimeout: 2 * time.Second, IdleTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
				MaxMessageBytes: 1000, MaxErrors: 100}}
		cli, sc := net.Pipe()
		c := srv.newConn(sc)
		if err := srv.conns.Add(tracked{c}, 0); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); c.serve() }()
		bad := make(chan string, 1)
		go func() {
			d := imapwire.NewDecoder(bufio.NewReader(cli), imapwire.Limits{})
			for {
				r, err := imapwire.ReadResponse(d, nil)
				if err != nil {
					if _, ok := err.(*imapwire.ParseError); ok {
						bad <- err.Error()
					}
					io.Copy(io.Discard, cli)
					close(bad)
					return
				}
				_ = r
			}
		}()
		cli.SetDeadline(time.Now().Add(5 * time.Second))
		cli.Write(in)
		cli.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("server connection did not end")
		}
		if msg, ok := <-bad; ok {
			t.Fatalf("malformed response: %s", msg)
		}
	})
}
