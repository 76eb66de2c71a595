package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// DefaultIterations is the PBKDF2 iteration count used when none is given:
// 4096, the minimum RFC 7677 §4 asks of SCRAM-SHA-256 and a value every SCRAM
// client accepts. Hashes kept at rest deserve more where clients allow it;
// pass a higher count to NewPasswordHash or HashPassword.
const DefaultIterations = 4096

// MaxHashIterations bounds the iteration count of a parsed password hash, so
// that a corrupt users file cannot make each login take minutes.
const MaxHashIterations = 10_000_000

// Salt length used for new hashes and SCRAM keys, in bytes.
const saltLen = 16

// PasswordHash is a stored password. Its text form is one of
//
//	$scram-sha-256$i=ITER$SALT$STOREDKEY$SERVERKEY
//	$pbkdf2-sha256$i=ITER,l=LEN$SALT$DK
//
// where ITER is the decimal PBKDF2 iteration count, and SALT, STOREDKEY,
// SERVERKEY and DK are base64 (RFC 4648 §4, padding optional).
//
// The first form, the one HashPassword writes, stores SCRAM-SHA-256's keys
// (RFC 5802 §3, RFC 7677): SaltedPassword = PBKDF2-HMAC-SHA-256(password,
// SALT, ITER, 32), StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key")),
// ServerKey = HMAC(SaltedPassword, "Server Key"). Checking a plaintext
// password recomputes StoredKey, so one record serves PLAIN, LOGIN and
// SCRAM-SHA-256 without the server ever storing anything from which the
// password, or a SCRAM proof for another salt, can be computed directly.
//
// ParsePasswordHash also reads the "{SCRAM-SHA-256}ITER,SALT,STOREDKEY,SERVERKEY"
// form that Dovecot and GNU SASL (gsasl --mkpasswd) write, as the first form.
//
// The second form is plain PBKDF2-HMAC-SHA-256 with an LEN-byte derived key
// DK, accepted for importing hashes made elsewhere; the password is used as
// given, without the SASLprep the first form applies. It serves PLAIN and
// LOGIN; when LEN is 32, DK is SCRAM-SHA-256's SaltedPassword, so it serves
// SCRAM-SHA-256 too, but then DK is enough to log in with SCRAM: protect it
// as a password.
type PasswordHash struct {
	Algorithm  string // "scram-sha-256" or "pbkdf2-sha256"
	Iterations int
	Salt       []byte
	StoredKey  []byte // scram-sha-256
	ServerKey  []byte // scram-sha-256
	Key        []byte // pbkdf2-sha256: the derived key
}

// NewPasswordHash hashes password in the scram-sha-256 form with a random
// salt and the given iteration count (0 means DefaultIterations).
func NewPasswordHash(password string, iterations int) (*PasswordHash, error) {
	if iterations == 0 {
		iterations = DefaultIterations
	}
	k, err := NewSCRAMKeys("SHA-256", password, nil, iterations)
	if err != nil {
		return nil, err
	}
	return &PasswordHash{Algorithm: "scram-sha-256", Iterations: k.Iterations, Salt: k.Salt, StoredKey: k.StoredKey, ServerKey: k.ServerKey}, nil
}

// HashPassword returns the text form of NewPasswordHash(password, iterations),
// for a users file.
func HashPassword(password string, iterations int) (string, error) {
	h, err := NewPasswordHash(password, iterations)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// VerifyPassword checks password against an encoded hash. It returns an error
// wrapping ErrAuthFailed for a wrong password and ErrMalformed for a hash it
// cannot parse.
func VerifyPassword(encoded, password string) error {
	h, err := ParsePasswordHash(encoded)
	if err != nil {
		return err
	}
	return h.Verify(password)
}

var b64 = base64.RawStdEncoding

func decodeB64(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}

// String returns the text form.
func (h *PasswordHash) String() string {
	switch h.Algorithm {
	case "pbkdf2-sha256":
		return fmt.Sprintf("$pbkdf2-sha256$i=%d,l=%d$%s$%s", h.Iterations, len(h.Key), b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
	default:
		return fmt.Sprintf("$scram-sha-256$i=%d$%s$%s$%s", h.Iterations, b64.EncodeToString(h.Salt), b64.EncodeToString(h.StoredKey), b64.EncodeToString(h.ServerKey))
	}
}

// ParsePasswordHash parses the text form of a PasswordHash.
func ParsePasswordHash(s string) (*PasswordHash, error) {
	bad := func(why string) error { return fmt.Errorf("%w: password hash: %s", ErrMalformed, why) }
	if len(s) > 1024 {
		return nil, bad("too long")
	}
	if rest, ok := strings.CutPrefix(s, "{SCRAM-SHA-256}"); ok {
		f := strings.Split(rest, ",")
		if len(f) < 4 || len(f) > 5 { // gsasl may append the salted password
			return nil, bad("{SCRAM-SHA-256} needs iterations, salt and two keys")
		}
		s = "$scram-sha-256$i=" + f[0] + "$" + f[1] + "$" + f[2] + "$" + f[3]
	}
	f := strings.Split(s, "$")
	if len(f) < 2 || f[0] != "" {
		return nil, bad("does not start with $algorithm$")
	}
	h := &PasswordHash{Algorithm: f[1]}
	var params string
	var b64fields []*[]byte
	switch h.Algorithm {
	case "scram-sha-256":
		if len(f) != 6 {
			return nil, bad("scram-sha-256 needs 5 fields")
		}
		params = f[2]
		b64fields = []*[]byte{&h.Salt, &h.StoredKey, &h.ServerKey}
	case "pbkdf2-sha256":
		if len(f) != 5 {
			return nil, bad("pbkdf2-sha256 needs 4 fields")
		}
		params = f[2]
		b64fields = []*[]byte{&h.Salt, &h.Key}
	default:
		return nil, bad(fmt.Sprintf("unknown algorithm %q", h.Algorithm))
	}
	keyLen := -1
	for _, p := range strings.Split(params, ",") {
		name, val, ok := strings.Cut(p, "=")
		n, err := strconv.Atoi(val)
		if !ok || err != nil || n <= 0 || val[0] == '+' {
			return nil, bad(fmt.Sprintf("bad parameter %q", p))
		}
		switch {
		case name == "i" && h.Iterations == 0:
			h.Iterations = n
		case name == "l" && keyLen < 0 && h.Algorithm == "pbkdf2-sha256":
			keyLen = n
		default:
			return nil, bad(fmt.Sprintf("bad parameter %q", p))
		}
	}
	if h.Iterations == 0 || h.Iterations > MaxHashIterations {
		return nil, bad("iteration count missing or out of range")
	}
	for i, p := range b64fields {
		b, err := decodeB64(f[3+i])
		if err != nil || len(b) == 0 {
			return nil, bad("bad base64 field")
		}
		*p = b
	}
	switch h.Algorithm {
	case "scram-sha-256":
		if len(h.StoredKey) != sha256.Size || len(h.ServerKey) != sha256.Size {
			return nil, bad("keys must be 32 bytes")
		}
	case "pbkdf2-sha256":
		if keyLen < 0 || keyLen != len(h.Key) {
			return nil, bad("l does not match the key length")
		}
	}
	return h, nil
}

// Verify checks password against h in constant time. It returns an error
// wrapping ErrAuthFailed when the password is wrong.
func (h *PasswordHash) Verify(password string) error {
	var ok bool
	switch h.Algorithm {
	case "scram-sha-256":
		k, err := NewSCRAMKeys("SHA-256", password, h.Salt, h.Iterations)
		if err != nil {
			return err
		}
		ok = subtle.ConstantTimeCompare(k.StoredKey, h.StoredKey) == 1
	case "pbkdf2-sha256":
		dk, err := pbkdf2.Key(sha256.New, password, h.Salt, h.Iterations, len(h.Key))
		if err != nil {
			return err
		}
		ok = subtle.ConstantTimeCompare(dk, h.Key) == 1
	default:
		return fmt.Errorf("%w: password hash: unknown algorithm %q", ErrMalformed, h.Algorithm)
	}
	if !ok {
		return fmt.Errorf("%w: wrong password", ErrAuthFailed)
	}
	return nil
}

// SCRAMKeys returns the SCRAM-SHA-256 keys h can serve, if any.
func (h *PasswordHash) SCRAMKeys() (SCRAMKeys, bool) {
	if h == nil {
		return SCRAMKeys{}, false
	}
	switch {
	case h.Algorithm == "scram-sha-256":
		return SCRAMKeys{Salt: h.Salt, Iterations: h.Iterations, StoredKey: h.StoredKey, ServerKey: h.ServerKey}, true
	case h.Algorithm == "pbkdf2-sha256" && len(h.Key) == sha256.Size:
		k := scramKeysFromSalted(sha256.New, h.Key)
		k.Salt, k.Iterations = h.Salt, h.Iterations
		return k, true
	}
	return SCRAMKeys{}, false
}

// scramHash returns the hash function of a SCRAM hash name.
func scramHash(name string) func() hash.Hash {
	switch name {
	case "SHA-1":
		return sha1.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

// NewSCRAMKeys derives SCRAM keys (RFC 5802 §3) for password with hash
// "SHA-1" or "SHA-256". A nil salt means a new random 16-byte salt;
// iterations 0 means DefaultIterations. The password is prepared with
// SASLprep (RFC 5802 §2.2, Normalize) unless SASLprep refuses it, when it is
// used as given, as SCRAMClient does.
func NewSCRAMKeys(hashName, password string, salt []byte, iterations int) (SCRAMKeys, error) {
	h := scramHash(hashName)
	if h == nil {
		return SCRAMKeys{}, fmt.Errorf("auth: unknown SCRAM hash %q", hashName)
	}
	if iterations == 0 {
		iterations = DefaultIterations
	}
	if iterations < 0 || iterations > MaxHashIterations {
		return SCRAMKeys{}, fmt.Errorf("auth: iteration count %d out of range", iterations)
	}
	if salt == nil {
		salt = make([]byte, saltLen)
		rand.Read(salt)
	}
	sp, err := pbkdf2.Key(h, prepOrRaw(password), salt, iterations, h().Size())
	if err != nil {
		return SCRAMKeys{}, err
	}
	k := scramKeysFromSalted(h, sp)
	k.Salt, k.Iterations = salt, iterations
	return k, nil
}

func scramKeysFromSalted(h func() hash.Hash, salted []byte) SCRAMKeys {
	clientKey := hmacSum(h, salted, []byte("Client Key"))
	stored := h()
	stored.Write(clientKey)
	return SCRAMKeys{StoredKey: stored.Sum(nil), ServerKey: hmacSum(h, salted, []byte("Server Key"))}
}

func hmacSum(h func() hash.Hash, key []byte, msgs ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, b := range msgs {
		m.Write(b)
	}
	return m.Sum(nil)
}
