package dkim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// genMessage is a seekable message of a given size generated on the fly:
// testMessage's header, then the same text line over and over.
type genMessage struct {
	size, off int64
}

const (
	genHeader = "From: Alice <alice@a.test>\r\nTo: Bob <bob@b.test>\r\nSubject: Big\r\nDate: Mon, 2 Jan 2006 15:04:05 -0700\r\n\r\n"
	genLine   = "The quick brown fox jumps over the lazy dog,  \tagain and again.\r\n"
)

func (g *genMessage) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.off < g.size {
		var c int
		if g.off < int64(len(genHeader)) {
			c = copy(p[n:], genHeader[g.off:])
		} else {
			i := (g.off - int64(len(genHeader))) % int64(len(genLine))
			c = copy(p[n:], genLine[i:])
		}
		if rest := g.size - g.off; int64(c) > rest {
			c = int(rest)
		}
		n += c
		g.off += int64(c)
	}
	return n, nil
}

func (g *genMessage) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += g.off
	case io.SeekEnd:
		off += g.size
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	g.off = off
	return off, nil
}

// onlyReader hides Seek, so Sign has to spool.
type onlyReader struct{ io.Reader }

// TestSignVerifyMemoryFlat signs and verifies a 100 MB message (8 MB under
// the race detector, which makes it ten times slower) and checks that the
// heap allocated stays far below the message size.
func TestSignVerifyMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB message; skipped with -short")
	}
	size := int64(100 << 20)
	if raceEnabled {
		size = 8 << 20
	}
	dns := testDNS(t)
	var signed countingWriter
	var fields []byte
	allocated := heapDuring(func() {
		g := &genMessage{size: size}
		s, err := NewSigner(bothKeys(t, Relaxed)...)
		require.NoError(t, err)
		_, err = io.Copy(s, g)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		fields = s.Fields()
		signed.n = int64(len(fields)) + size
	})
	t.Logf("signing %d MB allocated %d KB", size>>20, allocated>>10)
	assert.Less(t, allocated, uint64(4<<20))

	allocated = heapDuring(func() {
		v := NewVerifier(&VerifyOptions{Resolver: dns, Now: at(1700000100)})
		_, err := io.Copy(v, io.MultiReader(bytes.NewReader(fields), &genMessage{size: size}))
		require.NoError(t, err)
		res, err := v.Finish(context.Background())
		require.NoError(t, err)
		require.Len(t, res, 2)
		for _, r := range res {
			assert.Equal(t, StatusPass, r.Status, "%v", r.Err)
		}
	})
	t.Logf("verifying %d MB allocated %d KB", size>>20, allocated>>10)
	assert.Less(t, allocated, uint64(4<<20))

	// Sign with a seekable source writes the fields then the message.
	allocated = heapDuring(func() {
		require.NoError(t, Sign(&signed, &genMessage{size: size}, bothKeys(t, Relaxed)...))
	})
	t.Logf("Sign (seekable) of %d MB allocated %d KB", size>>20, allocated>>10)
	assert.Less(t, allocated, uint64(4<<20))
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// heapDuring returns the bytes allocated on the heap while f runs.
func heapDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestSignSpools(t *testing.T) {
	dns := testDNS(t)
	var out bytes.Buffer
	require.NoError(t, Sign(&out, onlyReader{&genMessage{size: 1 << 20}}, bothKeys(t, Simple)...))
	res := verifyTest(t, out.String(), dns)
	require.Len(t, res, 2)
	for _, r := range res {
		assert.Equal(t, StatusPass, r.Status, "%v", r.Err)
	}
}

var benchSizes = []struct {
	name string
	size int64
}{{"10KB", 10 << 10}, {"10MB", 10 << 20}}

func BenchmarkSign(b *testing.B) {
	rk, ek := testKeys(b)
	for _, sz := range benchSizes {
		for _, alg := range []struct {
			name string
			opts *SignOptions
		}{
			{"rsa-sha256", &SignOptions{Domain: "a.test", Selector: "rsa", Key: rk, Time: time.Unix(1700000000, 0)}},
			{"ed25519-sha256", &SignOptions{Domain: "a.test", Selector: "ed", Key: ek, Time: time.Unix(1700000000, 0)}},
		} {
			b.Run("size="+sz.name+"/alg="+alg.name, func(b *testing.B) {
				b.SetBytes(sz.size)
				b.ReportAllocs()
				for b.Loop() {
					s, _ := NewSigner(alg.opts)
					io.Copy(s, &genMessage{size: sz.size})
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	dns := testDNS(b)
	for _, sz := range benchSizes {
		s, _ := NewSigner(bothKeys(b, Relaxed)...)
		io.Copy(s, &genMessage{size: sz.size})
		s.Close()
		fields := s.Fields()
		b.Run("size="+sz.name, func(b *testing.B) {
			b.SetBytes(sz.size)
			b.ReportAllocs()
			for b.Loop() {
				res, err := Verify(context.Background(), io.MultiReader(bytes.NewReader(fields), &genMessage{size: sz.size}),
					&VerifyOptions{Resolver: dns, Now: at(1700000100)})
				if err != nil || len(res) != 2 || res[0].Status != StatusPass {
					b.Fatal(err, res)
				}
			}
		})
	}
}
