// Package imapmem is an in-memory Backend for package imapserver: users
// with passwords (checked through an auth.MemoryStore and an
// auth.ServerConfig), mailboxes with UIDVALIDITY and UIDNEXT, and messages
// with flags and internal dates. Sessions on one mailbox see each other's
// changes, and IDLE is told of them as they happen. It is meant for tests,
// examples and prototypes: nothing survives the process.
package imapmem

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapserver"
)

// Delim is the hierarchy delimiter of the mailbox names.
const Delim = '/'

// Backend holds the users and their mailboxes. The zero value is not
// usable; call New.
type Backend struct {
	// Auth chooses the SASL mechanisms; its Credentials is the Backend's
	// store. New sets it with PLAIN, LOGIN and CRAM-MD5 allowed over
	// cleartext (the Server's AllowInsecureAuth still governs that).
	Auth *auth.ServerConfig

	store *auth.MemoryStore
	mu    sync.Mutex
	users map[string]*user
	next  uint32 // the next UIDVALIDITY
}

type user struct {
	boxes map[string]*mailbox
	subs  map[string]bool
}

type mailbox struct {
	name        string
	uidValidity uint32
	uidNext     uint32
	recentFrom  uint32 // UIDs from here on are not yet claimed as \Recent
	msgs        []*msg
	watchers    map[*handle]struct{}
}

type msg struct {
	uid   uint32
	flags []imap.Flag
	date  time.Time
	data  []byte
}

// New returns an empty Backend.
func New() *Backend {
	b := &Backend{store: auth.NewMemoryStore(), users: map[string]*user{}, next: uint32(time.Now().Unix())}
	b.Auth = &auth.ServerConfig{Credentials: b.store, AllowCleartext: true, Allowed: []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "SCRAM-SHA-1"}}
	return b
}

// AddUser creates a user with a password and an empty INBOX.
func (b *Backend) AddUser(name, password string) error {
	if err := b.store.SetPassword(name, password); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.users[name] == nil {
		u := &user{boxes: map[string]*mailbox{}, subs: map[string]bool{}}
		u.boxes[imap.Inbox] = b.newMailbox(imap.Inbox)
		b.users[name] = u
	}
	return nil
}

// Deliver appends a message to a user's mailbox, as an MDA would, and
// returns its UID.
func (b *Backend) Deliver(username, mailbox string, data []byte, flags ...imap.Flag) (uint32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[username]
	if u == nil {
		return 0, imapserver.ErrNoSuchMailbox
	}
	mb := u.boxes[mailbox]
	if mb == nil {
		return 0, imapserver.ErrTryCreate
	}
	return mb.add(data, flags, time.Now()), nil
}

func (b *Backend) newMailbox(name string) *mailbox {
	b.next++
	return &mailbox{name: name, uidValidity: b.next, uidNext: 1, recentFrom: 1, watchers: map[*handle]struct{}{}}
}

// add stores a message; under b.mu.
func (mb *mailbox) add(data []byte, flags []imap.Flag, date time.Time) uint32 {
	m := &msg{uid: mb.uidNext, flags: slices.Clone(flags), date: date, data: data}
	mb.uidNext++
	mb.msgs = append(mb.msgs, m)
	mb.notify()
	return m.uid
}

func (mb *mailbox) notify() {
	for h := range mb.watchers {
		select {
		case h.changes <- struct{}{}:
		default:
		}
	}
}

// NewSession implements imapserver.Backend.
func (b *Backend) NewSession(c *imapserver.Conn) (imapserver.Session, error) {
	return &session{b: b, conn: c}, nil
}

type session struct {
	b    *Backend
	conn *imapserver.Conn
}

func (s *session) tls() *tls.ConnectionState { return s.conn.TLS() }

func (s *session) SASLMechanisms() []string { return s.b.Auth.Mechanisms(s.tls()) }

func (s *session) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	return s.b.Auth.NewServer(mech, s.tls())
}

func (s *session) Close() error { return nil }

// user returns the logged-in user's data; under b.mu.
func (s *session) user() (*user, error) {
	u := s.b.users[s.conn.Identity()]
	if u == nil {
		return nil, imapserver.ErrNoPerm
	}
	return u, nil
}

func (s *session) box(name string) (*user, *mailbox, error) {
	u, err := s.user()
	if err != nil {
		return nil, nil, err
	}
	mb := u.boxes[name]
	if mb == nil {
		return u, nil, imapserver.ErrNoSuchMailbox
	}
	return u, mb, nil
}

func (s *session) Mailboxes(context.Context) ([]imapserver.MailboxInfo, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	u, err := s.user()
	if err != nil {
		return nil, err
	}
	out := make([]imapserver.MailboxInfo, 0, len(u.boxes))
	for name := range u.boxes {
		out = append(out, imapserver.MailboxInfo{Name: name, Delim: Delim, Subscribed: u.subs[name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *session) Create(_ context.Context, name string) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	u, err := s.user()
	if err != nil {
		return err
	}
	if u.boxes[name] != nil {
		return imapserver.ErrAlreadyExists
	}
	// RFC 3501 §6.3.3: create the superiors too.
	levels := imap.SplitMailbox(name, Delim)
	for i := 1; i <= len(levels); i++ {
		n := imap.JoinMailbox(levels[:i], Delim)
		if n != "" && u.boxes[n] == nil {
			u.boxes[n] = s.b.newMailbox(n)
		}
	}
	return nil
}

func (s *session) Delete(_ context.Context, name string) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	u, _, err := s.box(name)
	if err != nil {
		return err
	}
	delete(u.boxes, name)
	return nil
}

func (s *session) Rename(_ context.Context, from, to string) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	u, mb, err := s.box(from)
	if err != nil {
		return err
	}
	if u.boxes[to] != nil {
		return imapserver.ErrAlreadyExists
	}
	if from == imap.Inbox {
		// RFC 3501 §6.3.5: the messages move; INBOX stays, empty.
		nb := s.b.newMailbox(to)
		for _, m := range mb.msgs {
			nb.add(m.data, m.flags, m.date)
		}
		mb.msgs = nil
		mb.notify()
		u.boxes[to] = nb
		return nil
	}
	prefix := from + string(Delim)
	for name, b := range u.boxes {
		if name == from || strings.HasPrefix(name, prefix) {
			nn := to + strings.TrimPrefix(name, from)
			delete(u.boxes, name)
			b.name = nn
			u.boxes[nn] = b
		}
	}
	return nil
}

func (s *session) Subscribe(_ context.Context, name string, sub bool) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	u, err := s.user()
	if err != nil {
		return err
	}
	if sub {
		if u.boxes[name] == nil {
			return imapserver.ErrNoSuchMailbox
		}
		u.subs[name] = true
	} else {
		delete(u.subs, name)
	}
	return nil
}

func (s *session) Status(_ context.Context, name string) (*imapserver.MailboxStatus, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	_, mb, err := s.box(name)
	if err != nil {
		return nil, err
	}
	st := &imapserver.MailboxStatus{Messages: uint32(len(mb.msgs)), UIDNext: mb.uidNext, UIDValidity: mb.uidValidity}
	for _, m := range mb.msgs {
		if !imap.HasFlag(m.flags, imap.FlagSeen) {
			st.Unseen++
		}
		if m.uid >= mb.recentFrom {
			st.Recent++
		}
	}
	return st, nil
}

func (s *session) Append(_ context.Context, name string, flags []imap.Flag, date time.Time, size int64, r io.Reader) (uint32, uint32, error) {
	data := make([]byte, 0, size)
	buf := bytes.NewBuffer(data)
	if _, err := io.Copy(buf, r); err != nil {
		return 0, 0, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	u, err := s.user()
	if err != nil {
		return 0, 0, err
	}
	mb := u.boxes[name]
	if mb == nil {
		return 0, 0, imapserver.ErrTryCreate
	}
	return mb.add(buf.Bytes(), flags, date), mb.uidValidity, nil
}

func (s *session) Open(_ context.Context, name string, readOnly bool) (imapserver.Mailbox, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	u, mb, err := s.box(name)
	if err != nil {
		return nil, err
	}
	h := &handle{s: s, u: u, mb: mb, readOnly: readOnly, recent: map[uint32]bool{}, changes: make(chan struct{}, 1)}
	mb.watchers[h] = struct{}{}
	return h, nil
}

// handle is a mailbox opened by one session.
type handle struct {
	s        *session
	u        *user
	mb       *mailbox
	readOnly bool
	recent   map[uint32]bool
	changes  chan struct{}
}

func (h *handle) Changes() <-chan struct{} { return h.changes }

func (h *handle) Poll(context.Context) (*imapserver.Snapshot, error) {
	b := h.s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	mb := h.mb
	if !h.readOnly {
		// RFC 3501 §2.3.2: \Recent goes to the first session to see it.
		for _, m := range mb.msgs {
			if m.uid >= mb.recentFrom {
				h.recent[m.uid] = true
			}
		}
		mb.recentFrom = mb.uidNext
	}
	snap := &imapserver.Snapshot{UIDValidity: mb.uidValidity, UIDNext: mb.uidNext, Messages: make([]imapserver.MessageInfo, len(mb.msgs))}
	for i, m := range mb.msgs {
		snap.Messages[i] = imapserver.MessageInfo{UID: m.uid, Flags: slices.Clone(m.flags), Size: int64(len(m.data)),
			InternalDate: m.date, Recent: h.recent[m.uid]}
	}
	return snap, nil
}

// find returns the message with uid; under b.mu.
func (mb *mailbox) find(uid uint32) *msg {
	i, ok := slices.BinarySearchFunc(mb.msgs, uid, func(m *msg, u uint32) int { return int(int64(m.uid) - int64(u)) })
	if !ok {
		return nil
	}
	return mb.msgs[i]
}

func (h *handle) Open(_ context.Context, uid uint32) (io.ReadCloser, error) {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	m := h.mb.find(uid)
	if m == nil {
		return nil, imapserver.ErrExpunged
	}
	return io.NopCloser(bytes.NewReader(m.data)), nil
}

func (h *handle) Store(_ context.Context, uids []uint32, op byte, flags []imap.Flag) error {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	for _, uid := range uids {
		m := h.mb.find(uid)
		if m == nil {
			continue
		}
		switch op {
		case '=':
			m.flags = slices.Clone(flags)
		case '+':
			for _, f := range flags {
				if !imap.HasFlag(m.flags, f) {
					m.flags = append(m.flags, f)
				}
			}
		case '-':
			m.flags = slices.DeleteFunc(slices.Clone(m.flags), func(g imap.Flag) bool { return imap.HasFlag(flags, g) })
		}
	}
	h.mb.notify()
	return nil
}

func (h *handle) Expunge(_ context.Context, uids []uint32) error {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	h.mb.msgs = slices.DeleteFunc(h.mb.msgs, func(m *msg) bool { return slices.Contains(uids, m.uid) })
	h.mb.notify()
	return nil
}

func (h *handle) Copy(_ context.Context, uids []uint32, dest string) (uint32, []uint32, error) {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	db := h.u.boxes[dest]
	if db == nil {
		return 0, nil, imapserver.ErrTryCreate
	}
	var out []uint32
	for _, uid := range uids {
		if m := h.mb.find(uid); m != nil {
			out = append(out, db.add(m.data, m.flags, m.date))
		}
	}
	return db.uidValidity, out, nil
}

func (h *handle) Close() error {
	h.s.b.mu.Lock()
	defer h.s.b.mu.Unlock()
	delete(h.mb.watchers, h)
	return nil
}
