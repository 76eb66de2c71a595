package benchcmp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"
	"github.com/mailwire/mailwire/auth/dkim"
)

// The DKIM benchmarks sign and verify the same message with the same key:
// rsa-sha256 with a 2048-bit key, relaxed/relaxed, the same header fields
// signed once each (mailwire's over-signing turned off, so that both hash
// the same fields).
const (
	dkimDomain   = "a.test"
	dkimSelector = "bench"
)

// dkimFields are the fields both libraries sign; each occurs once in the
// benchmark message.
var dkimFields = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}

const (
	dkimHeader = "From: Alice <alice@a.test>\r\nTo: Bob <bob@b.test>\r\nSubject: A report\r\n" +
		"Date: Mon, 2 Jan 2006 15:04:05 -0700\r\nMessage-ID: <bench.1@a.test>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	// dkimLine has white space inside and at the end, which relaxed body
	// canonicalisation rewrites.
	dkimLine = "The quick brown fox  jumps over the lazy dog,\tagain and again. \r\n"
)

var dkimKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// dkimRecord is the key record published for the benchmark key.
func dkimRecord(tb testing.TB) string {
	rec, err := dkim.NewKeyRecord(dkimKey().Public())
	if err != nil {
		tb.Fatal(err)
	}
	return rec.String()
}

// dkimMessage returns a message of size bytes: dkimHeader, then dkimLine
// over and over (the last one cut short).
func dkimMessage(size int) []byte {
	var m bytes.Buffer
	m.Grow(size)
	m.WriteString(dkimHeader)
	for m.Len()+len(dkimLine) <= size {
		m.WriteString(dkimLine)
	}
	m.WriteString(dkimLine[:size-m.Len()])
	return m.Bytes()
}

// dkimStream generates a message of size bytes as dkimMessage does,
// without holding it, so that the heap measured is the signer's.
type dkimStream struct{ size, off int }

func (g *dkimStream) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.off < g.size {
		var c int
		if g.off < len(dkimHeader) {
			c = copy(p[n:], dkimHeader[g.off:])
		} else {
			c = copy(p[n:], dkimLine[(g.off-len(dkimHeader))%len(dkimLine):])
		}
		c = min(c, g.size-g.off)
		n += c
		g.off += c
	}
	return n, nil
}

func mailwireSignOptions() *dkim.SignOptions {
	return &dkim.SignOptions{
		Domain: dkimDomain, Selector: dkimSelector, Key: dkimKey(),
		HeaderCanon: dkim.Relaxed, BodyCanon: dkim.Relaxed,
		HeaderFields: dkimFields, OverSign: []string{},
	}
}

func goMsgauthSignOptions() *msgauth.SignOptions {
	return &msgauth.SignOptions{
		Domain: dkimDomain, Selector: dkimSelector, Signer: dkimKey(),
		HeaderCanonicalization: msgauth.CanonicalizationRelaxed,
		BodyCanonicalization:   msgauth.CanonicalizationRelaxed,
		HeaderKeys:             dkimFields,
	}
}

// mailwireSign streams r through a dkim.Signer and returns the field.
func mailwireSign(r io.Reader) ([]byte, error) {
	s, err := dkim.NewSigner(mailwireSignOptions())
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(s, r); err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	return s.Fields(), nil
}

// goMsgauthSign streams r through go-msgauth's Signer and returns the field.
func goMsgauthSign(r io.Reader) (string, error) {
	s, err := msgauth.NewSigner(goMsgauthSignOptions())
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(s, r); err != nil {
		s.Close()
		return "", err
	}
	if err := s.Close(); err != nil {
		return "", err
	}
	return s.Signature(), nil
}

var dkimSizes = []struct {
	name string
	size int
}{{"10KB", 10 << 10}, {"10MB", 10 << 20}}

// BenchmarkDKIMSign computes a DKIM-Signature field for a message streamed
// through each library's Signer (an io.Writer in both). b.SetBytes is the
// message size. size=100MB (mailwire only) reports heap-MB, the bytes
// allocated while signing a generated message that is never held whole:
// an upper bound on the heap the signer needs, which should not grow with
// the message.
func BenchmarkDKIMSign(b *testing.B) {
	dkimKey()
	for _, sz := range dkimSizes {
		msg := dkimMessage(sz.size)
		b.Run("size="+sz.name+"/impl=mailwire", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := mailwireSign(bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("size="+sz.name+"/impl=gomsgauth", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := goMsgauthSign(bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("size=100MB/impl=mailwire", func(b *testing.B) {
		const size = 100 << 20
		b.SetBytes(size)
		b.ReportAllocs()
		defer reportCPU(b)()
		var allocated uint64
		var ms runtime.MemStats
		for b.Loop() {
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			if _, err := mailwireSign(&dkimStream{size: size}); err != nil {
				b.Fatal(err)
			}
			runtime.ReadMemStats(&ms)
			allocated += ms.TotalAlloc - before
		}
		b.ReportMetric(float64(allocated)/float64(b.N)/(1<<20), "heap-MB")
	})
}

// benchTXT serves the benchmark key record to both verifiers.
type benchTXT struct{ rec string }

func (r benchTXT) lookup(name string) ([]string, error) {
	if strings.TrimSuffix(name, ".") == dkimSelector+"._domainkey."+dkimDomain {
		return []string{r.rec}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r benchTXT) LookupTXT(_ context.Context, name string) ([]string, error) {
	return r.lookup(name)
}

// BenchmarkDKIMVerify verifies a message signed once (by mailwire, and
// checked to verify with both) with the key record served from memory, so
// that only the hashing, canonicalisation and RSA verification are
// measured. b.SetBytes is the message size.
func BenchmarkDKIMVerify(b *testing.B) {
	res := benchTXT{rec: dkimRecord(b)}
	for _, sz := range dkimSizes {
		msg := dkimMessage(sz.size)
		field, err := mailwireSign(bytes.NewReader(msg))
		if err != nil {
			b.Fatal(err)
		}
		signed := append(field, msg...)
		verifyMailwire := func() error {
			results, err := dkim.Verify(context.Background(), bytes.NewReader(signed), &dkim.VerifyOptions{Resolver: res})
			if err != nil {
				return err
			}
			if len(results) != 1 || results[0].Status != dkim.StatusPass {
				return fmt.Errorf("mailwire: %+v", results[0])
			}
			return nil
		}
		verifyGoMsgauth := func() error {
			vs, err := msgauth.VerifyWithOptions(bytes.NewReader(signed), &msgauth.VerifyOptions{LookupTXT: res.lookup})
			if err != nil {
				return err
			}
			if len(vs) != 1 || vs[0].Err != nil {
				return fmt.Errorf("go-msgauth: %v", vs[0].Err)
			}
			return nil
		}
		for _, impl := range []struct {
			name   string
			verify func() error
		}{{"mailwire", verifyMailwire}, {"gomsgauth", verifyGoMsgauth}} {
			b.Run("size="+sz.name+"/impl="+impl.name, func(b *testing.B) {
				if err := impl.verify(); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(signed)))
				b.ReportAllocs()
				defer reportCPU(b)()
				for b.Loop() {
					if err := impl.verify(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestDKIMSignaturesAgree checks that the benchmarks compare like with like:
// both libraries sign the same fields of the message with the same body
// hash, and each verifies the other's signature.
func TestDKIMSignaturesAgree(t *testing.T) {
	msg := dkimMessage(10 << 10)
	mw, err := mailwireSign(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	gm, err := goMsgauthSign(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	mwSig, err := dkim.ParseSignature(string(mw[len("DKIM-Signature:"):]))
	if err != nil {
		t.Fatal(err)
	}
	gmSig, err := dkim.ParseSignature(strings.TrimPrefix(gm, "DKIM-Signature:"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mwSig.BodyHash, gmSig.BodyHash) {
		t.Errorf("body hashes differ")
	}
	if fmt.Sprint(mwSig.Headers) != fmt.Sprint(gmSig.Headers) {
		t.Errorf("signed fields differ: %v, %v", mwSig.Headers, gmSig.Headers)
	}
	if mwSig.HeaderCanon != gmSig.HeaderCanon || mwSig.BodyCanon != gmSig.BodyCanon || mwSig.Algorithm != gmSig.Algorithm {
		t.Errorf("algorithms differ: %s, %s", mw, gm)
	}
	res := benchTXT{rec: dkimRecord(t)}
	for _, signed := range [][]byte{append(mw, msg...), append([]byte(gm), msg...)} {
		results, err := dkim.Verify(context.Background(), bytes.NewReader(signed), &dkim.VerifyOptions{Resolver: res})
		if err != nil || len(results) != 1 || results[0].Status != dkim.StatusPass {
			t.Errorf("mailwire does not verify %.60q: %v %+v", signed, err, results)
		}
		vs, err := msgauth.VerifyWithOptions(bytes.NewReader(signed), &msgauth.VerifyOptions{LookupTXT: res.lookup})
		if err != nil || len(vs) != 1 || vs[0].Err != nil {
			t.Errorf("go-msgauth does not verify %.60q: %v %+v", signed, err, vs)
		}
	}
}
