package mime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mailwire/mailwire/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walked is what a test sees of one part.
type walked struct {
	Path    string
	Type    string
	Body    string
	Defects []DefectKind
}

func walkAll(t testing.TB, r io.Reader) ([]walked, []*Part) {
	t.Helper()
	var out []walked
	var parts []*Part
	err := Walk(r, func(p *Part) error {
		b, err := io.ReadAll(p.Body())
		require.NoError(t, err)
		parts = append(parts, p)
		out = append(out, walked{Path: p.Path.String(), Type: p.MediaType.String(), Body: string(b)})
		return nil
	})
	require.NoError(t, err)
	// Defects are complete only at the end.
	for i, p := range parts {
		out[i].Defects = kinds(p.Defects)
	}
	return out, parts
}

func readTestdata(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestCorpus(t *testing.T) {
	tests := []struct {
		file string
		want []walked
	}{
		{"nested.eml", []walked{
			{"", "multipart/mixed", "", nil},
			{"1", "multipart/alternative", "", nil},
			{"1.1", "text/plain", "plain text", nil},
			{"1.2", "multipart/related", "", nil},
			{"1.2.1", "text/html", "<p>html</p>", nil},
			{"1.2.2", "image/gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00,", nil},
			{"2", "application/octet-stream", "\x00\x01\x02\x03\x04\x05", nil},
		}},
		{"rfc822-inside.eml", []walked{
			{"", "multipart/mixed", "", nil},
			{"1", "text/plain", "see attached", nil},
			{"2", "message/rfc822", "", nil},
			{"2", "multipart/alternative", "", nil},
			{"2.1", "text/plain", "inner plain", nil},
			{"2.2", "text/html", "<b>inner</b>", nil},
			{"3", "message/rfc822", "", nil},
			{"3.1", "text/plain", "just text", nil},
		}},
		{"bad-base64.eml", []walked{
			{"1", "application/octet-stream", "hello world", []DefectKind{DefectBadBase64, DefectBase64Padding}},
		}},
		{"missing-end.eml", []walked{
			{"", "multipart/mixed", "", []DefectKind{DefectMissingEndBoundary}},
			{"1", "multipart/alternative", "", []DefectKind{DefectMissingEndBoundary}},
			{"1.1", "text/plain", "one", nil},
			{"2", "text/plain", "two\r\n", nil},
		}},
		{"lf-only.eml", []walked{
			{"", "multipart/mixed", "", nil},
			{"1", "text/plain", "line one\nline two", nil},
			{"2", "text/plain", "café soft", nil},
		}},
		{"qp-boundary-lookalike.eml", []walked{
			{"", "multipart/mixed", "", nil},
			{"1", "text/plain", "--=_qp is not a boundary\r\n--=_qpx is not one either\r\n--=_qp-- neither\r\n=_qp", []DefectKind{DefectBadQuotedPrintable, DefectBadQuotedPrintable}},
			{"2", "text/plain", "second", nil},
		}},
		{"rfc2231.eml", []walked{
			{"", "multipart/mixed", "", nil},
			{"1", "application/x-stuff", "x", nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readTestdata(t, tt.file)
			for name, wrap := range readerWraps {
				got, _ := walkAll(t, wrap(bytes.NewReader(data)))
				assert.Equal(t, tt.want, got, name)
			}
		})
	}
}

func TestCorpusDetails(t *testing.T) {
	_, parts := walkAll(t, bytes.NewReader(readTestdata(t, "nested.eml")))
	assert.Equal(t, "This is a multi-part message in MIME format.", string(parts[0].Preamble))
	assert.Equal(t, "epilogue text\r\n", string(parts[0].Epilogue))
	assert.Equal(t, "outer", parts[0].Boundary)
	assert.Equal(t, "<img1@example.org>", parts[5].Header.Get("Content-ID"))
	assert.Equal(t, "data.bin", parts[6].Filename())
	assert.True(t, parts[6].IsAttachment())
	assert.False(t, parts[2].IsAttachment())
	assert.Equal(t, parts[3], parts[4].Parent)
	assert.Equal(t, 2, parts[5].Index)
	assert.Equal(t, 3, parts[5].Depth)

	_, parts = walkAll(t, bytes.NewReader(readTestdata(t, "rfc2231.eml")))
	assert.Equal(t, "This is even more ***fun*** isn't it!", parts[1].MediaType.Params["title"])
	assert.Equal(t, "en", parts[1].MediaType.Languages["title"])
	assert.Equal(t, "résumé.pdf", parts[1].Filename())

	_, parts = walkAll(t, bytes.NewReader(readTestdata(t, "encoded-filename.eml")))
	assert.Equal(t, "été.pdf", parts[1].Filename())
	assert.Equal(t, "été.pdf", parts[1].MediaType.Params["name"])

	_, parts = walkAll(t, bytes.NewReader(readTestdata(t, "8bit-header.eml")))
	assert.Equal(t, "Grüße", parts[0].Header.Get("Subject"))
}

func TestUnknownCharset(t *testing.T) {
	var text []byte
	var cerr error
	err := Walk(bytes.NewReader(readTestdata(t, "unknown-charset.eml")), func(p *Part) error {
		r, err := p.Text()
		cerr = err
		text, _ = io.ReadAll(r)
		return nil
	})
	require.NoError(t, err)
	var ce *CharsetError
	require.ErrorAs(t, cerr, &ce)
	assert.Equal(t, "x-no-such-charset", ce.Charset)
	assert.ErrorIs(t, cerr, ErrUnknownCharset)
	assert.Equal(t, "caf\xe9\r\n", string(text), "the raw bytes stay readable")
}

func TestText(t *testing.T) {
	msg := "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9"
	err := Walk(strings.NewReader(msg), func(p *Part) error {
		r, err := p.Text()
		require.NoError(t, err)
		b, _ := io.ReadAll(r)
		assert.Equal(t, "café", string(b))
		return nil
	})
	require.NoError(t, err)
}

// RFC 2046 §5.1.1's example, with its preamble and epilogue.
const rfc2046Example = "From: Nathaniel Borenstein <nsb@bellcore.com>\r\n" +
	"To: Ned Freed <ned@innosoft.com>\r\n" +
	"Date: Sun, 21 Mar 1993 23:56:48 -0800 (PST)\r\n" +
	"Subject: Sample message\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-type: multipart/mixed; boundary=\"simple boundary\"\r\n" +
	"\r\n" +
	"This is the preamble.  It is to be ignored, though it\r\n" +
	"is a handy place for composition agents to include an\r\n" +
	"explanatory note to non-MIME conformant readers.\r\n" +
	"\r\n" +
	"--simple boundary\r\n" +
	"\r\n" +
	"This is implicitly typed plain US-ASCII text.\r\n" +
	"It does NOT end with a linebreak.\r\n" +
	"--simple boundary\r\n" +
	"Content-type: text/plain; charset=us-ascii\r\n" +
	"\r\n" +
	"This is explicitly typed plain US-ASCII text.\r\n" +
	"It DOES end with a linebreak.\r\n" +
	"\r\n" +
	"--simple boundary--\r\n" +
	"\r\n" +
	"This is the epilogue.  It is also to be ignored.\r\n"

func TestRFC2046Example(t *testing.T) {
	got, parts := walkAll(t, strings.NewReader(rfc2046Example))
	assert.Equal(t, []walked{
		{"", "multipart/mixed", "", nil},
		{"1", "text/plain", "This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak.", nil},
		{"2", "text/plain", "This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n", nil},
	}, got)
	assert.Equal(t, "This is the preamble.  It is to be ignored, though it\r\nis a handy place for composition agents to include an\r\nexplanatory note to non-MIME conformant readers.\r\n", string(parts[0].Preamble))
	assert.Equal(t, "\r\nThis is the epilogue.  It is also to be ignored.\r\n", string(parts[0].Epilogue))
}

// RFC 2049 Appendix A's complex example, shortened bodies.
const rfc2049Example = "MIME-Version: 1.0\r\n" +
	"From: Nathaniel Borenstein <nsb@nsb.fv.com>\r\n" +
	"To: Ned Freed <ned@innosoft.com>\r\n" +
	"Date: Fri, 07 Oct 1994 16:15:05 -0700 (PDT)\r\n" +
	"Subject: A multipart example\r\n" +
	"Content-Type: multipart/mixed;\r\n" +
	"              boundary=unique-boundary-1\r\n" +
	"\r\n" +
	"This is the preamble area of a multipart message.\r\n" +
	"\r\n" +
	"--unique-boundary-1\r\n" +
	"\r\n" +
	"  ... Some text appears here ...\r\n" +
	"\r\n" +
	"--unique-boundary-1\r\n" +
	"Content-type: text/plain; charset=US-ASCII\r\n" +
	"\r\n" +
	"This could have been part of the previous part, but\r\n" +
	"illustrates explicit versus implicit typing of body\r\n" +
	"parts.\r\n" +
	"\r\n" +
	"--unique-boundary-1\r\n" +
	"Content-Type: multipart/parallel; boundary=unique-boundary-2\r\n" +
	"\r\n" +
	"--unique-boundary-2\r\n" +
	"Content-Type: audio/basic\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAEC\r\n" +
	"\r\n" +
	"--unique-boundary-2\r\n" +
	"Content-Type: image/jpeg\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"/9j/\r\n" +
	"\r\n" +
	"--unique-boundary-2--\r\n" +
	"\r\n" +
	"--unique-boundary-1\r\n" +
	"Content-type: text/enriched\r\n" +
	"\r\n" +
	"This is <bold><italic>enriched.</italic></bold>\r\n" +
	"<smaller>as defined in RFC 1896</smaller>\r\n" +
	"\r\n" +
	"Isn't it\r\n" +
	"<bigger><bigger>cool?</bigger></bigger>\r\n" +
	"\r\n" +
	"--unique-boundary-1\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"From: (mailbox in US-ASCII)\r\n" +
	"To: (address in US-ASCII)\r\n" +
	"Subject: (subject in US-ASCII)\r\n" +
	"Content-Type: Text/plain; charset=ISO-8859-1\r\n" +
	"Content-Transfer-Encoding: Quoted-printable\r\n" +
	"\r\n" +
	"  ... Additional text in ISO-8859-1 goes here ...\r\n" +
	"\r\n" +
	"--unique-boundary-1--\r\n"

func TestRFC2049Example(t *testing.T) {
	got, _ := walkAll(t, strings.NewReader(rfc2049Example))
	assert.Equal(t, []walked{
		{"", "multipart/mixed", "", nil},
		{"1", "text/plain", "  ... Some text appears here ...\r\n", nil},
		{"2", "text/plain", "This could have been part of the previous part, but\r\nillustrates explicit versus implicit typing of body\r\nparts.\r\n", nil},
		{"3", "multipart/parallel", "", nil},
		{"3.1", "audio/basic", "\x00\x01\x02", nil},
		{"3.2", "image/jpeg", "\xff\xd8\xff", nil},
		{"4", "text/enriched", "This is <bold><italic>enriched.</italic></bold>\r\n<smaller>as defined in RFC 1896</smaller>\r\n\r\nIsn't it\r\n<bigger><bigger>cool?</bigger></bigger>\r\n", nil},
		{"5", "message/rfc822", "", nil},
		{"5.1", "text/plain", "  ... Additional text in ISO-8859-1 goes here ...\r\n", nil},
	}, got)
}

func TestBoundaryEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want []walked
	}{
		{"transport padding", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b  \t\r\n\r\none\r\n--b--  \r\n", []walked{
			{"", "multipart/mixed", "", nil}, {"1", "text/plain", "one", nil}}},
		{"prefix is not a boundary", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--bb\r\n--b-x\r\n--b\r\n\r\ntwo\r\n--b--", []walked{
			{"", "multipart/mixed", "", nil}, {"1", "text/plain", "--bb\r\n--b-x", nil}, {"2", "text/plain", "two", nil}}},
		{"empty body", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n--b--\r\n", []walked{
			{"", "multipart/mixed", "", nil}, {"1", "text/plain", "", nil}}},
		{"no header no blank line", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\nx\r\n--b--\r\n", []walked{
			{"", "multipart/mixed", "", nil}, {"1", "text/plain", "", nil}, {"2", "text/plain", "x", nil}}},
		{"missing boundary param", "Content-Type: multipart/mixed\r\n\r\n--b\r\nx\r\n", []walked{
			{"1", "multipart/mixed", "--b\r\nx\r\n", []DefectKind{DefectMissingBoundary}}}},
		{"no parts", "Content-Type: multipart/mixed; boundary=b\r\n\r\njust text\r\n", []walked{
			{"", "multipart/mixed", "", []DefectKind{DefectMissingEndBoundary, DefectNoParts}}}},
		{"close without parts", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n", []walked{
			{"", "multipart/mixed", "", []DefectKind{DefectNoParts}}}},
		{"long boundary", "Content-Type: multipart/mixed; boundary=" + strings.Repeat("x", 80) + "\r\n\r\n--" + strings.Repeat("x", 80) + "\r\n\r\na\r\n--" + strings.Repeat("x", 80) + "--\r\n", []walked{
			{"", "multipart/mixed", "", []DefectKind{DefectBadBoundary}}, {"1", "text/plain", "a", nil}}},
		{"boundary over the limit", "Content-Type: multipart/mixed; boundary=" + strings.Repeat("x", maxBoundary+1) + "\r\n\r\n--" + strings.Repeat("x", maxBoundary+1) + "\r\n\r\na\r\n", []walked{
			{"1", "multipart/mixed", "--" + strings.Repeat("x", maxBoundary+1) + "\r\n\r\na\r\n", []DefectKind{DefectBadBoundary}}}},
		{"CR LF split", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\na\r\r\n--b--", []walked{
			{"", "multipart/mixed", "", nil}, {"1", "text/plain", "a\r", nil}}},
		{"bare CR is not a line break", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\na\r--b\r\n--b--", []walked{
			{"", "multipart/mixed", "", nil}, {"1", "text/plain", "a\r--b", nil}}},
		{"digest default", "Content-Type: multipart/digest; boundary=b\r\n\r\n--b\r\n\r\nSubject: x\r\n\r\nbody\r\n--b--", []walked{
			{"", "multipart/digest", "", nil}, {"1", "message/rfc822", "", nil}, {"1.1", "text/plain", "body", nil}}},
		{"encoded rfc822 is a leaf", "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQpi\r\n", []walked{
			{"1", "message/rfc822", "Subject: x\r\n\r\nb", nil}}},
		{"unknown encoding", "Content-Transfer-Encoding: x-uue\r\n\r\nabc", []walked{
			{"1", "text/plain", "abc", []DefectKind{DefectBadEncoding}}}},
		{"bad content type", "Content-Type: garbage\r\n\r\nabc", []walked{
			{"1", "text/plain", "abc", []DefectKind{DefectSyntax}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, wrap := range readerWraps {
				got, _ := walkAll(t, wrap(strings.NewReader(tt.msg)))
				assert.Equal(t, tt.want, got, name)
			}
		})
	}
}

func nestedMessage(depth int) string {
	var b strings.Builder
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("\r\nleaf\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

func TestDepthLimit(t *testing.T) {
	mr := NewReaderLimits(strings.NewReader(nestedMessage(10)), Limits{MaxDepth: 3})
	var last *Part
	n := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		n++
		last = p
	}
	assert.Equal(t, 4, n)
	assert.Equal(t, 3, last.Depth)
	assert.Contains(t, kinds(last.Defects), DefectDepth)
	assert.False(t, last.IsMultipart())

	// The default allows DefaultMaxDepth levels.
	got, _ := walkAll(t, strings.NewReader(nestedMessage(DefaultMaxDepth-1)))
	assert.Equal(t, "leaf", got[len(got)-1].Body)
}

func TestPartsLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range 20 {
		b.WriteString("--b\r\n\r\nx\r\n")
	}
	b.WriteString("--b--\r\n")
	mr := NewReaderLimits(strings.NewReader(b.String()), Limits{MaxParts: 10})
	var err error
	n := 0
	for err == nil {
		_, err = mr.NextPart()
		n++
	}
	assert.ErrorIs(t, err, ErrTooManyParts)
	assert.Equal(t, 11, n)
	_, err = mr.NextPart()
	assert.ErrorIs(t, err, ErrTooManyParts, "the error sticks")
}

func TestPreambleLimit(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("p", 5000) + "\r\n--b\r\n\r\nx\r\n--b--\r\n" + strings.Repeat("e", 5000)
	mr := NewReaderLimits(strings.NewReader(msg), Limits{MaxPreamble: 100})
	top, err := mr.NextPart()
	require.NoError(t, err)
	for err == nil {
		_, err = mr.NextPart()
	}
	require.ErrorIs(t, err, io.EOF)
	assert.Len(t, top.Preamble, 100)
	assert.Len(t, top.Epilogue, 100)
	assert.Equal(t, []DefectKind{DefectTruncated, DefectTruncated}, kinds(top.Defects))
}

func TestHeaderLimit(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nX: " + strings.Repeat("a", 3000) + "\r\n\r\nx\r\n--b--\r\n"
	mr := NewReaderLimits(strings.NewReader(msg), Limits{Header: message.Limits{MaxHeaderBytes: 1000}})
	_, err := mr.NextPart()
	require.NoError(t, err)
	// A part header over the limit is a defect of that part, not an
	// error: its body and the rest of the message stay readable.
	p, err := mr.NextPart()
	require.NoError(t, err)
	assert.Equal(t, []DefectKind{DefectHeader}, kinds(p.Defects))
	assert.Contains(t, p.Defects[0].Detail, "header too large")
	assert.Equal(t, 0, p.Header.Len())
	b, err := io.ReadAll(p.Body())
	require.NoError(t, err)
	assert.Equal(t, "x", string(b))
	_, err = mr.NextPart()
	assert.Equal(t, io.EOF, err)
}

func TestStaleBody(t *testing.T) {
	mr := NewReader(strings.NewReader(rfc2046Example))
	_, err := mr.NextPart()
	require.NoError(t, err)
	p1, err := mr.NextPart()
	require.NoError(t, err)
	_, err = mr.NextPart()
	require.NoError(t, err)
	_, err = p1.Body().Read(make([]byte, 10))
	assert.ErrorIs(t, err, errStale)
}

func TestStaleDecodedBody(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Transfer-Encoding: base64\r\n\r\nYWFh\r\n" +
		"--b\r\nContent-Transfer-Encoding: base64\r\n\r\nYmJi\r\n--b--\r\n"
	mr := NewReader(strings.NewReader(msg))
	_, err := mr.NextPart()
	require.NoError(t, err)
	p1, err := mr.NextPart()
	require.NoError(t, err)
	b1 := p1.Body()
	p2, err := mr.NextPart()
	require.NoError(t, err)
	b2 := p2.Body()
	_, err = b1.Read(make([]byte, 10))
	assert.ErrorIs(t, err, errStale, "the first part's decoder is not the second's")
	got, err := io.ReadAll(b2)
	require.NoError(t, err)
	assert.Equal(t, "bbb", string(got))
}

func TestPartialReadThenSkip(t *testing.T) {
	// Reading part of a body and moving on skips the rest correctly.
	mr := NewReader(strings.NewReader(rfc2049Example))
	var paths []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		p.Body().Read(make([]byte, 3))
		paths = append(paths, p.Path.String())
	}
	assert.Equal(t, []string{"", "1", "2", "3", "3.1", "3.2", "4", "5", "5.1"}, paths)
}

func TestWalkError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Walk(strings.NewReader(rfc2049Example), func(p *Part) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 3, n)
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(rfc2046Example[:400]), iotest.ErrReader(boom))
	err := Walk(r, func(p *Part) error {
		_, err := io.Copy(io.Discard, p.Body())
		return err
	})
	assert.ErrorIs(t, err, boom)
}

func TestPath(t *testing.T) {
	for _, s := range []string{"", "1", "1.2.3", "10.20"} {
		p, err := ParsePath(s)
		require.NoError(t, err)
		assert.Equal(t, s, p.String())
	}
	for _, s := range []string{"0", "1..2", "a", "1.01", "-1"} {
		_, err := ParsePath(s)
		assert.Error(t, err, s)
	}
}

func FuzzWalk(f *testing.F) {
	f.Add([]byte(rfc2046Example))
	f.Add([]byte(rfc2049Example))
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("testdata", e.Name())); err == nil && !e.IsDir() {
			f.Add(b)
		}
	}
	// Part headers over small limits.
	f.Add([]byte(threeParts("Content-Type: text/plain\r\n"+fields(20, 30), "x")))
	f.Add([]byte(threeParts("X-Long: "+strings.Repeat("l", 300)+"\r\nContent-Type: text/html\r\n", "x")))
	f.Add([]byte(threeParts("Content-Type: message/rfc822\r\n", "Subject: s\r\n"+fields(10, 40)+"\r\nbody")))
	small := message.Limits{MaxFields: 4, MaxHeaderBytes: 256, MaxLineLength: 64}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, lim := range []Limits{{MaxParts: 200}, {MaxParts: 200, Header: small}} {
			mr := NewReaderLimits(bytes.NewReader(msg), lim)
			total := 0
			var last int64
			for {
				p, err := mr.NextPart()
				if err != nil {
					// Nothing in one part stops the walk: only its end
					// or the limit on the number of parts.
					if err != io.EOF && !errors.Is(err, ErrTooManyParts) {
						t.Fatalf("walk stopped: %v", err)
					}
					break
				}
				n, _ := io.Copy(io.Discard, p.Body())
				total += int(n)
				if p.Depth > DefaultMaxDepth {
					t.Fatalf("depth %d", p.Depth)
				}
				if p.Offset < last || p.BodyOffset < p.Offset || p.BodyOffset > int64(len(msg)) {
					t.Fatalf("part %s at %d, body at %d, after %d", p.Path, p.Offset, p.BodyOffset, last)
				}
				last = p.BodyOffset
			}
			if total > len(msg) {
				t.Fatalf("decoded %d bytes from %d", total, len(msg))
			}
			s, err := ReadStructureLimits(bytes.NewReader(msg), lim)
			if err != nil && !errors.Is(err, ErrTooManyParts) {
				t.Fatalf("structure: %v", err)
			}
			if err != nil || lim.Header != (message.Limits{}) {
				continue
			}
			// IMAP's body-type-mpart needs a part (RFC 3501 §9).
			checkStructure(t, s)
			// Sizes and lines are those of the message with CRLF
			// line ends, however it is stored.
			if bytes.IndexByte(msg, '\r') < 0 {
				crlf, err := ReadStructureLimits(bytes.NewReader(bytes.ReplaceAll(msg, []byte("\n"), []byte("\r\n"))), lim)
				if err == nil {
					if a, b := sizes(s), sizes(crlf); !slices.Equal(a, b) {
						t.Fatalf("stored with LF %v, with CRLF %v", a, b)
					}
				}
			}
		}
	})
}

func checkStructure(t *testing.T, s *Structure) {
	if s.Type == "multipart" && len(s.Children) == 0 {
		t.Fatalf("multipart %s without parts", s.Path)
	}
	for _, c := range s.Children {
		checkStructure(t, c)
	}
}

// sizes lists the paths, sizes and lines of s and its parts, depth first.
func sizes(s *Structure) []string {
	out := []string{fmt.Sprintf("%s %s/%s %d %d", s.Path, s.Type, s.Subtype, s.Size, s.Lines)}
	for _, c := range s.Children {
		out = append(out, sizes(c)...)
	}
	return out
}

func TestRawWriteTo(t *testing.T) {
	// io.Copy uses the raw body's WriteTo; the result is the same as
	// reading it.
	for name, wrap := range readerWraps {
		var viaCopy, viaRead []string
		Walk(wrap(strings.NewReader(rfc2049Example)), func(p *Part) error {
			var b bytes.Buffer
			_, err := io.Copy(&b, p.Raw())
			require.NoError(t, err)
			viaCopy = append(viaCopy, b.String())
			return nil
		})
		Walk(wrap(strings.NewReader(rfc2049Example)), func(p *Part) error {
			b, err := io.ReadAll(iotest.OneByteReader(p.Raw()))
			require.NoError(t, err)
			viaRead = append(viaRead, string(b))
			return nil
		})
		assert.Equal(t, viaRead, viaCopy, name)
		assert.Len(t, viaCopy, 9)
	}
}
