package dkim

import (
	"crypto/ed25519"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTagList(t *testing.T) {
	tags, err := ParseTagList(" v = 1 ;\r\n a=rsa-sha256;b=ab\r\n cd ;")
	require.NoError(t, err)
	assert.Equal(t, []Tag{{"v", "1"}, {"a", "rsa-sha256"}, {"b", "ab\r\n cd"}}, tags)

	tags, err = ParseTagList("k=")
	require.NoError(t, err)
	assert.Equal(t, []Tag{{"k", ""}}, tags)

	bad := []struct{ in, tag, msg string }{
		{"", "", "empty tag-list"},
		{"a=1;;b=2", "", "empty tag-spec"},
		{"a=1; 9=2", "", "letter"},
		{"a=1; b 2", "b", "expected '='"},
		{"a=1; a=2", "a", "duplicate"},
		{"a=x\x00y", "a", "control"},
	}
	for _, b := range bad {
		_, err := ParseTagList(b.in)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, "%q", b.in)
		assert.Equal(t, b.tag, se.Tag, "%q", b.in)
		assert.Contains(t, se.Msg, b.msg, "%q", b.in)
	}
	_, err = ParseTagList("a=1; 9=2")
	assert.Equal(t, 5, err.(*SyntaxError).Offset)
}

func TestParseSignature(t *testing.T) {
	sig, err := ParseSignature(" v=1; a=RSA-SHA256; c=relaxed; d=a.test; s=sel;\r\n h=From : To:subject; bh=AAEC; b=AA\r\n EC; l=42; t=10; x=20; q=dns/txt; i=@a.test; z=From:x|To:y; foo=bar")
	require.NoError(t, err)
	assert.Equal(t, RSASHA256, sig.Algorithm)
	assert.Equal(t, Relaxed, sig.HeaderCanon)
	assert.Equal(t, Simple, sig.BodyCanon)
	assert.Equal(t, []string{"From", "To", "subject"}, sig.Headers)
	assert.Equal(t, []byte{0, 1, 2}, sig.BodyHash)
	assert.Equal(t, []byte{0, 1, 2}, sig.Signature)
	assert.True(t, sig.HasBodyLength)
	assert.Equal(t, int64(42), sig.BodyLength)
	assert.Equal(t, int64(10), sig.Timestamp.Unix())
	assert.Equal(t, int64(20), sig.Expiration.Unix())
	assert.Equal(t, []Tag{{"foo", "bar"}}, sig.Extra)

	bad := []struct{ in, tag string }{
		{"v=2; a=rsa-sha256; d=a; s=s; h=from; bh=AA==; b=AA==", "v"},
		{"v=1; a=rsa-sha256; d=a; s=s; h=from; bh=AA==", "b"},
		{"v=1; a=rsa-sha256; d=a; s=s; h=from; bh=AA==; b=!!", "b"},
		{"v=1; a=rsa-sha256; c=fancy/simple; d=a; s=s; h=from; bh=AA==; b=AA==", "c"},
		{"v=1; a=rsa-sha256; d=a; s=s; h=from; bh=AA==; b=AA==; l=-1", "l"},
		{"v=1; a=rsa-sha256; d=a; s=s; h=from; bh=AA==; b=AA==; l=99999999999999999999999", "l"},
		{"v=1; a=rsa-sha256; d=a; s=s; h=from; bh=AA==; b=AA==; t=20; x=10", "x"},
		{"v=1; a=rsa; d=a; s=s; h=from; bh=AA==; b=AA==", "a"},
		{"v=1; a=rsa-sha256; d=a; s=s; h=; bh=AA==; b=AA==", "h"},
	}
	for _, b := range bad {
		_, err := ParseSignature(b.in)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, b.in)
		assert.Equal(t, b.tag, se.Tag, b.in)
		assert.Equal(t, "DKIM-Signature", se.What)
	}
}

func TestFormatSignatureRoundTrip(t *testing.T) {
	sig := &Signature{
		Version: 1, Algorithm: RSASHA256, HeaderCanon: Relaxed, BodyCanon: Simple,
		Domain: "example.com", Selector: "sel.2024", Identity: "someone@mail.example.com",
		Headers:  strings.Split("From:From:To:To:Subject:Subject:Date:Date:Message-ID:MIME-Version:Content-Type:Content-Transfer-Encoding:List-Unsubscribe-Post", ":"),
		BodyHash: make([]byte, 32), Signature: make([]byte, 512),
		Timestamp: time.Unix(1700000000, 0).UTC(), Expiration: time.Unix(1700086400, 0).UTC(),
		BodyLength: 7, HasBodyLength: true, QueryMethods: []string{"dns/txt"},
	}
	for i := range sig.Signature {
		sig.Signature[i] = byte(i * 7)
	}
	f := sig.Format(true)
	assert.True(t, strings.HasPrefix(string(f), "DKIM-Signature: v=1;"))
	assert.True(t, strings.HasSuffix(string(f), "\r\n"))
	for _, line := range strings.Split(strings.TrimSuffix(string(f), "\r\n"), "\r\n") {
		assert.LessOrEqual(t, len(line), 78, line)
	}
	_, value, _ := strings.Cut(string(f), ":")
	got, err := ParseSignature(value)
	require.NoError(t, err)
	assert.Equal(t, sig, got)

	// The hashed form ends in "b=" with nothing after it.
	assert.True(t, strings.HasSuffix(string(sig.Format(false)), "b="))
}

func TestParseKeyRecord(t *testing.T) {
	k, err := ParseKeyRecord(rfc8463DNS["brisbane._domainkey.football.example.com"][0])
	require.NoError(t, err)
	assert.Equal(t, "ed25519", k.KeyType)
	assert.IsType(t, ed25519.PublicKey{}, k.PublicKey)
	assert.Equal(t, 256, k.Bits())

	k, err = ParseKeyRecord(rfc8463DNS["test._domainkey.football.example.com"][0])
	require.NoError(t, err)
	assert.IsType(t, &rsa.PublicKey{}, k.PublicKey)
	assert.Equal(t, 1024, k.Bits())

	k, err = ParseKeyRecord("v=DKIM1; h=sha256; k=rsa; n=note; s=email:*; t=y:s; p=")
	require.NoError(t, err)
	assert.True(t, k.Revoked)
	assert.True(t, k.Testing())
	assert.True(t, k.Strict())
	assert.Equal(t, []string{"sha256"}, k.HashAlgorithms)
	assert.Equal(t, []string{"email", "*"}, k.Services)

	// Round trip through String.
	rk, ek := testKeys(t)
	for _, pub := range []any{rk.Public(), ek.Public()} {
		rec, err := NewKeyRecord(pub)
		require.NoError(t, err)
		rec.Flags = []string{"s"}
		back, err := ParseKeyRecord(rec.String())
		require.NoError(t, err)
		assert.Equal(t, rec, back)
	}

	bad := []struct{ in, tag string }{
		{"k=rsa", "p"},
		{"k=rsa; v=DKIM1; p=", "v"},
		{"v=DKIM2; p=", "v"},
		{"k=dsa; p=AAAA", "k"},
		{"k=ed25519; p=AAAA", "p"},
		{"k=rsa; p=AAAA", "p"},
		{"p=%%%", "p"},
	}
	for _, b := range bad {
		_, err := ParseKeyRecord(b.in)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, b.in)
		assert.Equal(t, b.tag, se.Tag, b.in)
		assert.Equal(t, "key record", se.What)
	}
}
