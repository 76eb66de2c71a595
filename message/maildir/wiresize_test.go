package maildir

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mailwire/mailwire/internal/textline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refWireSize is the definition: every LF not preceded by CR becomes CRLF.
func refWireSize(s string) int64 {
	n := int64(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			n++
		}
	}
	return n
}

func TestWireSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"", 0},
		{"a\n", 3},   // bare LF counts 2
		{"a\r\n", 3}, // CRLF counts 2
		{"a\nb", 4},  // a final line without a line end adds nothing
		{"no line end at all", 18},
		{"\n", 2}, // LF at the very start is bare
		{"\n\n", 4},
		{"\r\n\r\n", 4},
		{"a\r", 2},    // a CR alone is one octet
		{"a\rb\n", 5}, // CR then another byte: the LF is bare
		{"\r\r\n\n", 5},
		{"line\nline\r\nline", 16},
	} {
		for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in)), iotest.HalfReader(strings.NewReader(tt.in))} {
			n, err := WireSize(r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, n, "%q", tt.in)
		}
		assert.Equal(t, tt.want, refWireSize(tt.in), "reference %q", tt.in)
	}
}

func TestWireSizeError(t *testing.T) {
	_, err := WireSize(iotest.ErrReader(io.ErrUnexpectedEOF))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestWireSizeSplits(t *testing.T) {
	// Whatever the write boundaries (a CR at the end of one write and its
	// LF at the start of the next in particular), the count is the same.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "ab\r\n"
	for range 300 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		var c textline.CRLFCounter
		for rest := s; len(rest) > 0; {
			k := 1 + rng.IntN(len(rest))
			_, err := c.Write([]byte(rest[:k]))
			require.NoError(t, err)
			rest = rest[k:]
		}
		assert.Equal(t, refWireSize(s), c.N, "%q", s)
	}
}

func TestDeliverWireSize(t *testing.T) {
	// Deliver's W= field is WireSize of the stored bytes.
	d := newDir(t)
	for _, m := range []string{"a\nb\r\n\nc", "\r\n", "x\r", strings.Repeat("long line\n", 5000)} {
		key, err := d.Deliver(strings.NewReader(m))
		require.NoError(t, err)
		n, err := ParseName(key)
		require.NoError(t, err)
		assert.Equal(t, refWireSize(m), n.WireSize, "%q", m)
	}
}

func TestFillWireSizes(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	// Names without ",W=" (older deliveries, other programs): the size is
	// counted once and cached; a name with W= is believed.
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "cur", "1700000000.M1P1.test:2,S"), []byte("a\nb\r\nc\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "new", "1700000001.M2P1.test"), []byte("x\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "new", "1700000002.M3P1.test,S=5,W=12345"), []byte("x\ny\n\n"), 0o600))
	sizes := func() []int64 {
		msgs, err := d.List()
		require.NoError(t, err)
		require.NoError(t, d.FillWireSizes(ctx, msgs))
		var out []int64
		for _, m := range msgs {
			out = append(out, m.WireSize)
		}
		return out
	}
	assert.Equal(t, []int64{9, 3, 12345}, sizes())
	cachePath := filepath.Join(d.Path(), WireSizeCacheFile)
	cache, err := os.ReadFile(cachePath)
	require.NoError(t, err)
	assert.Equal(t, "1700000000.M1P1.test 9\n1700000001.M2P1.test 3\n", string(cache))

	// The cache is believed (here, falsely, to show it is used), and
	// garbage in it is skipped.
	require.NoError(t, os.WriteFile(cachePath, []byte("1700000000.M1P1.test 99\ngarbage\n../x 5\n"), 0o600))
	assert.Equal(t, []int64{99, 3, 12345}, sizes())

	// Entries of removed messages go.
	require.NoError(t, d.Remove("1700000000.M1P1.test"))
	assert.Equal(t, []int64{3, 12345}, sizes())
	cache, err = os.ReadFile(cachePath)
	require.NoError(t, err)
	assert.Equal(t, "1700000001.M2P1.test 3\n", string(cache))
	assert.NoFileExists(t, filepath.Join(d.Path(), "."+WireSizeCacheFile+".tmp"), "no temporary file left")
}

func TestFillWireSizesGone(t *testing.T) {
	// A message removed between List and FillWireSizes keeps -1.
	d := newDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "new", "1700000001.M2P1.test"), []byte("x\n"), 0o600))
	msgs, err := d.List()
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(d.Path(), "new", "1700000001.M2P1.test")))
	require.NoError(t, d.FillWireSizes(context.Background(), msgs))
	assert.Equal(t, int64(-1), msgs[0].WireSize)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	msgs[0].WireSize = -1
	assert.ErrorIs(t, d.FillWireSizes(ctx, msgs), context.Canceled)
}
