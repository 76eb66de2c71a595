package mbox

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// genMbox produces an mbox of about total bytes on the fly, never holding
// more than one message template in memory.
type genMbox struct {
	total, sent int64
	msgs        int
	cur         []byte
	body        []byte
}

func newGen(total int64) *genMbox {
	body := make([]byte, 0, 8<<10)
	for i := 0; len(body) < 8<<10; i++ {
		if i%10 == 0 {
			body = append(body, ">From quoted line\n"...)
		} else {
			body = append(body, "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"...)
		}
	}
	return &genMbox{total: total, body: body}
}

func (g *genMbox) Read(p []byte) (int, error) {
	if len(g.cur) == 0 {
		if g.sent >= g.total {
			return 0, io.EOF
		}
		g.msgs++
		g.cur = fmt.Appendf(g.cur[:0], "From gen@example.test Wed Nov  4 03:04:05 2026\nSubject: %d\n\n", g.msgs)
		g.cur = append(g.cur, g.body...)
		g.cur = append(g.cur, '\n')
	}
	n := copy(p, g.cur)
	g.cur = g.cur[n:]
	g.sent += int64(n)
	return n, nil
}

// hugeLine is one message whose body is a single line of n bytes.
type hugeLine struct{ n, sent int64 }

var xs = bytes.Repeat([]byte("x"), 32<<10)

func (h *hugeLine) Read(p []byte) (int, error) {
	const head = "From x@y Wed Nov  4 03:04:05 2026\n\n"
	if h.sent < int64(len(head)) {
		n := copy(p, head[h.sent:])
		h.sent += int64(n)
		return n, nil
	}
	left := h.n + int64(len(head)) - h.sent
	if left <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), left)], xs)
	h.sent += int64(n)
	return n, nil
}

// heapPeak records the peak heap, both as allocated (garbage included) and
// as live after a collection.
type heapPeak struct{ peak, live uint64 }

func (h *heapPeak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapAlloc)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	h.live = max(h.live, ms.HeapAlloc)
}

// TestLargeStreamFlatMemory reads a generated mbox through an io.Reader and
// checks that the heap stays flat. MAILWIRE_MBOX_BYTES overrides the size
// (for example 10737418240 for 10 GB).
func TestLargeStreamFlatMemory(t *testing.T) {
	total := int64(64 << 20)
	if testing.Short() {
		total = 16 << 20
	}
	if s := os.Getenv("MAILWIRE_MBOX_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err)
		total = n
	}
	runtime.GC()
	var base heapPeak
	base.sample()
	g := newGen(total)
	r := NewReader(g)
	var hp heapPeak
	var content int64
	msgs := 0
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		n, err := io.Copy(io.Discard, m)
		require.NoError(t, err)
		content += n
		msgs++
		if msgs%2048 == 0 {
			hp.sample()
		}
	}
	hp.sample()
	assert.Equal(t, g.msgs, msgs)
	growth := int64(hp.live) - int64(base.live)
	t.Logf("read %d MB in %d messages; live heap at start %d KB, peak live %d KB (growth %d KB), peak allocated %d KB",
		g.sent>>20, msgs, base.live>>10, hp.live>>10, growth>>10, hp.peak>>10)
	assert.Less(t, growth, int64(1<<20), "live heap must not grow with the mbox size")
	assert.Less(t, hp.peak, uint64(32<<20))
}

func TestHugeLineFlatMemory(t *testing.T) {
	n := int64(64 << 20)
	if testing.Short() {
		n = 16 << 20
	}
	runtime.GC()
	var base heapPeak
	base.sample()
	r := NewReader(&hugeLine{n: n})
	m, err := r.Next()
	require.NoError(t, err)
	var hp heapPeak
	buf := make([]byte, 32<<10)
	var got int64
	for {
		k, err := m.Read(buf)
		got += int64(k)
		if got%(8<<20) < int64(k) {
			hp.sample()
		}
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	hp.sample()
	assert.Equal(t, n+1, got) // the empty header line, then the body line
	t.Logf("one %d MB line: live heap at start %d KB, peak live %d KB, peak allocated %d KB", n>>20, base.live>>10, hp.live>>10, hp.peak>>10)
	assert.Less(t, int64(hp.live)-int64(base.live), int64(1<<20))
	_, err = r.Next()
	assert.Equal(t, io.EOF, err)
}
