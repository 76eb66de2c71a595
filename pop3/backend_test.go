package pop3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/mailwire/mailwire/auth"
)

// memBackend is an in-memory Backend for tests, with APOP and SASL.
type memBackend struct {
	mu      sync.Mutex
	secrets map[string]string
	drops   map[string]*memStore
	locked  map[string]bool
	sasl    auth.ServerConfig
	creds   *auth.MemoryStore
	// failDelete makes Delete fail, failOpen makes Open fail.
	failDelete bool
	failOpen   bool
	// lastConn is the Conn of the last session opened.
	lastConn *Conn
	// saslMechs records the mechanism of each AUTH exchange started.
	saslMechs []string
}

type memStore struct {
	msgs [][]byte
	uids []string
}

func newMemBackend() *memBackend {
	creds := auth.NewMemoryStore()
	return &memBackend{
		secrets: map[string]string{},
		drops:   map[string]*memStore{},
		locked:  map[string]bool{},
		creds:   creds,
		sasl: auth.ServerConfig{Credentials: creds, AllowCleartext: true,
			Allowed: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN"}},
	}
}

func (b *memBackend) addUser(name, password string, msgs ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.secrets[name] = password
	if err := b.creds.SetPassword(name, password); err != nil {
		panic(err)
	}
	st := &memStore{}
	for i, m := range msgs {
		st.msgs = append(st.msgs, []byte(m))
		st.uids = append(st.uids, fmt.Sprintf("uid-%s-%d", name, i+1))
	}
	b.drops[name] = st
}

func (b *memBackend) count(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.drops[name].msgs)
}

// mechs returns the mechanisms of the AUTH exchanges started so far.
func (b *memBackend) mechs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.saslMechs...)
}

func (b *memBackend) isLocked(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.locked[name]
}

func (b *memBackend) NewSession(c *Conn) (Session, error) {
	b.mu.Lock()
	b.lastConn = c
	b.mu.Unlock()
	return &memSession{b: b, c: c}, nil
}

// memSession is a memBackend's session, with APOP and SASL.
type memSession struct {
	b *memBackend
	c *Conn
}

func (s *memSession) SASLMechanisms() []string { return s.b.sasl.Mechanisms(s.c.TLS()) }

func (s *memSession) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	s.b.mu.Lock()
	s.b.saslMechs = append(s.b.saslMechs, mech)
	s.b.mu.Unlock()
	return s.b.sasl.NewServer(mech, s.c.TLS())
}

func (s *memSession) OpenMaildrop(ctx context.Context, user string) (Maildrop, error) {
	return s.b.OpenMaildrop(ctx, user)
}

func (s *memSession) APOPSecret(ctx context.Context, user string) (string, error) {
	return s.b.APOPSecret(ctx, user)
}

func (s *memSession) Close() error { return nil }

// passwordBackend is a Backend whose sessions check USER/PASS and AUTH PLAIN
// with check and open maildrops with open.
func passwordBackend(check func(ctx context.Context, user, pass string) error, open func(ctx context.Context, user string) (Maildrop, error)) Backend {
	return BackendFunc(func(c *Conn) (Session, error) {
		return &passwordSession{check: check, open: open}, nil
	})
}

type passwordSession struct {
	check func(ctx context.Context, user, pass string) error
	open  func(ctx context.Context, user string) (Maildrop, error)
}

func (s *passwordSession) SASLMechanisms() []string { return []string{"PLAIN"} }

func (s *passwordSession) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	return auth.NewPlainServer(auth.PasswordFunc(s.check)), nil
}

func (s *passwordSession) OpenMaildrop(ctx context.Context, user string) (Maildrop, error) {
	return s.open(ctx, user)
}

func (s *passwordSession) Close() error { return nil }

func (b *memBackend) APOPSecret(ctx context.Context, user string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.secrets[user]
	if !ok {
		return "", auth.ErrAuthFailed
	}
	return s, nil
}

func (b *memBackend) OpenMaildrop(ctx context.Context, user string) (Maildrop, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.drops[user]
	if !ok {
		return nil, errors.New("no such maildrop")
	}
	if b.locked[user] {
		return nil, ErrInUse
	}
	b.locked[user] = true
	return &memDrop{b: b, user: user, st: st, msgs: append([][]byte(nil), st.msgs...), uids: append([]string(nil), st.uids...)}, nil
}

type memDrop struct {
	b      *memBackend
	user   string
	st     *memStore
	msgs   [][]byte
	uids   []string
	closed bool
}

func (d *memDrop) Messages(ctx context.Context) ([]Message, error) {
	out := make([]Message, len(d.msgs))
	for i, m := range d.msgs {
		size, err := WireSize(bytes.NewReader(m))
		if err != nil {
			return nil, err
		}
		out[i] = Message{Size: size, UID: d.uids[i]}
	}
	return out, nil
}

func (d *memDrop) Open(ctx context.Context, i int) (io.ReadCloser, error) {
	if d.b.failOpen {
		return nil, errors.New("disk on fire")
	}
	return io.NopCloser(bytes.NewReader(d.msgs[i])), nil
}

func (d *memDrop) Delete(ctx context.Context, idx []int) error {
	if d.b.failDelete {
		return errors.New("read-only file system")
	}
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	gone := map[string]bool{}
	for _, i := range idx {
		gone[d.uids[i]] = true
	}
	var msgs [][]byte
	var uids []string
	for i, u := range d.st.uids {
		if !gone[u] {
			msgs = append(msgs, d.st.msgs[i])
			uids = append(uids, u)
		}
	}
	d.st.msgs, d.st.uids = msgs, uids
	return nil
}

func (d *memDrop) Close() error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	if d.closed {
		panic("maildrop closed twice")
	}
	d.closed = true
	delete(d.b.locked, d.user)
	return nil
}
