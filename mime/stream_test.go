package mime

import (
	"bytes"
	"encoding/base64"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigMessage is an io.Reader producing a multipart message whose second
// part is a base64 attachment of size decoded bytes, made on the fly.
type bigMessage struct {
	parts [][]byte
	body  []byte // one block of base64 lines
	left  int64  // base64 bytes still to produce
	cur   []byte
}

func newBigMessage(size int64) *bigMessage {
	// 57*1024 bytes of pattern make 1024 full lines.
	pattern := make([]byte, 57*1024)
	for i := range pattern {
		pattern[i] = byte(i*7 + i>>8)
	}
	var enc bytes.Buffer
	e := NewBase64Encoder(&enc)
	e.Write(pattern)
	e.Close()
	if size%int64(len(pattern)) != 0 {
		panic("size must be a multiple of the pattern")
	}
	head := "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=\"=_big\"\r\n\r\n" +
		"--=_big\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n" +
		"--=_big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	return &bigMessage{
		parts: [][]byte{[]byte(head), nil, []byte("\r\n--=_big--\r\n")},
		body:  enc.Bytes(),
		left:  size / int64(len(pattern)) * int64(enc.Len()),
	}
}

func (m *bigMessage) Read(p []byte) (int, error) {
	for len(m.cur) == 0 {
		switch {
		case m.parts[0] != nil:
			m.cur, m.parts[0] = m.parts[0], nil
		case m.left > 0:
			m.cur = m.body
			m.left -= int64(len(m.body))
		case m.parts[2] != nil:
			m.cur, m.parts[2] = m.parts[2], nil
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, m.cur)
	m.cur = m.cur[n:]
	return n, nil
}

// heapWatcher samples the heap in use while data streams through it.
type heapWatcher struct {
	n, every, peak uint64
}

func (h *heapWatcher) Write(p []byte) (int, error) {
	h.n += uint64(len(p))
	if h.n >= h.every {
		h.n = 0
		h.sample()
	}
	return len(p), nil
}

func (h *heapWatcher) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapInuse)
}

// TestStreamFlatMemory streams a 1 GiB attachment (64 MiB with -short or
// -race) through the reader and checks that the heap stays flat.
func TestStreamFlatMemory(t *testing.T) {
	size := int64(57*1024) * 18396 // ~1 GiB
	if testing.Short() || raceEnabled {
		size = 57 * 1024 * 1150 // ~64 MiB
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	w := &heapWatcher{every: 16 << 20}
	var got int64
	err := Walk(newBigMessage(size), func(p *Part) error {
		n, err := io.Copy(w, p.Body())
		if p.MediaType.Subtype == "octet-stream" {
			got = n
		}
		return err
	})
	require.NoError(t, err)
	w.sample()
	assert.Equal(t, size, got)
	growth := int64(w.peak) - int64(base.HeapInuse)
	t.Logf("streamed %d MiB; heap in use before %d KiB, peak %d KiB (growth %d KiB)",
		size>>20, base.HeapInuse>>10, w.peak>>10, growth>>10)
	assert.Less(t, growth, int64(8<<20), "heap grew with the attachment size")
}

func TestBigMessageDecodes(t *testing.T) {
	// The generator itself is right: check a small one byte for byte.
	m := newBigMessage(57 * 1024 * 2)
	var body []byte
	require.NoError(t, Walk(m, func(p *Part) error {
		if p.MediaType.Subtype == "octet-stream" {
			body, _ = io.ReadAll(p.Body())
		}
		return nil
	}))
	pattern := make([]byte, 57*1024)
	for i := range pattern {
		pattern[i] = byte(i*7 + i>>8)
	}
	assert.Equal(t, append(pattern, pattern...), body)
	_ = base64.StdEncoding
}

func BenchmarkWalkBase64(b *testing.B) {
	size := int64(57 * 1024 * 20) // ~1.1 MiB
	msg, _ := io.ReadAll(newBigMessage(size))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		Walk(bytes.NewReader(msg), func(p *Part) error {
			_, err := io.Copy(io.Discard, p.Body())
			return err
		})
	}
}

func BenchmarkQPDecode(b *testing.B) {
	var enc bytes.Buffer
	e := NewQPEncoder(&enc, false)
	for i := 0; enc.Len() < 1<<20; i++ {
		e.Write([]byte("Grüße aus Köln, this is mostly ASCII text with a few accents é à ü.\r\n"))
	}
	e.Close()
	data := enc.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	d := NewQPDecoder(nil)
	for b.Loop() {
		d.Reset(bytes.NewReader(data))
		io.Copy(io.Discard, d)
	}
}

func BenchmarkBase64Decode(b *testing.B) {
	var enc bytes.Buffer
	e := NewBase64Encoder(&enc)
	e.Write(bytes.Repeat([]byte("0123456789abcdef"), 1<<16))
	e.Close()
	data := enc.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	d := NewBase64Decoder(nil)
	for b.Loop() {
		d.Reset(bytes.NewReader(data))
		io.Copy(io.Discard, d)
	}
}
