package auth

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
)

// The credential interfaces below are what an application implements to let
// server mechanisms check a client. A credential value passed to NewServer or
// ServerConfig implements any subset of them; each mechanism is available
// exactly when the value implements the interface it needs:
//
//	PLAIN, LOGIN               PasswordChecker
//	SCRAM-SHA-1, SCRAM-SHA-256 SCRAMStore (and -PLUS over TLS)
//	CRAM-MD5                   CRAMMD5Store
//	OAUTHBEARER, XOAUTH2       TokenVerifier
//	EXTERNAL                   ExternalAuthorizer (and a TLS client certificate)
//	ANONYMOUS                  AnonymousPolicy
//
// An application that stores only password hashes (see HashPassword) serves
// PLAIN, LOGIN and SCRAM-SHA-256 from one record; CRAM-MD5 needs the
// plaintext or the key from NewCRAMMD5Key, so it is simply not offered
// when the store cannot supply either.
//
// Lookups return an error wrapping ErrNoCredentials for an unknown user, and
// checks return one wrapping ErrAuthFailed for a wrong secret. Any other
// error (a database being down) is passed through unchanged by the server
// mechanisms, so that protocol servers can answer with a temporary failure.

// PasswordChecker verifies a plaintext password, for PLAIN and LOGIN.
type PasswordChecker interface {
	// CheckPassword returns nil when password is right for username.
	CheckPassword(ctx context.Context, username, password string) error
}

// SCRAMKeys is what a SCRAM server stores for a user (RFC 5802 §3): the salt
// and iteration count given to the client, and keys derived from the salted
// password. They do not reveal the password, and do not let someone who
// steals them log in to another server using a different salt.
type SCRAMKeys struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte // H(HMAC(SaltedPassword, "Client Key"))
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key")
}

// SCRAMStore looks up stored SCRAM keys, for SCRAM-SHA-1, SCRAM-SHA-256
// and their -PLUS variants.
type SCRAMStore interface {
	// SCRAMKeys returns username's keys for hash, which is "SHA-1" or
	// "SHA-256" (the mechanism name without "SCRAM-" and "-PLUS").
	SCRAMKeys(ctx context.Context, hash, username string) (SCRAMKeys, error)
}

// CRAMMD5Store looks up the key a CRAM-MD5 server needs (RFC 2195).
type CRAMMD5Store interface {
	CRAMMD5Key(ctx context.Context, username string) (CRAMMD5Key, error)
}

// TokenVerifier checks an OAuth 2.0 bearer token, for OAUTHBEARER and
// XOAUTH2 (RFC 7628).
type TokenVerifier interface {
	// VerifyToken checks token and returns the identity it authenticates.
	// user is the authorization identity the client named, possibly empty
	// (OAUTHBEARER lets the token alone identify the user). To report the
	// RFC 7628 §3.2.2 error details to the client, return an *OAuthError
	// (it is treated as wrapping ErrAuthFailed).
	VerifyToken(ctx context.Context, user, token string) (identity string, err error)
}

// Authorizer decides whether authcid may act as a different authzid (PLAIN's
// and SCRAM's authorization identity). Without it, a request for an
// authorization identity other than the authentication identity fails.
type Authorizer interface {
	Authorize(ctx context.Context, authcid, authzid string) error
}

// ExternalAuthorizer maps an identity established outside SASL, usually a
// TLS client certificate, to a user, for EXTERNAL (RFC 4422 Appendix A).
type ExternalAuthorizer interface {
	// AuthorizeExternal returns the identity for the connection cs when the
	// client asks for authzid (empty: whatever the certificate means).
	AuthorizeExternal(ctx context.Context, cs *tls.ConnectionState, authzid string) (identity string, err error)
}

// CredentialHolder is implemented by a store that can tell whether it
// holds credentials for a mechanism for anyone at all. ServerConfig leaves
// out of Mechanisms those it reports false for, so that a server does not
// advertise a mechanism every login would fail. mech is a name from
// ServerConfig's list without "-PLUS".
type CredentialHolder interface {
	HasCredentials(mech string) bool
}

// AnonymousPolicy allows ANONYMOUS logins (RFC 4505). trace is the client's
// optional trace information (an email address or an opaque string).
type AnonymousPolicy interface {
	AllowAnonymous(ctx context.Context, trace string) (identity string, err error)
}

// credErr turns a credential error into what a mechanism returns.
func credErr(mech string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrAuthFailed):
		return err
	case errors.Is(err, ErrNoCredentials):
		return fmt.Errorf("%w: %s: %w", ErrAuthFailed, mech, err)
	}
	var oe *OAuthError
	if errors.As(err, &oe) {
		return fmt.Errorf("%w: %s: %w", ErrAuthFailed, mech, err)
	}
	return err
}

// authorize decides the identity of a client that authenticated as authcid
// and asked to act as authzid.
func authorize(ctx context.Context, mech string, creds any, authcid, authzid string) (string, error) {
	if authzid == "" || authzid == authcid {
		return authcid, nil
	}
	a, ok := creds.(Authorizer)
	if !ok {
		return "", failed(mech, "%q may not act as %q", authcid, authzid)
	}
	if err := a.Authorize(ctx, authcid, authzid); err != nil {
		if errors.Is(err, ErrAuthFailed) {
			return "", err
		}
		return "", fmt.Errorf("%w: %s: %q may not act as %q: %w", ErrAuthFailed, mech, authcid, authzid, err)
	}
	return authzid, nil
}

// MemoryStore is an in-memory credential store implementing PasswordChecker,
// SCRAMStore, CRAMMD5Store and TokenVerifier, for tests, examples and small
// servers that load a users file at start. As a CredentialHolder it offers
// only the mechanisms some user has credentials for: a store filled from
// password hashes alone offers neither CRAM-MD5 nor SCRAM-SHA-1. It never keeps plaintext
// passwords. It is safe for concurrent use. The zero value is empty and
// ready to use.
type MemoryStore struct {
	mu     sync.RWMutex
	users  map[string]*memUser
	tokens map[string]string // token -> user
	held   heldCounts
}

// heldCounts counts the users holding each kind of credential.
type heldCounts struct{ password, scram256, sha1, cram int }

// tally adds d to the counts of what u holds; mutations call it with -1
// before changing u and +1 after.
func (s *MemoryStore) tally(u *memUser, d int) {
	if u.hash != nil {
		s.held.password += d
		if _, ok := u.hash.SCRAMKeys(); ok {
			s.held.scram256 += d
		}
	}
	if u.sha1 != nil {
		s.held.sha1 += d
	}
	if u.cram != nil {
		s.held.cram += d
	}
}

// HasCredentials implements CredentialHolder.
func (s *MemoryStore) HasCredentials(mech string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch mech {
	case "PLAIN", "LOGIN":
		return s.held.password > 0
	case "SCRAM-SHA-256":
		return s.held.scram256 > 0
	case "SCRAM-SHA-1":
		return s.held.sha1 > 0
	case "CRAM-MD5":
		return s.held.cram > 0
	case "OAUTHBEARER", "XOAUTH2":
		return len(s.tokens) > 0
	}
	return false
}

type memUser struct {
	hash   *PasswordHash // SCRAM-SHA-256 form: serves PLAIN, LOGIN, SCRAM-SHA-256
	sha1   *SCRAMKeys
	cram   *CRAMMD5Key
	tokens []string
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

func (s *MemoryStore) user(name string) *memUser {
	if s.users == nil {
		s.users = make(map[string]*memUser)
	}
	u := s.users[name]
	if u == nil {
		u = &memUser{}
		s.users[name] = u
	}
	return u
}

// SetPassword sets username's password, deriving keys for every password
// mechanism (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256) with
// DefaultIterations.
func (s *MemoryStore) SetPassword(username, password string) error {
	h, err := NewPasswordHash(password, DefaultIterations)
	if err != nil {
		return err
	}
	k1, err := NewSCRAMKeys("SHA-1", password, nil, DefaultIterations)
	if err != nil {
		return err
	}
	cram := NewCRAMMD5Key(password)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(username)
	s.tally(u, -1)
	u.hash, u.sha1, u.cram = h, &k1, &cram
	s.tally(u, +1)
	return nil
}

// SetPasswordHash sets username's password from an encoded hash (see
// PasswordHash). The user can then log in with PLAIN, LOGIN and, when the
// hash has SCRAM-SHA-256 keys, SCRAM-SHA-256; not with CRAM-MD5 or
// SCRAM-SHA-1: keys for those set before are removed, as they belong to
// the old password.
func (s *MemoryStore) SetPasswordHash(username, encoded string) error {
	return s.setHash(username, encoded, true)
}

func (s *MemoryStore) setHash(username, encoded string, clear bool) error {
	h, err := ParsePasswordHash(encoded)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(username)
	s.tally(u, -1)
	u.hash = h
	if clear {
		u.sha1, u.cram = nil, nil
	}
	s.tally(u, +1)
	return nil
}

// SetSCRAMKeys sets username's keys for SCRAM-hash ("SHA-1" or
// "SHA-256"), for stores loaded from keys made elsewhere. SHA-256 keys
// replace any password hash (they serve PLAIN and LOGIN too).
func (s *MemoryStore) SetSCRAMKeys(hash, username string, k SCRAMKeys) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(username)
	s.tally(u, -1)
	defer s.tally(u, +1)
	switch hash {
	case "SHA-1":
		u.sha1 = &k
	case "SHA-256":
		u.hash = &PasswordHash{Algorithm: "scram-sha-256", Iterations: k.Iterations, Salt: k.Salt, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
	}
}

// SetCRAMMD5Key sets username's CRAM-MD5 key.
func (s *MemoryStore) SetCRAMMD5Key(username string, k CRAMMD5Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(username)
	s.tally(u, -1)
	u.cram = &k
	s.tally(u, +1)
}

// AddToken makes token a valid bearer token for username (OAUTHBEARER,
// XOAUTH2).
func (s *MemoryStore) AddToken(username, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = make(map[string]string)
	}
	s.tokens[token] = username
	u := s.user(username)
	u.tokens = append(u.tokens, token)
}

// Delete removes username and its tokens.
func (s *MemoryStore) Delete(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[username]; u != nil {
		s.tally(u, -1)
		for _, t := range u.tokens {
			delete(s.tokens, t)
		}
	}
	delete(s.users, username)
}

func (s *MemoryStore) get(username string) *memUser {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.users[username]
}

var (
	dummyHashOnce sync.Once
	dummyHash     *PasswordHash
)

// CheckPassword implements PasswordChecker. For an unknown user it does the
// same work as for a known one, so that timing does not tell them apart.
func (s *MemoryStore) CheckPassword(ctx context.Context, username, password string) error {
	u := s.get(username)
	if u == nil || u.hash == nil {
		dummyHashOnce.Do(func() { dummyHash, _ = NewPasswordHash("", DefaultIterations) })
		if dummyHash != nil {
			dummyHash.Verify(password)
		}
		return fmt.Errorf("%w: %q", ErrNoCredentials, username)
	}
	return u.hash.Verify(password)
}

// SCRAMKeys implements SCRAMStore.
func (s *MemoryStore) SCRAMKeys(ctx context.Context, hash, username string) (SCRAMKeys, error) {
	u := s.get(username)
	if u != nil {
		switch hash {
		case "SHA-256":
			if k, ok := u.hash.SCRAMKeys(); ok {
				return k, nil
			}
		case "SHA-1":
			if u.sha1 != nil {
				return *u.sha1, nil
			}
		}
	}
	return SCRAMKeys{}, fmt.Errorf("%w: %q for SCRAM-%s", ErrNoCredentials, username, hash)
}

// CRAMMD5Key implements CRAMMD5Store.
func (s *MemoryStore) CRAMMD5Key(ctx context.Context, username string) (CRAMMD5Key, error) {
	u := s.get(username)
	if u == nil || u.cram == nil {
		return CRAMMD5Key{}, fmt.Errorf("%w: %q for CRAM-MD5", ErrNoCredentials, username)
	}
	return *u.cram, nil
}

// VerifyToken implements TokenVerifier. A token is valid for the user it was
// added for; user, when not empty, must name that user.
func (s *MemoryStore) VerifyToken(_ context.Context, user, token string) (string, error) {
	s.mu.RLock()
	var owner string
	found := false
	for t, u := range s.tokens {
		// Compare every token in constant time, so that timing does not
		// reveal a prefix of a valid one.
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			owner, found = u, true
		}
	}
	s.mu.RUnlock()
	if !found || (user != "" && user != owner) {
		return "", &OAuthError{Status: "invalid_token"}
	}
	return owner, nil
}

// PasswordFunc adapts a function to the PasswordChecker interface.
type PasswordFunc func(ctx context.Context, username, password string) error

// CheckPassword calls f(ctx, username, password).
func (f PasswordFunc) CheckPassword(ctx context.Context, username, password string) error {
	return f(ctx, username, password)
}
