package mbox

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var date = time.Date(2026, 11, 4, 3, 4, 5, 0, time.UTC)

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.WriteMessage("alice@a.example", date, strings.NewReader("Subject: 1\n\nFrom here\n>From there\n")))
	require.NoError(t, w.WriteMessage("", date.In(time.FixedZone("x", 3600)), strings.NewReader("no newline")))
	require.NoError(t, w.WriteMessage("c@x", date, strings.NewReader("")))
	require.NoError(t, w.Flush())
	assert.Equal(t, "From alice@a.example Wed Nov  4 03:04:05 2026\nSubject: 1\n\n>From here\n>>From there\n\n"+
		"From MAILER-DAEMON Wed Nov  4 03:04:05 2026\nno newline\n\n"+
		"From c@x Wed Nov  4 03:04:05 2026\n\n", buf.String())

	buf.Reset()
	w = NewWriter(&buf)
	w.Variant = Mboxo
	require.NoError(t, w.WriteMessage("a", date, strings.NewReader("From here\n>From there\n")))
	require.NoError(t, w.Flush())
	assert.Equal(t, "From a Wed Nov  4 03:04:05 2026\n>From here\n>From there\n\n", buf.String())

	for _, bad := range []string{"a b", "a\nb", "a\tb", "a\x00"} {
		assert.ErrorIs(t, NewWriter(io.Discard).WriteMessage(bad, date, strings.NewReader("")), ErrBadSender)
	}
}

// roundTrip writes contents as an mbox and reads them back.
func roundTrip(t testing.TB, v Variant, contents []string) []string {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Variant = v
	for _, c := range contents {
		require.NoError(t, w.WriteMessage("s@x", date, strings.NewReader(c)))
	}
	require.NoError(t, w.Flush())
	r := NewReader(&buf)
	r.Variant = v
	out := []string{}
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(m)
		require.NoError(t, err)
		out = append(out, string(b))
		assert.Equal(t, "s@x", m.Sender)
		assert.Equal(t, date, m.Date)
	}
}

func TestRoundTripRD(t *testing.T) {
	in := []string{
		"",
		"\n",
		"\n\n\n",
		"Subject: x\n\nFrom a\n>From b\n>>From c\n\n\nFrom d\n",
		"CRLF\r\n\r\nFrom x\r\n\r\n",
		strings.Repeat(">", 600) + "From deep\n" + strings.Repeat(">", 506) + "From edge\n" + strings.Repeat(">", 507) + "From edge\n",
		strings.Repeat(">", 507) + "x\n" + strings.Repeat(">", 508) + "\n" + strings.Repeat(">", 100000) + "\n",
		strings.Repeat("long line ", 100000) + "\n",
	}
	assert.Equal(t, in, roundTrip(t, Mboxrd, in))
}

func TestRoundTripOIsLossy(t *testing.T) {
	got := roundTrip(t, Mboxo, []string{"From a\n>From b\n"})
	assert.Equal(t, []string{"From a\nFrom b\n"}, got)
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("Subject: x\n\nFrom a\n>From b\n", "\n\n")
	f.Add("", "From x\n")
	f.Add(">>>From \r\n\r\n", "a\rb\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		// Content that ends with a line end (or is empty) round-trips.
		for _, s := range []*string{&a, &b} {
			if *s != "" && !strings.HasSuffix(*s, "\n") {
				*s += "\n"
			}
		}
		got := roundTrip(t, Mboxrd, []string{a, b})
		if len(got) != 2 || got[0] != a || got[1] != b {
			t.Fatalf("round trip of %q, %q gave %q", a, b, got)
		}
	})
}

func FuzzReader(f *testing.F) {
	f.Add("From a b\nx\n\nFrom c d\n>From y\n", byte(0))
	f.Add("From a b\nContent-Length: 2\n\nxy\n\nFrom c d\n", byte(2))
	f.Add("From a Mon Jan 2 15:04:05 2006\n\nFrom b Mon Jan 2 15:04:05 2006\n", byte(4))
	f.Add("\r\n\r\nFrom \r\n\r\n", byte(7))
	f.Fuzz(func(t *testing.T, in string, opts byte) {
		r := NewReader(strings.NewReader(in))
		r.Variant = Variant(opts & 1)
		r.ContentLength = opts&2 != 0
		r.Strict = opts&4 != 0
		total := 0
		for i := 0; ; i++ {
			m, err := r.Next()
			if err != nil {
				break
			}
			if i > len(in) {
				t.Fatal("more messages than input bytes")
			}
			n, err := io.Copy(io.Discard, m)
			if err != nil {
				t.Fatal(err)
			}
			total += int(n)
		}
		if total > len(in) {
			t.Fatalf("read %d content bytes from %d input bytes", total, len(in))
		}
	})
}
