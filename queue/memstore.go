package queue

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"
)

// MemStore is a Store in memory, for tests and for queues that may lose
// their messages. The zero value is ready to use.
type MemStore struct {
	mu      sync.Mutex
	entries map[ID]*memEntry
}

type memEntry struct {
	env  *Envelope
	body []byte
}

var _ Store = (*MemStore)(nil)

// Put implements Store. The body is held in memory.
func (s *MemStore) Put(ctx context.Context, env *Envelope, body io.Reader) (ID, error) {
	e := env.Clone()
	if e.ID == "" {
		e.ID = NewID(time.Now())
	} else if !ValidID(e.ID) {
		return "", ErrInvalidID
	}
	if e.Arrival.IsZero() {
		e.Arrival = time.Now()
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", err
	}
	e.Size = int64(len(b))
	e.LeaseUntil = time.Time{}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = make(map[ID]*memEntry)
	}
	if _, dup := s.entries[e.ID]; dup {
		return "", ErrInvalidID
	}
	s.entries[e.ID] = &memEntry{env: e, body: b}
	return e.ID, nil
}

// Lease implements Store.
func (s *MemStore) Lease(ctx context.Context, now time.Time, limit int, until time.Time) ([]*Envelope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*Envelope, 0, len(s.entries))
	for _, m := range s.entries {
		all = append(all, m.env)
	}
	picked := pickDue(all, now, limit)
	out := make([]*Envelope, len(picked))
	for i, e := range picked {
		e.LeaseUntil = until
		out[i] = e.Clone()
	}
	return out, nil
}

// Update implements Store.
func (s *MemStore) Update(ctx context.Context, env *Envelope) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.entries[env.ID]
	if !ok {
		return ErrNotFound
	}
	applyState(m.env, env)
	return nil
}

// Release implements Store.
func (s *MemStore) Release(ctx context.Context, id ID, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.entries[id]
	if !ok {
		return ErrNotFound
	}
	m.env.Next, m.env.LeaseUntil = next, time.Time{}
	return nil
}

// Remove implements Store.
func (s *MemStore) Remove(ctx context.Context, id ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[id]; !ok {
		return ErrNotFound
	}
	delete(s.entries, id)
	return nil
}

// List implements Store.
func (s *MemStore) List(ctx context.Context) ([]*Envelope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Envelope, 0, len(s.entries))
	for _, m := range s.entries {
		out = append(out, m.env.Clone())
	}
	sortByArrival(out)
	return out, nil
}

// Get implements Store.
func (s *MemStore) Get(ctx context.Context, id ID) (*Envelope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.entries[id]
	if !ok {
		return nil, ErrNotFound
	}
	return m.env.Clone(), nil
}

// Open implements Store.
func (s *MemStore) Open(ctx context.Context, id ID) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.entries[id]
	if !ok {
		return nil, ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(m.body)), nil
}
