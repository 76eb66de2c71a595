package auth

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// OAuthError is the error a TokenVerifier returns to describe a rejected
// token; OAUTHBEARER and XOAUTH2 servers send it to the client as the JSON
// object of RFC 7628 §3.2.2. It counts as an authentication failure.
type OAuthError struct {
	Status              string `json:"status"`                         // e.g. "invalid_token"
	Schemes             string `json:"schemes,omitempty"`              // token types taken (RFC 7628 §4.4's example)
	Scope               string `json:"scope,omitempty"`                // scope the token needs
	OpenIDConfiguration string `json:"openid-configuration,omitempty"` // discovery URL
}

func (e *OAuthError) Error() string {
	return "auth: OAuth error " + e.Status
}

// Is makes an *OAuthError match ErrAuthFailed.
func (e *OAuthError) Is(target error) bool { return target == ErrAuthFailed }

func (e *OAuthError) json() []byte {
	if e.Status == "" {
		c := *e
		c.Status = "invalid_token"
		e = &c
	}
	b, _ := json.Marshal(e)
	return b
}

// OAuthBearerClient is the client side of OAUTHBEARER (RFC 7628) with an
// OAuth 2.0 bearer token (RFC 6750).
type OAuthBearerClient struct {
	User  string // authorization identity (the gs2 authzid); may be empty
	Host  string // the server's host name, sent when not empty
	Port  int    // the server's port, sent when not 0
	Token string

	step int
	err  *OAuthError
}

// NewOAuthBearerClient returns an OAUTHBEARER client sending token for user.
func NewOAuthBearerClient(user, token string) *OAuthBearerClient {
	return &OAuthBearerClient{User: user, Token: token}
}

func validKVValue(v string) bool {
	// RFC 7628 §3.1: value = *(VCHAR / SP / HTAB / CR / LF)
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 || c > 0x7e) && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// Start implements Client.
func (c *OAuthBearerClient) Start() (string, []byte, error) {
	if c.Token == "" || !validKVValue(c.Token) || !validKVValue(c.Host) || !utf8.ValidString(c.User) || strings.IndexByte(c.User, 0) >= 0 {
		return "", nil, malformed("OAUTHBEARER", "bad user, host or token")
	}
	c.step, c.err = 1, nil
	// RFC 7628 §3.1: gs2-header kvsep *kvpair kvsep
	var b strings.Builder
	b.WriteString("n,")
	if c.User != "" {
		b.WriteString("a=" + encodeSASLName(c.User))
	}
	b.WriteString(",\x01")
	if c.Host != "" {
		b.WriteString("host=" + c.Host + "\x01")
	}
	if c.Port != 0 {
		b.WriteString("port=" + strconv.Itoa(c.Port) + "\x01")
	}
	b.WriteString("auth=Bearer " + c.Token + "\x01\x01")
	return "OAUTHBEARER", []byte(b.String()), nil
}

// Next implements Client. A challenge is the server's error report (RFC 7628
// §3.2.2): Next records it (see Err) and answers with the dummy response
// %x01 that lets the server end the exchange with a failure.
func (c *OAuthBearerClient) Next(challenge []byte) ([]byte, error) {
	if c.step != 1 {
		return nil, unexpected("OAUTHBEARER")
	}
	c.step = 2
	c.err = parseOAuthError(challenge)
	return []byte{0x01}, nil
}

// Err returns the error the server reported, or nil.
func (c *OAuthBearerClient) Err() *OAuthError { return c.err }

func parseOAuthError(b []byte) *OAuthError {
	e := &OAuthError{}
	if len(b) > DefaultMaxSize || json.Unmarshal(b, e) != nil || e.Status == "" {
		e = &OAuthError{Status: "invalid_token"}
	}
	return e
}

// OAuthBearerServer is the server side of OAUTHBEARER (RFC 7628) for bearer
// tokens. It ignores host and port; a server that knows its own should
// check them in its TokenVerifier (RFC 7628 §3.2) via HostPort.
type OAuthBearerServer struct {
	creds TokenVerifier
	// MaxSize limits each client message (0 means DefaultMaxSize).
	MaxSize int

	step       int
	host, port string
	failure    error
	identity   string
}

// NewOAuthBearerServer returns an OAUTHBEARER server checking tokens with
// creds.
func NewOAuthBearerServer(creds TokenVerifier) *OAuthBearerServer {
	return &OAuthBearerServer{creds: creds}
}

// HostPort returns the host and port the client said it connected to.
func (s *OAuthBearerServer) HostPort() (host, port string) { return s.host, s.port }

// Next implements Server.
func (s *OAuthBearerServer) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	const mech = "OAUTHBEARER"
	if len(resp) > maxOr(s.MaxSize) {
		s.step = 3
		return nil, true, tooLong(mech, len(resp), maxOr(s.MaxSize))
	}
	switch s.step {
	case 0:
		if resp == nil {
			s.step = 1
			return []byte{}, false, nil
		}
		fallthrough
	case 1:
	case 2:
		// RFC 7628 §3.2.3: the client acknowledges the error with %x01.
		s.step = 3
		if string(resp) != "\x01" {
			return nil, true, malformed(mech, "want %%x01 after an error")
		}
		return nil, true, s.failure
	default:
		return nil, true, unexpected(mech)
	}
	s.step = 3
	msg := string(resp)
	// gs2-header: we do not bind, so "n" or "y"; then an optional authzid.
	flag, rest, ok1 := strings.Cut(msg, ",")
	az, rest, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 || (flag != "n" && flag != "y") {
		return nil, true, malformed(mech, "bad GS2 header")
	}
	var user string
	if az != "" {
		v, ok := strings.CutPrefix(az, "a=")
		if !ok {
			// RFC 7628 §4.4's own SMTP example writes "user=" here.
			v, ok = strings.CutPrefix(az, "user=")
		}
		if user, ok = decodeSASLName(v); !ok || v == "" {
			return nil, true, malformed(mech, "bad authzid")
		}
	}
	kv, err := parseKV(mech, rest, "\x01")
	if err != nil {
		return nil, true, err
	}
	s.host, s.port = kv["host"], kv["port"]
	auth, has := kv["auth"]
	token, ok := bearer(auth)
	if !has || !ok && auth != "" {
		return s.fail(mech, &OAuthError{Status: "invalid_request"})
	}
	// RFC 7628 §4.3: an empty auth value is how a client asks which scope
	// it needs; the verifier's error for the empty token is the answer.
	id, err := s.creds.VerifyToken(ctx, user, token)
	if err == nil && token == "" {
		err = &OAuthError{Status: "invalid_token"}
	}
	if err != nil {
		return s.fail(mech, err)
	}
	s.identity = id
	return nil, true, nil
}

// fail reports a token failure: the RFC 7628 §3.2.2 error as a challenge
// when it is an authentication failure, at once otherwise.
func (s *OAuthBearerServer) fail(mech string, err error) ([]byte, bool, error) {
	err = credErr(mech, err)
	if !errorsIsAuthFailed(err) {
		return nil, true, err
	}
	s.step, s.failure = 2, err
	return oauthErrorOf(err).json(), false, nil
}

// parseKV parses kvpairs ending with an empty one (RFC 7628 §3.1):
// sep-terminated key=value pairs, then a final sep.
func parseKV(mech, s, sep string) (map[string]string, error) {
	if !strings.HasPrefix(s, sep) && mech == "OAUTHBEARER" {
		return nil, malformed(mech, "missing kvsep after GS2 header")
	}
	if mech == "OAUTHBEARER" {
		s = s[len(sep):]
	}
	kv := make(map[string]string)
	for {
		pair, rest, ok := strings.Cut(s, sep)
		if !ok {
			return nil, malformed(mech, "unterminated key/value pairs")
		}
		if pair == "" {
			if rest != "" {
				return nil, malformed(mech, "data after the final separator")
			}
			return kv, nil
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" || strings.TrimLeft(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" || !validKVValue(v) {
			return nil, malformed(mech, "bad key/value pair")
		}
		if _, dup := kv[k]; dup {
			return nil, malformed(mech, "duplicate key %q", k)
		}
		kv[k] = v
		s = rest
	}
}

// bearer extracts the token of "Bearer TOKEN" (RFC 6750 §2.1; the scheme
// name is case-insensitive).
func bearer(auth string) (string, bool) {
	scheme, token, ok := strings.Cut(auth, " ")
	token = strings.TrimLeft(token, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// Identity implements Server.
func (s *OAuthBearerServer) Identity() string { return s.identity }

// XOAuth2Client is the client side of XOAUTH2, the mechanism Google and
// Microsoft defined before OAUTHBEARER and still widely offered.
type XOAuth2Client struct {
	User  string
	Token string

	step int
	err  *OAuthError
}

// NewXOAuth2Client returns an XOAUTH2 client.
func NewXOAuth2Client(user, token string) *XOAuth2Client {
	return &XOAuth2Client{User: user, Token: token}
}

// Start implements Client.
func (c *XOAuth2Client) Start() (string, []byte, error) {
	if c.User == "" || c.Token == "" || !validKVValue(c.User) || !validKVValue(c.Token) {
		return "", nil, malformed("XOAUTH2", "bad user or token")
	}
	c.step, c.err = 1, nil
	return "XOAUTH2", []byte("user=" + c.User + "\x01auth=Bearer " + c.Token + "\x01\x01"), nil
}

// Next implements Client. A challenge is the server's JSON error report:
// Next records it (see Err) and sends the empty response that ends the
// exchange.
func (c *XOAuth2Client) Next(challenge []byte) ([]byte, error) {
	if c.step != 1 {
		return nil, unexpected("XOAUTH2")
	}
	c.step = 2
	c.err = parseOAuthError(challenge)
	return []byte{}, nil
}

// Err returns the error the server reported, or nil.
func (c *XOAuth2Client) Err() *OAuthError { return c.err }

// XOAuth2Server is the server side of XOAUTH2.
type XOAuth2Server struct {
	creds TokenVerifier
	// MaxSize limits each client message (0 means DefaultMaxSize).
	MaxSize int

	step     int
	failure  error
	identity string
}

// NewXOAuth2Server returns an XOAUTH2 server checking tokens with creds.
func NewXOAuth2Server(creds TokenVerifier) *XOAuth2Server {
	return &XOAuth2Server{creds: creds}
}

// Next implements Server.
func (s *XOAuth2Server) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	const mech = "XOAUTH2"
	if len(resp) > maxOr(s.MaxSize) {
		s.step = 3
		return nil, true, tooLong(mech, len(resp), maxOr(s.MaxSize))
	}
	switch s.step {
	case 0:
		if resp == nil {
			s.step = 1
			return []byte{}, false, nil
		}
	case 1:
	case 2:
		// The client's answer to the error report carries nothing.
		s.step = 3
		return nil, true, s.failure
	default:
		return nil, true, unexpected(mech)
	}
	s.step = 3
	kv, err := parseKV(mech, string(resp), "\x01")
	if err != nil {
		return nil, true, err
	}
	user := kv["user"]
	if user == "" || !utf8.ValidString(user) {
		return nil, true, malformed(mech, "missing user")
	}
	token, ok := bearer(kv["auth"])
	if !ok {
		return nil, true, malformed(mech, "missing bearer token")
	}
	id, err := s.creds.VerifyToken(ctx, user, token)
	if err != nil {
		err = credErr(mech, err)
		if !errorsIsAuthFailed(err) {
			return nil, true, err
		}
		s.step, s.failure = 2, err
		return oauthErrorOf(err).json(), false, nil
	}
	s.identity = id
	return nil, true, nil
}

// Identity implements Server.
func (s *XOAuth2Server) Identity() string { return s.identity }

func errorsIsAuthFailed(err error) bool { return errors.Is(err, ErrAuthFailed) }

func oauthErrorOf(err error) *OAuthError {
	var oe *OAuthError
	if errors.As(err, &oe) {
		return oe
	}
	return &OAuthError{Status: "invalid_token"}
}
