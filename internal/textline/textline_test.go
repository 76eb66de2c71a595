package textline

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type got struct {
	line string
	end  Ending
}

func readAll(t *testing.T, r *Reader) ([]got, error) {
	t.Helper()
	var out []got
	for i := 0; i < 1000; i++ {
		line, end, err := r.ReadLine()
		if err != nil {
			return out, err
		}
		out = append(out, got{string(line), end})
	}
	t.Fatal("no end of input")
	return nil, nil
}

func TestReadLineEndings(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"crlf", "a\r\nbb\r\n", []got{{"a", EndCRLF}, {"bb", EndCRLF}}},
		{"bare lf", "a\nb\r\n", []got{{"a", EndLF}, {"b", EndCRLF}}},
		{"bare cr", "a\rb\r\n", []got{{"a", EndCR}, {"b", EndCRLF}}},
		{"cr at eof", "a\r", []got{{"a", EndCR}}},
		{"no final ending", "a\r\nlast", []got{{"a", EndCRLF}, {"last", EndNone}}},
		{"cr cr lf", "a\r\r\n", []got{{"a", EndCR}, {"", EndCRLF}}},
		{"lf cr", "a\n\r", []got{{"a", EndLF}, {"", EndCR}}},
		{"smuggling dot", "x\n.\r\n", []got{{"x", EndLF}, {".", EndCRLF}}},
		{"empty lines", "\r\n\n\r", []got{{"", EndCRLF}, {"", EndLF}, {"", EndCR}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, wrap := range []func(io.Reader) io.Reader{
				func(r io.Reader) io.Reader { return r },
				iotest.OneByteReader,
				iotest.HalfReader,
			} {
				lines, err := readAll(t, NewReader(wrap(strings.NewReader(tt.in)), 100))
				require.ErrorIs(t, err, io.EOF)
				assert.Equal(t, tt.want, lines)
			}
		})
	}
}

func TestReadLineTooLong(t *testing.T) {
	r := NewReader(iotest.OneByteReader(strings.NewReader("abcdefgh\r\nok\r\n")), 5)
	line, end, err := r.ReadLine()
	require.ErrorIs(t, err, ErrLineTooLong)
	assert.Equal(t, "abcde", string(line))
	assert.Equal(t, EndNone, end)

	end, n, err := r.SkipLine()
	require.NoError(t, err)
	assert.Equal(t, EndCRLF, end)
	assert.Equal(t, int64(3), n)

	line, end, err = r.ReadLine()
	require.NoError(t, err)
	assert.Equal(t, "ok", string(line))
	assert.Equal(t, EndCRLF, end)
}

func TestReadLineExactlyMax(t *testing.T) {
	r := NewReader(strings.NewReader("abcde\r\nabcdef\n"), 5)
	line, end, err := r.ReadLine()
	require.NoError(t, err)
	assert.Equal(t, "abcde", string(line))
	assert.Equal(t, EndCRLF, end)

	line, _, err = r.ReadLine()
	require.ErrorIs(t, err, ErrLineTooLong)
	assert.Equal(t, "abcde", string(line))
	// The rest of the long line is read as its own piece.
	line, end, err = r.ReadLine()
	require.NoError(t, err)
	assert.Equal(t, "f", string(line))
	assert.Equal(t, EndLF, end)
}

// A huge line is refused without holding more than the limit in memory.
func TestSkipLineHuge(t *testing.T) {
	huge := io.MultiReader(strings.NewReader(strings.Repeat("x", 10<<20)), strings.NewReader("\r\nnext\r\n"))
	r := NewReader(huge, 1000)
	_, _, err := r.ReadLine()
	require.ErrorIs(t, err, ErrLineTooLong)
	_, n, err := r.SkipLine()
	require.NoError(t, err)
	assert.Equal(t, int64(10<<20-1000), n)
	line, _, err := r.ReadLine()
	require.NoError(t, err)
	assert.Equal(t, "next", string(line))
	assert.LessOrEqual(t, cap(r.line), 4096)
}

func TestResetDropsBuffered(t *testing.T) {
	r := NewReader(strings.NewReader("STARTTLS\r\nMAIL FROM:<evil>\r\n"), 100)
	line, _, err := r.ReadLine()
	require.NoError(t, err)
	assert.Equal(t, "STARTTLS", string(line))
	assert.Positive(t, r.Buffered())
	r.Reset(strings.NewReader("EHLO x\r\n"))
	assert.Zero(t, r.Buffered())
	line, _, err = r.ReadLine()
	require.NoError(t, err)
	assert.Equal(t, "EHLO x", string(line))
}

func TestReadErrorPassedOn(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(iotest.ErrReader(boom), 10)
	_, _, err := r.ReadLine()
	require.ErrorIs(t, err, boom)
}

// FuzzReadLine checks that joining lines with their endings gives back the input.
func FuzzReadLine(f *testing.F) {
	f.Add("a\r\nb\nc\rd", 3)
	f.Add("\r\r\n\n", 1)
	f.Fuzz(func(t *testing.T, in string, max int) {
		max = max%64 + 1
		if max < 1 {
			max = -max + 1
		}
		r := NewReader(strings.NewReader(in), max)
		var out []byte
		for {
			line, end, err := r.ReadLine()
			if len(line) > max {
				t.Fatalf("line of %d bytes over limit %d", len(line), max)
			}
			out = append(out, line...)
			out = append(out, end.Bytes()...)
			if err == io.EOF {
				break
			}
			if err != nil && !errors.Is(err, ErrLineTooLong) {
				t.Fatal(err)
			}
		}
		if string(out) != in {
			t.Fatalf("round trip: got %q want %q", out, in)
		}
	})
}
