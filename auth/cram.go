package auth

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"strings"
	"time"
)

// CRAMMD5Key is the secret a CRAM-MD5 server needs instead of the password:
// the MD5 states after HMAC-MD5 (RFC 2104) has absorbed the outer and the
// inner padded key block, as eight little-endian 32-bit words (outer a, b,
// c, d, then inner a, b, c, d), the layout of Dovecot's CRAM-MD5 password
// scheme, whose hex form ParseCRAMMD5Key reads. It spares the server from
// storing the plaintext, but it is password-equivalent for CRAM-MD5:
// protect it.
type CRAMMD5Key [32]byte

// ParseCRAMMD5Key parses the 64 hex digits of a CRAM-MD5 key, with or
// without Dovecot's "{CRAM-MD5}" prefix.
func ParseCRAMMD5Key(s string) (CRAMMD5Key, error) {
	var k CRAMMD5Key
	s = strings.TrimPrefix(s, "{CRAM-MD5}")
	if len(s) != 2*len(k) {
		return k, malformed("CRAM-MD5", "key must be 64 hex digits")
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return k, malformed("CRAM-MD5", "key must be 64 hex digits")
	}
	return k, nil
}

// String returns the key in Dovecot's form, "{CRAM-MD5}" and 64 hex digits.
func (k CRAMMD5Key) String() string { return "{CRAM-MD5}" + hex.EncodeToString(k[:]) }

// NewCRAMMD5Key derives the CRAM-MD5 key of password.
func NewCRAMMD5Key(password string) CRAMMD5Key {
	key := []byte(password)
	if len(key) > md5.BlockSize {
		s := md5.Sum(key)
		key = s[:]
	}
	var k CRAMMD5Key
	for i, pad := range []byte{0x5c, 0x36} { // outer, inner
		block := make([]byte, md5.BlockSize)
		copy(block, key)
		for j := range block {
			block[j] ^= pad
		}
		h := md5.New()
		h.Write(block)
		st, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
		// State layout (crypto/md5): "md5\x01", a b c d big-endian, buffer, length.
		for w := 0; w < 4; w++ {
			binary.LittleEndian.PutUint32(k[i*16+w*4:], binary.BigEndian.Uint32(st[4+w*4:]))
		}
	}
	return k
}

// restore returns an MD5 hash that has absorbed one block and is in the
// state saved in words.
func restoreMD5(words []byte) hash.Hash {
	st := make([]byte, 0, 4+16+md5.BlockSize+8)
	st = append(st, "md5\x01"...)
	for w := 0; w < 4; w++ {
		st = binary.BigEndian.AppendUint32(st, binary.LittleEndian.Uint32(words[w*4:]))
	}
	st = append(st, make([]byte, md5.BlockSize)...)
	st = binary.BigEndian.AppendUint64(st, md5.BlockSize)
	h := md5.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
		panic("auth: crypto/md5 state format changed: " + err.Error())
	}
	return h
}

// Sum returns HMAC-MD5(password, msg) for the password k was derived from.
func (k *CRAMMD5Key) Sum(msg []byte) []byte {
	in := restoreMD5(k[16:])
	in.Write(msg)
	out := restoreMD5(k[:16])
	out.Write(in.Sum(nil))
	return out.Sum(nil)
}

// CRAMMD5Client is the client side of CRAM-MD5 (RFC 2195).
type CRAMMD5Client struct {
	Username string
	Password string
	step     int
}

// NewCRAMMD5Client returns a CRAM-MD5 client.
func NewCRAMMD5Client(username, password string) *CRAMMD5Client {
	return &CRAMMD5Client{Username: username, Password: password}
}

// Start implements Client.
func (c *CRAMMD5Client) Start() (string, []byte, error) {
	c.step = 0
	return "CRAM-MD5", nil, nil
}

// Next implements Client.
func (c *CRAMMD5Client) Next(challenge []byte) ([]byte, error) {
	c.step++
	if c.step != 1 {
		return nil, unexpected("CRAM-MD5")
	}
	if len(challenge) > DefaultMaxSize {
		return nil, tooLong("CRAM-MD5", len(challenge), DefaultMaxSize)
	}
	if len(challenge) == 0 {
		return nil, malformed("CRAM-MD5", "empty challenge")
	}
	// RFC 2195 §2: user name, a space, and the lowercase hex HMAC-MD5 digest.
	d := hmacSum(md5.New, []byte(c.Password), challenge)
	resp := make([]byte, 0, len(c.Username)+1+2*md5.Size)
	resp = append(resp, c.Username...)
	resp = append(resp, ' ')
	return hex.AppendEncode(resp, d), nil
}

// CRAMMD5Server is the server side of CRAM-MD5 (RFC 2195).
type CRAMMD5Server struct {
	creds CRAMMD5Store
	// Challenge is the challenge to send. When empty, Next makes one of the
	// form <random.time@Hostname> as RFC 2195 §2 describes.
	Challenge string
	// Hostname goes into a generated challenge; empty means os.Hostname.
	Hostname string
	// MaxSize limits the client's response (0 means DefaultMaxSize).
	MaxSize  int
	step     int
	identity string
}

// NewCRAMMD5Server returns a CRAM-MD5 server getting keys from creds.
func NewCRAMMD5Server(creds CRAMMD5Store) *CRAMMD5Server {
	return &CRAMMD5Server{creds: creds}
}

// Next implements Server.
func (s *CRAMMD5Server) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		s.step = 1
		if resp != nil {
			// The mechanism is server-first: an initial response, even an
			// empty one, must be refused (RFC 4954 §4, RFC 5034 §4).
			s.step = 2
			return nil, true, malformed("CRAM-MD5", "unexpected initial response")
		}
		if s.Challenge == "" {
			host := s.Hostname
			if host == "" {
				host, _ = os.Hostname()
				if host == "" {
					host = "localhost"
				}
			}
			var r [8]byte
			rand.Read(r[:])
			s.Challenge = fmt.Sprintf("<%d.%d@%s>", binary.BigEndian.Uint64(r[:])>>1, time.Now().Unix(), host)
		}
		return []byte(s.Challenge), false, nil
	case 1:
		s.step = 2
	default:
		return nil, true, unexpected("CRAM-MD5")
	}
	if len(resp) > maxOr(s.MaxSize) {
		return nil, true, tooLong("CRAM-MD5", len(resp), maxOr(s.MaxSize))
	}
	i := bytes.LastIndexByte(resp, ' ')
	if i <= 0 || len(resp)-i-1 != 2*md5.Size {
		return nil, true, malformed("CRAM-MD5", "want user SP 32 hex digits")
	}
	user := string(resp[:i])
	got := make([]byte, md5.Size)
	if _, err := hex.Decode(got, resp[i+1:]); err != nil {
		return nil, true, malformed("CRAM-MD5", "digest is not hex")
	}
	k, err := s.creds.CRAMMD5Key(ctx, user)
	if err != nil {
		return nil, true, credErr("CRAM-MD5", err)
	}
	if subtle.ConstantTimeCompare(k.Sum([]byte(s.Challenge)), got) != 1 {
		return nil, true, failed("CRAM-MD5", "wrong digest for %q", user)
	}
	s.identity = user
	return nil, true, nil
}

// Identity implements Server.
func (s *CRAMMD5Server) Identity() string { return s.identity }
