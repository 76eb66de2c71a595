package auth

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Client-side bounds on the iteration count a SCRAM server may ask for. The
// count sets how much PBKDF2 work the client does, so a hostile server must
// not choose it freely.
const (
	DefaultMinIterations = 4096      // RFC 7677 §4 asks for at least 4096
	DefaultMaxIterations = 1_000_000 // about a second of work on a slow machine
)

// SCRAMError is a SCRAM server-error (RFC 5802 §7, "e=" attribute), as sent
// by a server or received by a client. It wraps ErrAuthFailed, or
// ErrMalformed for the encoding errors.
type SCRAMError struct {
	// Value is the server-error-value, e.g. "invalid-proof".
	Value string
	// Detail says more, for logs; it is never sent to the peer.
	Detail string
}

func (e *SCRAMError) Error() string {
	s := "auth: SCRAM error " + e.Value
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns ErrMalformed or ErrAuthFailed.
func (e *SCRAMError) Unwrap() error {
	switch e.Value {
	case "invalid-encoding", "invalid-username-encoding", "extensions-not-supported":
		return ErrMalformed
	}
	return ErrAuthFailed
}

// ServerError returns the server-final-message a server may send to report
// the error, "e=" Value.
func (e *SCRAMError) ServerError() []byte { return []byte("e=" + e.Value) }

func scramErr(value, format string, args ...any) *SCRAMError {
	return &SCRAMError{Value: value, Detail: fmt.Sprintf(format, args...)}
}

// parseSCRAMMech splits a SCRAM mechanism name into hash name and -PLUS.
func parseSCRAMMech(mech string) (hashName string, plus bool, ok bool) {
	m, found := strings.CutPrefix(strings.ToUpper(mech), "SCRAM-")
	if !found {
		return "", false, false
	}
	m, plus = strings.CutSuffix(m, "-PLUS")
	if scramHash(m) == nil {
		return "", false, false
	}
	return m, plus, true
}

// saslname encoding, RFC 5802 §5.1: "," as "=2C" and "=" as "=3D".
var saslnameEscaper = strings.NewReplacer("=", "=3D", ",", "=2C")

func encodeSASLName(s string) string { return saslnameEscaper.Replace(s) }

func decodeSASLName(s string) (string, bool) {
	if s == "" || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return "", false
	}
	if strings.IndexByte(s, '=') < 0 {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

func printable(s string) bool {
	// RFC 5802 §7: printable = %x21-2B / %x2D-7E
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

type attr struct {
	key byte
	val string
}

// parseAttrs splits a SCRAM message into attr-val pairs (RFC 5802 §7).
func parseAttrs(msg string) ([]attr, bool) {
	if !utf8.ValidString(msg) || strings.IndexByte(msg, 0) >= 0 {
		return nil, false
	}
	var out []attr
	for f := range strings.SplitSeq(msg, ",") {
		if len(f) < 3 || f[1] != '=' || !isAlpha(f[0]) {
			return nil, false
		}
		out = append(out, attr{f[0], f[2:]})
	}
	return out, true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func newNonce() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

// SCRAMClient is the client side of SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802,
// RFC 7677), with or without channel binding (-PLUS).
type SCRAMClient struct {
	Authzid  string // authorization identity; usually empty
	Username string
	// Password is prepared with SASLprep (RFC 4013) unless SASLprep refuses
	// it, when it is used as given. Username is sent as given.
	Password string
	// Nonce is the client nonce; when empty Start makes a random one. Tests
	// set it to reproduce known exchanges.
	Nonce string
	// MinIterations and MaxIterations bound the server's iteration count;
	// 0 means DefaultMinIterations and DefaultMaxIterations.
	MinIterations, MaxIterations int

	mech    string
	h       func() hash.Hash
	gs2     string
	cbData  []byte
	bare    string
	step    int
	wantSig []byte
	done    bool
}

// NewSCRAMClient returns a client for the SCRAM mechanism mech, one of
// SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS. cs is
// the TLS connection state, nil without TLS. A -PLUS mechanism needs cs and
// binds to it (ClientChannelBinding); a plain one given a cs tells the
// server that the client could have bound ("y", RFC 5802 §6), so pick the
// -PLUS variant whenever the server offers it.
func NewSCRAMClient(mech, username, password string, cs *tls.ConnectionState) (*SCRAMClient, error) {
	hashName, plus, ok := parseSCRAMMech(mech)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a SCRAM mechanism", ErrNoMechanism, mech)
	}
	c := &SCRAMClient{Username: username, Password: password, h: scramHash(hashName), mech: "SCRAM-" + hashName}
	switch {
	case plus:
		cb, err := ClientChannelBinding(cs)
		if err != nil {
			return nil, err
		}
		c.mech += "-PLUS"
		c.gs2 = "p=" + cb.Type
		c.cbData = cb.Data
	case cs != nil:
		c.gs2 = "y"
	default:
		c.gs2 = "n"
	}
	return c, nil
}

// NewSCRAMClientBinding returns a -PLUS client for hash ("SHA-1" or
// "SHA-256") binding to cb, for channel types ClientChannelBinding does not
// choose (tls-unique).
func NewSCRAMClientBinding(hashName, username, password string, cb ChannelBinding) (*SCRAMClient, error) {
	if scramHash(hashName) == nil {
		return nil, fmt.Errorf("%w: SCRAM-%s", ErrNoMechanism, hashName)
	}
	if cb.Type == "" || len(cb.Data) == 0 {
		return nil, errors.New("auth: empty channel binding")
	}
	return &SCRAMClient{Username: username, Password: password, h: scramHash(hashName),
		mech: "SCRAM-" + hashName + "-PLUS", gs2: "p=" + cb.Type, cbData: cb.Data}, nil
}

// Start implements Client. SCRAM is client-first.
func (c *SCRAMClient) Start() (string, []byte, error) {
	if c.Username == "" || !utf8.ValidString(c.Username) || !utf8.ValidString(c.Authzid) ||
		strings.IndexByte(c.Username, 0) >= 0 || strings.IndexByte(c.Authzid, 0) >= 0 {
		return "", nil, malformed(c.mech, "user name must be non-empty UTF-8 without NUL")
	}
	if c.Nonce == "" {
		c.Nonce = newNonce()
	} else if !printable(c.Nonce) {
		return "", nil, malformed(c.mech, "nonce must be printable ASCII without ','")
	}
	// RFC 5802 §7: gs2-header = gs2-cbind-flag "," [ authzid ] ","
	gs2 := c.gs2 + ","
	if c.Authzid != "" {
		gs2 += "a=" + encodeSASLName(c.Authzid)
	}
	c.gs2 = gs2 + ","
	c.bare = "n=" + encodeSASLName(c.Username) + ",r=" + c.Nonce
	c.step = 1
	return c.mech, []byte(c.gs2 + c.bare), nil
}

// Next implements Client.
func (c *SCRAMClient) Next(challenge []byte) ([]byte, error) {
	if len(challenge) > DefaultMaxSize {
		return nil, tooLong(c.mech, len(challenge), DefaultMaxSize)
	}
	switch c.step {
	case 1:
		c.step = 2
		return c.final(string(challenge))
	case 2:
		c.step = 3
		return c.verify(string(challenge))
	}
	return nil, unexpected(c.mech)
}

// final answers server-first-message with client-final-message.
func (c *SCRAMClient) final(serverFirst string) ([]byte, error) {
	as, ok := parseAttrs(serverFirst)
	if !ok || len(as) < 3 {
		return nil, malformed(c.mech, "bad server-first-message")
	}
	if as[0].key == 'm' {
		return nil, scramErr("extensions-not-supported", "server sent mandatory extension")
	}
	if as[0].key != 'r' || as[1].key != 's' || as[2].key != 'i' {
		return nil, malformed(c.mech, "server-first-message needs r, s, i")
	}
	nonce := as[0].val
	if !printable(nonce) || len(nonce) <= len(c.Nonce) || !strings.HasPrefix(nonce, c.Nonce) {
		return nil, malformed(c.mech, "server nonce does not extend the client nonce")
	}
	salt, err := base64.StdEncoding.Strict().DecodeString(as[1].val)
	if err != nil || len(salt) == 0 {
		return nil, malformed(c.mech, "bad salt")
	}
	iter, err := strconv.Atoi(as[2].val)
	if err != nil || as[2].val[0] < '1' || as[2].val[0] > '9' {
		return nil, malformed(c.mech, "bad iteration count %q", as[2].val)
	}
	lo, hi := c.MinIterations, c.MaxIterations
	if lo <= 0 {
		lo = DefaultMinIterations
	}
	if hi <= 0 {
		hi = DefaultMaxIterations
	}
	if iter < lo || iter > hi {
		return nil, fmt.Errorf("%w: %s: iteration count %d outside [%d, %d]", ErrMalformed, c.mech, iter, lo, hi)
	}
	sp, err := pbkdf2.Key(c.h, prepOrRaw(c.Password), salt, iter, c.h().Size())
	if err != nil {
		return nil, err
	}
	clientKey := hmacSum(c.h, sp, []byte("Client Key"))
	keys := scramKeysFromSalted(c.h, sp)
	cbind := base64.StdEncoding.EncodeToString(append([]byte(c.gs2), c.cbData...))
	withoutProof := "c=" + cbind + ",r=" + nonce
	authMsg := []byte(c.bare + "," + serverFirst + "," + withoutProof)
	sig := hmacSum(c.h, keys.StoredKey, authMsg)
	proof := make([]byte, len(sig))
	subtle.XORBytes(proof, clientKey, sig)
	c.wantSig = hmacSum(c.h, keys.ServerKey, authMsg)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verify checks server-final-message.
func (c *SCRAMClient) verify(serverFinal string) ([]byte, error) {
	as, ok := parseAttrs(serverFinal)
	if !ok || len(as) == 0 {
		return nil, malformed(c.mech, "bad server-final-message")
	}
	switch as[0].key {
	case 'e':
		return nil, &SCRAMError{Value: as[0].val, Detail: "sent by server"}
	case 'v':
		got, err := base64.StdEncoding.Strict().DecodeString(as[0].val)
		if err != nil || !hmac.Equal(got, c.wantSig) {
			return nil, failed(c.mech, "wrong server signature: the server does not know the password")
		}
		c.done = true
		return []byte{}, nil
	}
	return nil, malformed(c.mech, "server-final-message needs v or e")
}

// Complete implements Completer: it returns nil only when the server has
// sent a correct server signature.
func (c *SCRAMClient) Complete() error {
	if !c.done {
		return failed(c.mech, "server did not prove it knows the password")
	}
	return nil
}

// SCRAMServer is the server side of SCRAM-SHA-1 and SCRAM-SHA-256 and their
// -PLUS variants. Failures are *SCRAMError values; a protocol that can send
// data with a failure may send their ServerError.
type SCRAMServer struct {
	// Nonce is the server's part of the nonce; when empty a random one is
	// made. Tests set it to reproduce known exchanges.
	Nonce string
	// MaxSize limits each client message (0 means DefaultMaxSize).
	MaxSize int

	creds    SCRAMStore
	hashName string
	h        func() hash.Hash
	plus     bool
	bindings map[string][]byte // channel bindings this connection offers

	step        int
	gs2         string
	cbType      string
	authcid     string
	authzid     string
	bare        string
	serverFirst string
	nonce       string
	keys        SCRAMKeys
	unknown     bool
	identity    string
}

// NewSCRAMServer returns a server for the SCRAM mechanism mech (SCRAM-SHA-1,
// SCRAM-SHA-256 or their -PLUS variants) taking keys from creds. bindings
// are the channel bindings the connection offers (ServerChannelBindings);
// -PLUS needs at least one, and a plain mechanism uses them to detect a
// downgrade (RFC 5802 §6, the "y" flag).
func NewSCRAMServer(mech string, creds SCRAMStore, bindings map[string][]byte) (*SCRAMServer, error) {
	hashName, plus, ok := parseSCRAMMech(mech)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a SCRAM mechanism", ErrNoMechanism, mech)
	}
	if plus && len(bindings) == 0 {
		return nil, fmt.Errorf("%w: %s needs channel binding", ErrNoMechanism, mech)
	}
	return &SCRAMServer{creds: creds, hashName: hashName, h: scramHash(hashName), plus: plus, bindings: bindings}, nil
}

func (s *SCRAMServer) mech() string {
	if s.plus {
		return "SCRAM-" + s.hashName + "-PLUS"
	}
	return "SCRAM-" + s.hashName
}

// Next implements Server.
func (s *SCRAMServer) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	if s.step == 0 && resp == nil {
		// Client-first mechanism without an initial response: prompt for it.
		s.step = 1
		return []byte{}, false, nil
	}
	if len(resp) > maxOr(s.MaxSize) {
		s.step = 3
		return nil, true, tooLong(s.mech(), len(resp), maxOr(s.MaxSize))
	}
	switch s.step {
	case 0, 1:
		s.step = 2
		ch, err := s.first(ctx, string(resp))
		if err != nil {
			s.step = 3
			return nil, true, err
		}
		return ch, false, nil
	case 2:
		s.step = 3
		ch, err := s.final(ctx, string(resp))
		if err != nil {
			return nil, true, err
		}
		return ch, true, nil
	}
	return nil, true, unexpected(s.mech())
}

var (
	fakeSaltOnce sync.Once
	fakeSaltKey  [32]byte
)

// fakeKeys returns keys for an unknown user that look like a real user's and
// stay the same across attempts, so that the salt does not reveal whether
// a user exists (RFC 5802 §9).
func (s *SCRAMServer) fakeKeys(user string) SCRAMKeys {
	fakeSaltOnce.Do(func() { rand.Read(fakeSaltKey[:]) })
	salt := hmacSum(s.h, fakeSaltKey[:], []byte(s.hashName), []byte{0}, []byte(user))[:saltLen]
	n := s.h().Size()
	return SCRAMKeys{Salt: salt, Iterations: DefaultIterations, StoredKey: make([]byte, n), ServerKey: make([]byte, n)}
}

// first handles client-first-message and returns server-first-message.
func (s *SCRAMServer) first(ctx context.Context, msg string) ([]byte, error) {
	// gs2-header: flag "," [authzid] ","
	flag, rest, ok1 := strings.Cut(msg, ",")
	az, bare, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return nil, scramErr("invalid-encoding", "bad GS2 header")
	}
	switch {
	case flag == "n":
		if s.plus {
			return nil, scramErr("channel-binding-not-supported", "%s without channel binding", s.mech())
		}
	case flag == "y":
		// RFC 5802 §6: the client could bind but thinks we cannot. If this
		// connection offers binding we advertised -PLUS: a downgrade.
		if s.plus {
			return nil, scramErr("channel-binding-not-supported", "%s with flag y", s.mech())
		}
		if len(s.bindings) > 0 {
			return nil, scramErr("server-does-support-channel-binding", "possible downgrade")
		}
	case strings.HasPrefix(flag, "p="):
		name := flag[2:]
		if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != "" {
			return nil, scramErr("invalid-encoding", "bad channel binding name")
		}
		if !s.plus {
			return nil, scramErr("channel-binding-not-supported", "channel binding requested with %s", s.mech())
		}
		if _, ok := s.bindings[name]; !ok {
			return nil, scramErr("unsupported-channel-binding-type", "%q", name)
		}
		s.cbType = name
	default:
		return nil, scramErr("invalid-encoding", "bad GS2 channel binding flag")
	}
	if az != "" {
		v, ok := strings.CutPrefix(az, "a=")
		if !ok {
			return nil, scramErr("invalid-encoding", "bad authzid")
		}
		if s.authzid, ok = decodeSASLName(v); !ok {
			return nil, scramErr("invalid-username-encoding", "bad authzid")
		}
	}
	as, ok := parseAttrs(bare)
	if !ok || len(as) < 2 {
		return nil, scramErr("invalid-encoding", "bad client-first-message-bare")
	}
	if as[0].key == 'm' {
		return nil, scramErr("extensions-not-supported", "mandatory extension")
	}
	if as[0].key != 'n' || as[1].key != 'r' {
		return nil, scramErr("invalid-encoding", "client-first-message needs n and r")
	}
	if s.authcid, ok = decodeSASLName(as[0].val); !ok {
		return nil, scramErr("invalid-username-encoding", "bad user name")
	}
	if !printable(as[1].val) {
		return nil, scramErr("invalid-encoding", "bad client nonce")
	}
	s.gs2 = msg[:len(msg)-len(bare)]
	s.bare = bare

	keys, err := s.creds.SCRAMKeys(ctx, s.hashName, s.authcid)
	switch {
	case errors.Is(err, ErrNoCredentials):
		keys, s.unknown = s.fakeKeys(s.authcid), true
	case err != nil:
		return nil, err
	case len(keys.Salt) == 0 || keys.Iterations <= 0 ||
		len(keys.StoredKey) != s.h().Size() || len(keys.ServerKey) != s.h().Size():
		return nil, fmt.Errorf("auth: %s: stored keys for %q are invalid", s.mech(), s.authcid)
	}
	s.keys = keys
	snonce := s.Nonce
	if snonce == "" {
		snonce = newNonce()
	} else if !printable(snonce) {
		return nil, errors.New("auth: SCRAM server nonce must be printable ASCII without ','")
	}
	s.nonce = as[1].val + snonce
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(keys.Salt) + ",i=" + strconv.Itoa(keys.Iterations)
	return []byte(s.serverFirst), nil
}

// final handles client-final-message and returns server-final-message.
func (s *SCRAMServer) final(ctx context.Context, msg string) ([]byte, error) {
	as, ok := parseAttrs(msg)
	if !ok || len(as) < 3 {
		return nil, scramErr("invalid-encoding", "bad client-final-message")
	}
	last := as[len(as)-1]
	if as[0].key != 'c' || as[1].key != 'r' || last.key != 'p' {
		return nil, scramErr("invalid-encoding", "client-final-message needs c, r, p")
	}
	cbind, err := base64.StdEncoding.Strict().DecodeString(as[0].val)
	if err != nil {
		return nil, scramErr("invalid-encoding", "bad channel binding base64")
	}
	want := []byte(s.gs2)
	if s.cbType != "" {
		want = append(want, s.bindings[s.cbType]...)
	}
	if subtle.ConstantTimeCompare(cbind, want) != 1 {
		return nil, scramErr("channel-bindings-dont-match", "")
	}
	if as[1].val != s.nonce {
		return nil, scramErr("invalid-encoding", "nonce mismatch")
	}
	proof, err := base64.StdEncoding.Strict().DecodeString(last.val)
	if err != nil || len(proof) != s.h().Size() {
		return nil, scramErr("invalid-encoding", "proof must be %d bytes", s.h().Size())
	}
	withoutProof := msg[:len(msg)-len(last.val)-3]
	authMsg := []byte(s.bare + "," + s.serverFirst + "," + withoutProof)
	// RFC 5802 §3: ClientKey = ClientProof XOR ClientSignature, and
	// H(ClientKey) must equal StoredKey.
	clientKey := hmacSum(s.h, s.keys.StoredKey, authMsg)
	subtle.XORBytes(clientKey, clientKey, proof)
	m := s.h()
	m.Write(clientKey)
	if subtle.ConstantTimeCompare(m.Sum(nil), s.keys.StoredKey) != 1 || s.unknown {
		return nil, scramErr("invalid-proof", "user %q", s.authcid)
	}
	id, err := authorize(ctx, s.mech(), s.creds, s.authcid, s.authzid)
	if err != nil {
		return nil, &SCRAMError{Value: "other-error", Detail: err.Error()}
	}
	s.identity = id
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacSum(s.h, s.keys.ServerKey, authMsg))), nil
}

// Identity implements Server.
func (s *SCRAMServer) Identity() string { return s.identity }
