package mbox

import (
	"io"
	"testing"
)

// BenchmarkReader reads a generated mbox of 8 KB messages.
func BenchmarkReader(b *testing.B) {
	const total = 64 << 20
	b.SetBytes(total)
	for i := 0; i < b.N; i++ {
		r := NewReader(newGen(total))
		for {
			m, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWriter writes 8 KB messages with quoting.
func BenchmarkWriter(b *testing.B) {
	g := newGen(0)
	w := NewWriter(io.Discard)
	b.SetBytes(int64(len(g.body)))
	for i := 0; i < b.N; i++ {
		if err := w.WriteMessage("a@b", date, &sliceReader{b: g.body}); err != nil {
			b.Fatal(err)
		}
	}
}

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}
