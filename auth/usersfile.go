package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxUsersLine limits a line of a users file, in bytes.
const MaxUsersLine = 4096

// ReadUsers adds the users of a users file to s. Each line is
//
//	name:hash[:ignored...]
//
// where hash is a form ParsePasswordHash reads ("$scram-sha-256$...",
// "$pbkdf2-sha256$..." or Dovecot's "{SCRAM-SHA-256}..."), Dovecot's
// "{SCRAM-SHA-1}..." (SCRAM-SHA-1 only) or "{CRAM-MD5}..." (CRAM-MD5
// only), or "{PLAIN}" and a plaintext password, for tests (SetPassword).
// Fields after the hash are ignored, so Dovecot passwd-files with such
// hashes can be read as they are.
// A user may have several lines, one per scheme (Dovecot's SCRAM-SHA-1 and
// CRAM-MD5 forms serve only their mechanism). Blank lines and lines
// starting with "#" are skipped. Errors name the line;
// on error, the users read before it have been added.
func (s *MemoryStore) ReadUsers(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), MaxUsersLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return fmt.Errorf("%w: users file line %d: want name:hash", ErrMalformed, n)
		}
		var err error
		hash, _, _ := strings.Cut(rest, ":")
		switch {
		case strings.HasPrefix(rest, "{PLAIN}"):
			// A plaintext password may contain ":"; then it cannot be
			// followed by other fields.
			err = s.SetPassword(name, rest[len("{PLAIN}"):])
		case strings.HasPrefix(hash, "{CRAM-MD5}"):
			var k CRAMMD5Key
			if k, err = ParseCRAMMD5Key(hash); err == nil {
				s.SetCRAMMD5Key(name, k)
			}
		case strings.HasPrefix(hash, "{SCRAM-SHA-1}"):
			var k SCRAMKeys
			if k, err = parseSCRAMSHA1(hash); err == nil {
				s.SetSCRAMKeys("SHA-1", name, k)
			}
		default:
			err = s.setHash(name, hash, false)
		}
		if err != nil {
			return fmt.Errorf("users file line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%w: users file line %d: longer than %d bytes", ErrTooLong, n+1, MaxUsersLine)
		}
		return err
	}
	return nil
}

// parseSCRAMSHA1 reads Dovecot's "{SCRAM-SHA-1}ITER,SALT,STOREDKEY,SERVERKEY".
func parseSCRAMSHA1(s string) (SCRAMKeys, error) {
	// Reuse the SHA-256 parser's checks on the shared syntax.
	f := strings.Split(strings.TrimPrefix(s, "{SCRAM-SHA-1}"), ",")
	if len(f) < 4 || len(f) > 5 {
		return SCRAMKeys{}, fmt.Errorf("%w: {SCRAM-SHA-1} needs iterations, salt and two keys", ErrMalformed)
	}
	var k SCRAMKeys
	var err error
	if k.Iterations, err = strconv.Atoi(f[0]); err != nil || k.Iterations <= 0 || k.Iterations > MaxHashIterations {
		return SCRAMKeys{}, fmt.Errorf("%w: {SCRAM-SHA-1}: bad iteration count", ErrMalformed)
	}
	for i, p := range []*[]byte{&k.Salt, &k.StoredKey, &k.ServerKey} {
		if *p, err = decodeB64(f[1+i]); err != nil || len(*p) == 0 {
			return SCRAMKeys{}, fmt.Errorf("%w: {SCRAM-SHA-1}: bad base64", ErrMalformed)
		}
	}
	if len(k.StoredKey) != 20 || len(k.ServerKey) != 20 {
		return SCRAMKeys{}, fmt.Errorf("%w: {SCRAM-SHA-1}: keys must be 20 bytes", ErrMalformed)
	}
	return k, nil
}
