package mime

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodeB64(t testing.TB, in string, wrap func(io.Reader) io.Reader) (string, []DefectKind) {
	d := NewBase64Decoder(wrap(strings.NewReader(in)))
	out, err := io.ReadAll(d)
	require.NoError(t, err)
	return string(out), kinds(d.Defects())
}

var readerWraps = map[string]func(io.Reader) io.Reader{
	"plain":   func(r io.Reader) io.Reader { return r },
	"onebyte": iotest.OneByteReader,
	"half":    iotest.HalfReader,
}

func TestBase64Decoder(t *testing.T) {
	tests := []struct {
		in, want string
		defects  []DefectKind
	}{
		{"aGVsbG8gd29ybGQ=", "hello world", nil},
		{"aGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n", "hello world", nil},
		{"aGVs bG8g\td29y\nbGQ=", "hello world", nil},
		{"aGVsbG8gd29ybGQ", "hello world", []DefectKind{DefectBase64Padding}},
		{"aGVs!bG8*gd29ybGQ=", "hello world", []DefectKind{DefectBadBase64}},
		{"aGk=aGk=", "hihi", []DefectKind{DefectBase64Padding}},
		{"aGVsbG8gd29ybGQ=\r\n\r\n", "hello world", nil},
		{"", "", nil},
		{"a", "", []DefectKind{DefectBase64Padding}},
		{"YQ==", "a", nil},
		{"YWI=", "ab", nil},
	}
	for name, wrap := range readerWraps {
		for _, tt := range tests {
			got, defects := decodeB64(t, tt.in, wrap)
			assert.Equal(t, tt.want, got, "%s %q", name, tt.in)
			assert.Equal(t, tt.defects, defects, "%s %q", name, tt.in)
		}
	}
}

func TestBase64RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 56, 57, 58, 114, 1000, 100_000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		var enc bytes.Buffer
		e := NewBase64Encoder(&enc)
		// Write in uneven pieces.
		for p := data; len(p) > 0; {
			k := min(len(p), 1+rng.IntN(200))
			_, err := e.Write(p[:k])
			require.NoError(t, err)
			p = p[k:]
		}
		require.NoError(t, e.Close())
		for _, line := range strings.Split(strings.TrimSuffix(enc.String(), "\r\n"), "\r\n") {
			require.LessOrEqual(t, len(line), 76)
		}
		assert.Equal(t, base64.StdEncoding.EncodeToString(data), strings.ReplaceAll(enc.String(), "\r\n", ""))
		for name, wrap := range readerWraps {
			d := NewBase64Decoder(wrap(bytes.NewReader(enc.Bytes())))
			got, err := io.ReadAll(d)
			require.NoError(t, err)
			assert.Equal(t, data, got, "%s n=%d", name, n)
			assert.Empty(t, d.Defects())
		}
	}
}

func decodeQP(t testing.TB, in string, wrap func(io.Reader) io.Reader) (string, []DefectKind) {
	d := NewQPDecoder(wrap(strings.NewReader(in)))
	out, err := io.ReadAll(d)
	require.NoError(t, err)
	return string(out), kinds(d.Defects())
}

func TestQPDecoder(t *testing.T) {
	tests := []struct {
		in, want string
		defects  []DefectKind
	}{
		// RFC 2045 §6.7 rule 5 example.
		{"Now's the time =\r\nfor all folk to come=\r\n to the aid of their country.",
			"Now's the time for all folk to come to the aid of their country.", nil},
		{"caf=C3=A9", "café", nil},
		{"caf=c3=a9", "café", nil},
		{"trailing   \r\nspace\t\r\n", "trailing\r\nspace\r\n", nil},
		{"lf only\nline=\nsoft\n", "lf only\nlinesoft\n", nil},
		{"soft with padding=  \r\nnext", "soft with paddingnext", nil},
		{"bad =ZZ here", "bad =ZZ here", []DefectKind{DefectBadQuotedPrintable}},
		{"end =", "end ", nil},
		{"end =4", "end =4", []DefectKind{DefectBadQuotedPrintable}},
		{"=3D=3D", "==", nil},
		{"", "", nil},
		{"a\r\n\r\nb", "a\r\n\r\nb", nil},
	}
	for name, wrap := range readerWraps {
		for _, tt := range tests {
			got, defects := decodeQP(t, tt.in, wrap)
			assert.Equal(t, tt.want, got, "%s %q", name, tt.in)
			assert.Equal(t, tt.defects, defects, "%s %q", name, tt.in)
		}
	}
}

func TestQPLongLine(t *testing.T) {
	// A line longer than the decoder's buffer, with escapes across the
	// block edges.
	var in, want strings.Builder
	for i := 0; in.Len() < 3*decodeBlock; i++ {
		in.WriteString("abc=3D  x")
		want.WriteString("abc=  x")
	}
	in.WriteString("   \r\n")
	want.WriteString("\r\n")
	for name, wrap := range readerWraps {
		got, defects := decodeQP(t, in.String(), wrap)
		assert.Equal(t, want.String(), got, name)
		assert.Empty(t, defects)
	}
}

func TestQPEncoder(t *testing.T) {
	tests := []struct {
		in, want string
		binary   bool
	}{
		{"hello", "hello", false},
		{"café\r\n", "caf=C3=A9\r\n", false},
		{"trailing \r\nx\t", "trailing=20\r\nx=09", false},
		{"a=b", "a=3Db", false},
		{"From here\r\nFrom\r\n", "=46rom here\r\nFrom\r\n", false},
		{".\r\n", "=2E\r\n", false},
		{"lf\nonly", "lf=0Aonly", false},
		{"a\r\nb", "a=0D=0Ab", true},
		{strings.Repeat("x", 80), strings.Repeat("x", 75) + "=\r\n" + strings.Repeat("x", 5), false},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		e := NewQPEncoder(&b, tt.binary)
		_, err := e.Write([]byte(tt.in))
		require.NoError(t, err)
		require.NoError(t, e.Close())
		assert.Equal(t, tt.want, b.String(), "%q", tt.in)
	}
}

func TestQPRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("ab =\t\r\n.Fé\x00\xff")
	for iter := 0; iter < 300; iter++ {
		n := rng.IntN(400)
		data := make([]byte, n)
		for i := range data {
			data[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if iter%3 == 0 {
			copy(data, "From ")
		}
		for _, binary := range []bool{false, true} {
			var enc bytes.Buffer
			e := NewQPEncoder(&enc, binary)
			for p := data; len(p) > 0; {
				k := min(len(p), 1+rng.IntN(20))
				e.Write(p[:k])
				p = p[k:]
			}
			require.NoError(t, e.Close())
			s, err := Analyze(bytes.NewReader(enc.Bytes()))
			require.NoError(t, err)
			require.True(t, s.Is7bit(), "%q", enc.String())
			require.LessOrEqual(t, s.LongestLine, 76, "%q", enc.String())
			require.NotContains(t, enc.String(), " \r\n")
			got, defects := decodeQP(t, enc.String(), iotest.HalfReader)
			require.Equal(t, string(data), got, "%q", enc.String())
			require.Empty(t, defects)
		}
	}
}

func TestNewDecoderEncoder(t *testing.T) {
	for _, cte := range []string{"base64", "Base64", " QUOTED-PRINTABLE (comment)", "7bit", "8bit", "binary", ""} {
		var b bytes.Buffer
		e := NewEncoder(cte, &b)
		e.Write([]byte("héllo\r\nworld"))
		require.NoError(t, e.Close())
		d, ok := NewDecoder(cte, &b)
		require.True(t, ok)
		got, err := io.ReadAll(d)
		require.NoError(t, err)
		assert.Equal(t, "héllo\r\nworld", string(got), cte)
	}
	_, ok := NewDecoder("x-uuencode", strings.NewReader(""))
	assert.False(t, ok)
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		in          string
		want        Stats
		is7, is8    bool
		enc, encBin string
	}{
		{"hello\r\nworld\r\n", Stats{Bytes: 14, Lines: 2, LongestLine: 5, CRLF: 2}, true, true, SevenBit, SevenBit},
		{"hello", Stats{Bytes: 5, Lines: 1, LongestLine: 5}, true, true, SevenBit, SevenBit},
		{"a\nb", Stats{Bytes: 3, Lines: 2, LongestLine: 1, BareLF: 1}, false, false, SevenBit, Base64},
		{"a\rb", Stats{Bytes: 3, Lines: 1, LongestLine: 3, BareCR: 1}, false, false, QuotedPrintable, Base64},
		{"café\r\n", Stats{Bytes: 7, Lines: 1, LongestLine: 5, EightBit: 2, CRLF: 1}, false, true, EightBit, Base64},
		{"a\x00b", Stats{Bytes: 3, Lines: 1, LongestLine: 3, NUL: 1}, false, false, Base64, Base64},
		{strings.Repeat("x", 999), Stats{Bytes: 999, Lines: 1, LongestLine: 999}, false, false, QuotedPrintable, Base64},
	}
	for _, tt := range tests {
		s, err := Analyze(iotest.OneByteReader(strings.NewReader(tt.in)))
		require.NoError(t, err)
		assert.Equal(t, tt.want, s, "%q", tt.in)
		assert.Equal(t, tt.is7, s.Is7bit(), "%q", tt.in)
		assert.Equal(t, tt.is8, s.Is8bit(), "%q", tt.in)
		assert.Equal(t, tt.enc, s.Encoding(true, true), "%q", tt.in)
		assert.Equal(t, tt.encBin, s.Encoding(false, false), "%q", tt.in)
	}
}

func FuzzBase64Decoder(f *testing.F) {
	f.Add([]byte("aGVsbG8gd29ybGQ=\r\n"), 7)
	f.Add([]byte("aGk=aGk= !! \r\nYQ"), 1)
	f.Fuzz(func(t *testing.T, in []byte, chunk int) {
		if chunk <= 0 || chunk > 1<<16 {
			chunk = 1
		}
		d := NewBase64Decoder(bytes.NewReader(in))
		var got []byte
		buf := make([]byte, chunk)
		for {
			n, err := d.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(got) > len(in) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(in))
		}
		// Clean input decodes as encoding/base64 does.
		if want, err := base64.StdEncoding.DecodeString(string(in)); err == nil && !bytes.ContainsAny(in, "\r\n") {
			if !bytes.Equal(want, got) {
				t.Fatalf("got %q want %q", got, want)
			}
		}
	})
}

func FuzzQPDecoder(f *testing.F) {
	f.Add([]byte("caf=C3=A9 =\r\nx  \r\n=ZZ"), 3)
	f.Fuzz(func(t *testing.T, in []byte, chunk int) {
		if chunk <= 0 || chunk > 1<<16 {
			chunk = 1
		}
		d := NewQPDecoder(bytes.NewReader(in))
		var got []byte
		buf := make([]byte, chunk)
		for {
			n, err := d.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(got) > len(in) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(in))
		}
		// Chunking does not change the result.
		all, _ := io.ReadAll(NewQPDecoder(bytes.NewReader(in)))
		if !bytes.Equal(all, got) {
			t.Fatalf("chunk %d: %q vs %q", chunk, got, all)
		}
		// Nor does a source that returns one byte per Read.
		one, _ := io.ReadAll(NewQPDecoder(iotest.OneByteReader(bytes.NewReader(in))))
		if !bytes.Equal(all, one) {
			t.Fatalf("one-byte source: %q vs %q", one, all)
		}
		// Encoding the result and decoding again gives it back.
		var enc bytes.Buffer
		e := NewQPEncoder(&enc, false)
		e.Write(got)
		e.Close()
		back, _ := io.ReadAll(NewQPDecoder(&enc))
		if !bytes.Equal(back, got) {
			t.Fatalf("re-encode: %q vs %q", back, got)
		}
	})
}
