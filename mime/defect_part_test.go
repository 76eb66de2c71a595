package mime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walkLimits is walkAll with limits, through any reader wrap.
func walkLimits(t testing.TB, r io.Reader, lim Limits) ([]walked, []*Part) {
	t.Helper()
	mr := NewReaderLimits(r, lim)
	var out []walked
	var parts []*Part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p.Body())
		require.NoError(t, err)
		parts = append(parts, p)
		out = append(out, walked{Path: p.Path.String(), Type: p.MediaType.String(), Body: string(b)})
	}
	for i, p := range parts {
		out[i].Defects = kinds(p.Defects)
	}
	return out, parts
}

// threeParts is a multipart/mixed message whose second part has the given
// header (without its blank line) and body.
func threeParts(header2, body2 string) string {
	return "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n" +
		"preamble\r\n" +
		"--=_b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nfirst part\r\n" +
		"--=_b\r\n" + header2 + "\r\n" + body2 + "\r\n" +
		"--=_b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\ndGhpcmQgcGFydA==\r\n" +
		"--=_b--\r\nepilogue\r\n"
}

// fields returns n header fields "X-Fn: value" of about size bytes each.
func fields(n, size int) string {
	var b strings.Builder
	for i := range n {
		f := fmt.Sprintf("X-F%d: ", i)
		b.WriteString(f)
		b.WriteString(strings.Repeat("v", max(size-len(f)-2, 1)))
		b.WriteString("\r\n")
	}
	return b.String()
}

func TestPartHeaderOverLimit(t *testing.T) {
	qp := "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
	tests := []struct {
		name   string
		lim    message.Limits
		header string
		body   string
		// what part 2 looks like
		typ    string
		want   string // decoded body
		kept   int    // fields kept
		errIs  error
		detail string
	}{
		{
			name: "too many fields, type before the limit", lim: message.Limits{MaxFields: 20},
			header: qp + fields(50, 40), body: "caf=C3=A9",
			typ: "text/html", want: "café", kept: 20, errIs: message.ErrTooManyFields,
		},
		{
			name: "too many fields, type after the limit", lim: message.Limits{MaxFields: 20},
			header: fields(50, 40) + qp, body: "caf=C3=A9",
			typ: "application/octet-stream", want: "caf=C3=A9", kept: 20, errIs: message.ErrTooManyFields,
		},
		{
			name:   "too many fields, default limit",
			header: qp + fields(message.DefaultMaxFields+5, 30), body: "caf=C3=A9",
			typ: "text/html", want: "café", kept: message.DefaultMaxFields, errIs: message.ErrTooManyFields,
		},
		{
			name: "too many bytes", lim: message.Limits{MaxHeaderBytes: 2000},
			header: qp + fields(100, 100), body: "caf=C3=A9",
			// 2000 bytes hold the two fields of qp (94 bytes) and 19 of 100.
			typ: "text/html", want: "café", kept: 21, errIs: message.ErrHeaderTooLarge,
		},
		{
			name: "too many bytes, type after the limit", lim: message.Limits{MaxHeaderBytes: 2000},
			header: fields(100, 100) + qp, body: "caf=C3=A9",
			typ: "application/octet-stream", want: "caf=C3=A9", kept: 20, errIs: message.ErrHeaderTooLarge,
		},
		{
			name: "too many bytes, beyond the buffer", lim: message.Limits{MaxHeaderBytes: 100 << 10, MaxFields: 5000},
			header: qp + fields(3000, 100), body: "caf=C3=A9",
			typ: "text/html", want: "café", kept: 2 + (100<<10-94)/100, errIs: message.ErrHeaderTooLarge,
		},
		{
			name:   "one over-long line",
			header: qp + "X-Long: " + strings.Repeat("a", 40000) + "\r\nX-After: kept? no\r\n", body: "caf=C3=A9",
			typ: "text/html", want: "café", kept: 2, errIs: message.ErrLineTooLong,
		},
		{
			name:   "one over-long line, longer than the buffer",
			header: "X-Before: 1\r\nX-Long: " + strings.Repeat("a", 200<<10) + "\r\n" + qp, body: "caf=C3=A9",
			typ: "application/octet-stream", want: "caf=C3=A9", kept: 1, errIs: message.ErrLineTooLong,
		},
		{
			name: "over-long continuation line drops its whole field", lim: message.Limits{MaxLineLength: 100},
			header: qp + "Subject: first line\r\n " + strings.Repeat("b", 200) + "\r\nX-After: x\r\n", body: "caf=C3=A9",
			typ: "text/html", want: "café", kept: 2, errIs: message.ErrLineTooLong,
		},
		{
			name: "limit hit with a bare LF header", lim: message.Limits{MaxFields: 3},
			header: strings.ReplaceAll(qp+fields(10, 20), "\r\n", "\n"), body: "caf=C3=A9",
			typ: "text/html", want: "café", kept: 3, errIs: message.ErrTooManyFields,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := threeParts(tt.header, tt.body)
			for wname, wrap := range readerWraps {
				got, parts := walkLimits(t, wrap(strings.NewReader(msg)), Limits{Header: tt.lim})
				require.Len(t, got, 4, wname)
				assert.Equal(t, walked{Path: "", Type: "multipart/mixed"}, got[0], wname)
				assert.Equal(t, walked{Path: "1", Type: "text/plain", Body: "first part"}, got[1], wname)
				assert.Equal(t, walked{Path: "3", Type: "application/octet-stream", Body: "third part"}, got[3], wname)
				p := parts[2]
				assert.Equal(t, "2", got[2].Path, wname)
				assert.Equal(t, tt.typ, got[2].Type, wname)
				assert.Equal(t, tt.want, got[2].Body, wname)
				assert.Equal(t, []DefectKind{DefectHeader}, got[2].Defects, wname)
				assert.Equal(t, tt.kept, p.Header.Len(), wname)
				assert.Contains(t, p.Defects[0].Detail, strings.TrimPrefix(tt.errIs.Error(), "message: "), wname)
				assert.Contains(t, p.Defects[0].Detail, fmt.Sprintf("%d fields kept", tt.kept), wname)
				assert.ErrorIs(t, p.headerErr, tt.errIs, wname)
				// The fields kept are whole and unchanged.
				for i := range p.Header.Len() {
					f := p.Header.Field(i)
					assert.Contains(t, msg, string(f.Raw), wname)
				}
				assert.Equal(t, "preamble", string(parts[0].Preamble), wname)
				assert.Equal(t, "epilogue\r\n", string(parts[0].Epilogue), wname)
				// The body starts after the whole header.
				assert.Equal(t, int64(strings.Index(msg, tt.body)), p.BodyOffset, wname)
				assert.Equal(t, int64(len(tt.body)), p.Size, wname)
			}
		})
	}
}

func TestPartHeaderOverLimitStructure(t *testing.T) {
	header := "Content-Type: text/plain\r\n" + fields(30, 40)
	msg := threeParts(header, "line 1\r\nline 2")
	s, err := ReadStructureLimits(strings.NewReader(msg), Limits{Header: message.Limits{MaxFields: 10}})
	require.NoError(t, err)
	require.Len(t, s.Children, 3)
	c := s.Children[1]
	assert.Equal(t, Path{2}, c.Path)
	assert.Equal(t, "text", c.Type)
	assert.Equal(t, int64(len("line 1\r\nline 2")), c.Size)
	assert.Equal(t, int64(1), c.Lines)
	assert.Equal(t, []DefectKind{DefectHeader}, kinds(c.Defects))
	assert.Equal(t, Path{3}, s.Children[2].Path)
	assert.Empty(t, s.Children[2].Defects)

	// Sizes and line counts are those of the same message with a header
	// within the limits.
	ok, err := ReadStructure(strings.NewReader(msg))
	require.NoError(t, err)
	for i := range 3 {
		assert.Equal(t, ok.Children[i].Size, s.Children[i].Size, i)
		assert.Equal(t, ok.Children[i].Lines, s.Children[i].Lines, i)
	}
}

// TestEncapsulatedHeaderOverLimit cuts the header of a message inside a
// message/rfc822 part.
func TestEncapsulatedHeaderOverLimit(t *testing.T) {
	inner := "Subject: inner\r\nContent-Type: multipart/alternative; boundary=in\r\n" + fields(40, 50) +
		"\r\n--in\r\nContent-Type: text/plain\r\n\r\nplain\r\n--in\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--in--\r\n"
	msg := threeParts("Content-Type: message/rfc822\r\n", inner)
	lim := Limits{Header: message.Limits{MaxFields: 12}}
	for wname, wrap := range readerWraps {
		got, parts := walkLimits(t, wrap(strings.NewReader(msg)), lim)
		paths := []string{}
		for _, w := range got {
			paths = append(paths, w.Path+" "+w.Type)
		}
		assert.Equal(t, []string{" multipart/mixed", "1 text/plain", "2 message/rfc822", "2 multipart/alternative",
			"2.1 text/plain", "2.2 text/html", "3 application/octet-stream"}, paths, wname)
		assert.Equal(t, []DefectKind{DefectHeader}, got[3].Defects, wname)
		assert.True(t, parts[3].Encapsulated)
		assert.Equal(t, "inner", parts[3].Header.Get("Subject"))
		assert.Equal(t, 12, parts[3].Header.Len())
		assert.Equal(t, "plain", got[4].Body, wname)
		assert.Equal(t, "<p>html</p>", got[5].Body, wname)
		assert.Equal(t, "third part", got[6].Body, wname)
	}

	// With the Content-Type past the limit, the inner message is one
	// application/octet-stream body.
	inner = "Subject: inner\r\n" + fields(40, 50) + "Content-Type: text/plain\r\n\r\nhello\r\n"
	msg = threeParts("Content-Type: message/rfc822\r\n", inner)
	got, _ := walkLimits(t, strings.NewReader(msg), lim)
	require.Len(t, got, 5)
	assert.Equal(t, walked{Path: "2.1", Type: "application/octet-stream", Body: "hello\r\n", Defects: []DefectKind{DefectHeader}}, got[3])
	assert.Equal(t, "third part", got[4].Body)

	// ReadStructure gives the envelope from the fields kept, and the line
	// count of the message/rfc822 part includes its whole header.
	s, err := ReadStructureLimits(strings.NewReader(msg), lim)
	require.NoError(t, err)
	m := s.Children[1]
	require.NotNil(t, m.Envelope)
	assert.Equal(t, "inner", m.Envelope.Subject)
	assert.Equal(t, int64(strings.Count(inner, "\n")), m.Lines)
	assert.Equal(t, int64(len(inner)), m.Size)
	assert.Equal(t, []DefectKind{DefectHeader}, kinds(m.Children[0].Defects))
}

func TestTopHeaderOverLimit(t *testing.T) {
	// The message's own header over the limit: its body is still read,
	// and the multipart inside it when its Content-Type was kept.
	msg := threeParts("Content-Type: text/plain\r\n", "second")
	msg = strings.Replace(msg, "\r\n\r\n", "\r\n"+fields(30, 40)+"\r\n", 1)
	got, parts := walkLimits(t, strings.NewReader(msg), Limits{Header: message.Limits{MaxFields: 5}})
	require.Len(t, got, 4)
	assert.Equal(t, []DefectKind{DefectHeader}, got[0].Defects)
	assert.Equal(t, "multipart/mixed", got[0].Type)
	assert.Equal(t, 5, parts[0].Header.Len())
	assert.Equal(t, "second", got[2].Body)
	assert.Equal(t, "third part", got[3].Body)
}

func TestHeaderOverflowEnds(t *testing.T) {
	// However the header ends after the limit, the body starts where
	// message.ReadHeader would start it.
	lim := Limits{Header: message.Limits{MaxFields: 2}}
	tests := []struct {
		name, msg string
		body      string
		hdefects  int // defects of the message.Header
	}{
		{"blank line", "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\nbody", "body", 0},
		{"LF blank line", "A: 1\nB: 2\nC: 3\nD: 4\n\nbody", "body", 0},
		{"not a field", "A: 1\r\nB: 2\r\nC: 3\r\nno colon here\r\nbody", "no colon here\r\nbody", 1},
		{"invalid name", "A: 1\r\nB: 2\r\nC: 3\r\nbad name: x\r\nbody", "bad name: x\r\nbody", 1},
		{"bare CR", "A: 1\r\nB: 2\r\nC: 3\r\n\rbody", "\rbody", 1},
		{"EOF", "A: 1\r\nB: 2\r\nC: 3\r\nD: 4", "", 0},
		{"EOF after line end", "A: 1\r\nB: 2\r\nC: 3\r\n", "", 0},
		{"continuations", "A: 1\r\nB: 2\r\nC: 3\r\n 3b\r\n\t3c\r\n\r\nbody", "body", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for wname, wrap := range readerWraps {
				got, parts := walkLimits(t, wrap(strings.NewReader(tt.msg)), lim)
				require.Len(t, got, 1)
				assert.Equal(t, tt.body, got[0].Body, wname)
				assert.Equal(t, "application/octet-stream", got[0].Type, wname)
				// The cut, and the repairs message.ReadHeader made.
				want := []DefectKind{DefectHeader}
				for range tt.hdefects {
					want = append(want, DefectHeader)
				}
				assert.Equal(t, want, got[0].Defects, wname)
				assert.Contains(t, parts[0].Defects[0].Detail, "line 3: too many header fields; 2 fields kept", wname)
				if tt.hdefects > 0 {
					// The line number is that of the whole header.
					assert.Contains(t, parts[0].Defects[1].Detail, "line 4: ", wname)
				}
				assert.Equal(t, 2, parts[0].Header.Len(), wname)
				assert.Len(t, parts[0].Header.Defects(), tt.hdefects, wname)
				assert.Equal(t, int64(len(tt.msg)-len(tt.body)), parts[0].BodyOffset, wname)
			}
		})
	}
}

// TestHeaderWithinLimitsLong reads headers that are within the limits but
// do not lie in the buffer, or end without a blank line: they are read
// line by line, with the same result as message.ReadHeader.
func TestHeaderWithinLimitsLong(t *testing.T) {
	for _, hdr := range []string{
		"Content-Type: text/plain\r\n" + fields(900, 200) + "\r\n",                       // 180 KiB
		"Content-Type: text/plain\r\nX-Long: " + strings.Repeat("x", 16000) + "\r\n\r\n", // within the line limit
		"Content-Type: text/plain\r\n" + fields(10, 100),                                 // ends at EOF
		"Content-Type: text/plain\r\n" + fields(5000, 10) + "not a field\r\n",            // ends on a line that is no field
	} {
		msg := hdr + "body\r\n"
		_, parts := walkAll(t, strings.NewReader(msg))
		want, err := message.ReadHeader(bufio.NewReaderSize(strings.NewReader(msg), bufSize), message.Limits{MaxFields: 10000})
		require.NoError(t, err)
		_ = want
		require.Len(t, parts, 1)
		hd := want.Defects()
		if strings.Count(hdr, "\n") <= message.DefaultMaxFields {
			assert.Len(t, parts[0].Defects, len(hd))
			assert.Equal(t, want.Len(), parts[0].Header.Len())
			assert.Equal(t, "text", parts[0].MediaType.Type)
		} else {
			assert.Len(t, parts[0].Defects, 1+len(hd))
			assert.Equal(t, message.DefaultMaxFields, parts[0].Header.Len())
		}
		for _, d := range parts[0].Defects {
			assert.Equal(t, DefectHeader, d.Kind)
		}
	}
}

// TestHeaderOverflowPartsLimit checks that per-part header defects do not lift
// the limit on the number of parts.
func TestHeaderOverflowPartsLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range 20 {
		b.WriteString("--b\r\n" + fields(10, 20) + "\r\nx\r\n")
	}
	b.WriteString("--b--\r\n")
	mr := NewReaderLimits(strings.NewReader(b.String()), Limits{MaxParts: 10, Header: message.Limits{MaxFields: 3}})
	n := 0
	var err error
	for {
		var p *Part
		if p, err = mr.NextPart(); err != nil {
			break
		}
		if p.Parent != nil {
			assert.Equal(t, []DefectKind{DefectHeader}, kinds(p.Defects))
		}
		n++
	}
	assert.ErrorIs(t, err, ErrTooManyParts)
	assert.Equal(t, 10, n)
}

func TestTo7bitHeaderCut(t *testing.T) {
	msg := threeParts("Content-Type: text/plain\r\n"+fields(message.DefaultMaxFields+1, 20), "second")
	var out bytes.Buffer
	err := To7bit(&out, strings.NewReader(msg))
	require.Error(t, err)
	assert.ErrorIs(t, err, message.ErrTooManyFields)
	var he *message.HeaderError
	assert.True(t, errors.As(err, &he))
	assert.Contains(t, err.Error(), `part "2"`)
}

// TestPartMalformations checks that other malformations of one part are
// defects of that part: the walk, and ReadStructure, reach the parts after
// it with their bodies.
func TestPartMalformations(t *testing.T) {
	tests := []struct {
		name, header, body string
		// part 2 and what comes inside it
		want []walked
	}{
		{"unparsable Content-Type", "Content-Type: garbage\r\n", "abc",
			[]walked{{"2", "text/plain", "abc", []DefectKind{DefectSyntax}}}},
		{"Content-Type without subtype", "Content-Type: image/\r\n", "abc",
			[]walked{{"2", "text/plain", "abc", []DefectKind{DefectSyntax}}}},
		{"unknown transfer encoding", "Content-Transfer-Encoding: x-uuencode\r\n", "begin 644 x",
			[]walked{{"2", "text/plain", "begin 644 x", []DefectKind{DefectBadEncoding}}}},
		{"base64 with garbage", "Content-Transfer-Encoding: base64\r\n", "aGVs!!bG8*\x00\xff",
			[]walked{{"2", "text/plain", "hello", []DefectKind{DefectBadBase64, DefectBase64Padding}}}},
		{"base64 cut short", "Content-Transfer-Encoding: base64\r\n", "aGVsbG8",
			[]walked{{"2", "text/plain", "hello", []DefectKind{DefectBase64Padding}}}},
		{"bad quoted-printable", "Content-Transfer-Encoding: quoted-printable\r\n", "a=ZZb=4",
			[]walked{{"2", "text/plain", "a=ZZb=4", []DefectKind{DefectBadQuotedPrintable, DefectBadQuotedPrintable}}}},
		{"unknown charset", "Content-Type: text/plain; charset=x-klingon\r\n", "abc",
			[]walked{{"2", "text/plain", "abc", nil}}},
		{"multipart without boundary", "Content-Type: multipart/mixed\r\n", "abc",
			[]walked{{"2", "multipart/mixed", "abc", []DefectKind{DefectMissingBoundary}}}},
		{"multipart never closed", "Content-Type: multipart/mixed; boundary=in\r\n", "--in\r\n\r\ninner",
			[]walked{{"2", "multipart/mixed", "", []DefectKind{DefectMissingEndBoundary}}, {"2.1", "text/plain", "inner", nil}}},
		// A line that is not a field, followed by fields up to the blank
		// line, stays in the header (it ended the header before).
		{"invalid field name", "Content-Type: text/html\r\nBad Name: x\r\n", "abc",
			[]walked{{"2", "text/html", "abc", []DefectKind{DefectHeader}}}},
		{"invalid field name, body after", "Content-Type: text/html\r\nBad Name: x\r\nmore text\r\n", "abc",
			[]walked{{"2", "text/html", "Bad Name: x\r\nmore text\r\n\r\nabc", []DefectKind{DefectHeader}}}},
		{"continuation first", " folded\r\nContent-Type: text/html\r\n", "abc",
			[]walked{{"2", "text/html", "abc", []DefectKind{DefectHeader}}}},
		{"NUL and 8-bit in a header", "Content-Type: text/plain\r\nSubject: \x00\xff\r\n", "abc",
			[]walked{{"2", "text/plain", "abc", nil}}},
		{"base64 message/rfc822", "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n", "U3ViamVjdDogeA0KDQpi",
			[]walked{{"2", "message/rfc822", "Subject: x\r\n\r\nb", nil}}},
		{"message/rfc822 that is no message", "Content-Type: message/rfc822\r\n", "no header here",
			[]walked{{"2", "message/rfc822", "", nil}, {"2.1", "text/plain", "no header here", []DefectKind{DefectHeader}}}},
		{"boundary too long", "Content-Type: multipart/mixed; boundary=" + strings.Repeat("x", maxBoundary+1) + "\r\n", "abc",
			[]walked{{"2", "multipart/mixed", "abc", []DefectKind{DefectBadBoundary}}}},
		{"parameters in a mess", "Content-Type: text/plain; a=1 b=2; a=3; name==?utf-8?q?x?=;\r\n", "abc",
			[]walked{{"2", "text/plain", "abc", []DefectKind{DefectMissingSemicolon, DefectUnquotedSpecials, DefectTrailingSemicolon, DefectDuplicateParam, DefectEncodedWordParam}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := threeParts(tt.header, tt.body)
			for wname, wrap := range readerWraps {
				got, parts := walkAll(t, wrap(strings.NewReader(msg)))
				require.Len(t, got, 3+len(tt.want), wname)
				assert.Equal(t, walked{Path: "1", Type: "text/plain", Body: "first part"}, got[1], wname)
				assert.Equal(t, tt.want, got[2:len(got)-1], wname)
				assert.Equal(t, walked{Path: "3", Type: "application/octet-stream", Body: "third part"}, got[len(got)-1], wname)
				assert.Equal(t, "epilogue\r\n", string(parts[0].Epilogue), wname)
			}
			s, err := ReadStructure(strings.NewReader(msg))
			require.NoError(t, err)
			require.Len(t, s.Children, 3)
			assert.Equal(t, Path{3}, s.Children[2].Path)
		})
	}
	// An unknown charset leaves the bytes reachable.
	msg := threeParts("Content-Type: text/plain; charset=x-klingon\r\n", "abc")
	n := 0
	require.NoError(t, Walk(strings.NewReader(msg), func(p *Part) error {
		n++
		if p.Path.String() == "2" {
			r, err := p.Text()
			var ce *CharsetError
			assert.ErrorAs(t, err, &ce)
			b, _ := io.ReadAll(r)
			assert.Equal(t, "abc", string(b))
		}
		return nil
	}))
	assert.Equal(t, 4, n)
}

// TestHeaderEndsAtDelimiter checks that a part header ended by a
// delimiter line, with no blank line, is no defect (RFC 2046 §5.1.1 allows
// a part with no body), while one ended by any other line that is no field
// is.
func TestHeaderEndsAtDelimiter(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\n" + // header, no body
		"--b\r\nContent-Type: text/html\r\nnot a field\r\n" + // a line read as body
		"--b  \r\nContent-Type: multipart/alternative; boundary=c\r\n--b--\r\n"
	got, parts := walkAll(t, strings.NewReader(msg))
	assert.Equal(t, []walked{
		{Path: "", Type: "multipart/mixed"},
		{Path: "1", Type: "text/html"},
		{Path: "2", Type: "text/html", Body: "not a field", Defects: []DefectKind{DefectHeader}},
		{Path: "3", Type: "multipart/alternative", Defects: []DefectKind{DefectMissingEndBoundary, DefectNoParts}},
	}, got)
	assert.Contains(t, parts[2].Defects[0].Detail, "line 2: line is not a header field")
}

// TestInteropDovecotHeaderCut compares with Dovecot, which has no limit on
// part headers, the structure of messages whose part headers are over the
// default limits, with their Content-* fields before the limit: sizes, line
// counts and types agree, and the parts after them are all there.
func TestInteropDovecotHeaderCut(t *testing.T) {
	peer.Path(t, "dovecot")
	ct := "Content-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\nContent-ID: <c@example.org>\r\n"
	inner := "From: a@example.org\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=in\r\n" + fields(1500, 40) +
		"\r\n--in\r\nContent-Type: text/plain\r\n\r\nplain\r\n--in\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--in--\r\n"
	msgs := map[string][]byte{
		"fields":    []byte(threeParts(ct+fields(1500, 40), "café\r\nline two\r\n")),
		"line":      []byte(threeParts(ct+"X-Long: "+strings.Repeat("a", 40000)+"\r\n", "café\r\nline two\r\n")),
		"bytes":     []byte(threeParts(ct+fields(900, 400), "café\r\nline two\r\n")),
		"rfc822":    []byte(threeParts("Content-Type: message/rfc822\r\n", inner)),
		"top+parts": []byte(strings.Replace(threeParts(ct+fields(1200, 30), "x"), "\r\n\r\n", "\r\n"+fields(1200, 30)+"\r\n", 1)),
	}
	for name, dv := range dovecotStructures(t, msgs) {
		s, err := ReadStructure(bytes.NewReader(msgs[name]))
		require.NoError(t, err, name)
		for _, diff := range compareStructure(name, dv, s) {
			t.Error(diff)
		}
		var cut int
		var count func(*Structure)
		count = func(s *Structure) {
			for _, d := range s.Defects {
				if d.Kind == DefectHeader {
					cut++
				}
			}
			for _, c := range s.Children {
				count(c)
			}
		}
		count(s)
		assert.NotZero(t, cut, name)
	}
}

// hugeHeader is an io.Reader of a message whose second part has a header
// of size bytes, made on the fly.
type hugeHeader struct {
	head, tail []byte
	line       []byte
	left       int64
	cur        []byte
	w          *heapWatcher
	read       int64
}

func newHugeHeader(size int64, line []byte, w *heapWatcher) *hugeHeader {
	if len(line) < 64<<10 {
		size -= size % int64(len(line)) // whole lines, then the blank line
	}
	return &hugeHeader{
		head: []byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: text/plain\r\n"),
		line: line,
		tail: []byte("\r\ntwo\r\n--b\r\n\r\nthree\r\n--b--\r\n"),
		left: size,
		w:    w,
	}
}

func (m *hugeHeader) Read(p []byte) (int, error) {
	for len(m.cur) == 0 {
		switch {
		case m.head != nil:
			m.cur, m.head = m.head, nil
		case m.left > 0:
			m.cur = m.line[:min(int64(len(m.line)), m.left)]
			m.left -= int64(len(m.cur))
		case m.tail != nil:
			m.cur, m.tail = m.tail, nil
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, m.cur)
	m.cur = m.cur[n:]
	if m.w != nil {
		m.w.Write(p[:n])
	}
	return n, nil
}

// TestHugePartHeaderMemory streams a part header of 64 MiB (8 MiB with
// -short or -race) through the reader: the walk reaches the parts after it
// and the heap does not grow with the header.
func TestHugePartHeaderMemory(t *testing.T) {
	size := int64(64 << 20)
	if testing.Short() || raceEnabled {
		size = 8 << 20
	}
	lines := map[string][]byte{
		// Many short fields, each a line.
		"fields": []byte(fields(1000, 64)),
		// One field continued over and over.
		"continuation": []byte(strings.Repeat(" "+strings.Repeat("c", 62)+"\r\n", 1000)),
		// One line with no line break: a single over-long line.
		"one line": bytes.Repeat([]byte("y"), 64<<10),
	}
	for name, line := range lines {
		t.Run(name, func(t *testing.T) {
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			w := &heapWatcher{every: 4 << 20}
			src := newHugeHeader(size, append([]byte("X-Start: 1\r\n"), line...), w)
			if name == "one line" {
				src.line = line
				src.head = append(src.head, "X-Long: "...)
				src.tail = append([]byte("\r\n"), src.tail...)
			}
			var bodies []string
			var defects [][]DefectKind
			err := Walk(src, func(p *Part) error {
				b, err := io.ReadAll(p.Body())
				bodies = append(bodies, string(b))
				defects = append(defects, kinds(p.Defects))
				return err
			})
			require.NoError(t, err)
			w.sample()
			assert.Zero(t, src.left, "the whole header was read")
			assert.Equal(t, []string{"", "one", "two", "three"}, bodies)
			assert.Equal(t, [][]DefectKind{nil, nil, {DefectHeader}, nil}, defects)
			growth := int64(w.peak) - int64(base.HeapInuse)
			t.Logf("%d MiB header; heap in use before %d KiB, peak %d KiB (growth %d KiB)",
				size>>20, base.HeapInuse>>10, w.peak>>10, growth>>10)
			// The fields kept (256 KiB at most) and their parse, not the
			// header's size.
			assert.Less(t, growth, int64(4<<20), "heap grew with the header size")

			// ReadStructure, which counts lines, reads it as well.
			src = newHugeHeader(size, append([]byte("X-Start: 1\r\n"), line...), nil)
			if name == "one line" {
				src.line = line
				src.head = append(src.head, "X-Long: "...)
				src.tail = append([]byte("\r\n"), src.tail...)
			}
			s, err := ReadStructure(src)
			require.NoError(t, err)
			require.Len(t, s.Children, 3)
			c := s.Children[1]
			assert.Equal(t, Path{2}, c.Path)
			assert.Equal(t, "text", c.Type)
			assert.Equal(t, int64(len("two")), c.Size)
			assert.Equal(t, int64(0), c.Lines)
			assert.Equal(t, []DefectKind{DefectHeader}, kinds(c.Defects))
		})
	}
}

// FuzzPartHeader checks the reader's header reading, line counting
// included, against message.ReadHeaderLenient: the same fields, defects,
// cut and body. And the lenient read keeps every field the strict one
// (message.ReadHeaderWithin) keeps: the same name, and a Raw that starts
// with the same bytes.
func FuzzPartHeader(f *testing.F) {
	f.Add([]byte("A: 1\r\nB: 2\r\n\r\nbody"), 3, 100, 50)
	f.Add([]byte("A: 1\r\nB: 2\r\nC: 3\r\n\r\nbody"), 2, 100, 50)
	f.Add([]byte("A: 1\r\n b\r\n c\r\nB: 2\r\n\r\nbody"), 5, 20, 50)
	f.Add([]byte("A: 1\r\nB: 222222222222222\r\n\r\nbody"), 5, 100, 10)
	f.Add([]byte(" lead\r\nA: 1\r\nno field\r\nbody"), 5, 100, 50)
	f.Add([]byte("A: 1\r\n\rB: 2\r\n\r\nbody"), 5, 100, 50)
	f.Add([]byte("A: 1\nB : 2\nC\x00: 3\n\nbody"), 1, 100, 50)
	f.Add([]byte("A: 1\r\nB: 2"), 1, 100, 50)
	f.Add([]byte("Content-Type: multipart/mixed;\r\nboundary=b\r\n x=y\r\nC: 3\r\n\r\nbody"), 5, 100, 50)
	f.Add([]byte("\xEF\xBB\xBFFrom: a@b.test\nno field\n\nbody"), 5, 100, 50)
	f.Add([]byte("From a@b.test Mon Jan  1 00:00:00 2024\r\nSubject: x\r\n\r\nbody"), 5, 100, 50)
	f.Add([]byte("A: 1\r\n--b\r\nB: 2\r\n\r\nbody"), 5, 100, 50)
	f.Fuzz(func(t *testing.T, data []byte, maxFields, maxBytes, maxLine int) {
		lim := message.Limits{MaxFields: maxFields%64 + 1, MaxHeaderBytes: maxBytes%4096 + 1, MaxLineLength: maxLine%1024 + 1}
		br := bufio.NewReaderSize(bytes.NewReader(data), bufSize)
		want, wcut, werr := message.ReadHeaderLenient(br, lim)
		require.NoError(t, werr)
		rest, _ := io.ReadAll(br)

		r := NewReaderLimits(bytes.NewReader(data), Limits{Header: lim})
		r.CountLines = true
		h, cut, err := r.readHeader()
		require.NoError(t, err)
		consumed := r.offset()
		assert.Equal(t, int64(bytes.Count(data[:consumed], []byte{'\n'})), r.nl, "line count")
		if cut == nil {
			// (The lines a cut header skips count as CRLF.)
			assert.Equal(t, int64(bytes.Count(data[:consumed], []byte{'\n'})-bytes.Count(data[:consumed], []byte("\r\n"))), r.bareLF, "bare LF count")
		}
		body, _ := io.ReadAll(r.br)
		assert.Equal(t, string(rest), string(body))
		require.Equal(t, want.Len(), h.Len())
		for i := range h.Len() {
			assert.Equal(t, want.Field(i).Raw, h.Field(i).Raw)
		}
		assert.Equal(t, want.Defects(), h.Defects())
		require.Equal(t, wcut == nil, cut == nil)
		if cut != nil {
			assert.Equal(t, *wcut.Err, *cut.Err)
			assert.Equal(t, wcut.Skipped, cut.Skipped)
			// What was skipped is what was consumed and neither kept
			// nor the blank line.
			var kept int64
			for i := range h.Len() {
				kept += int64(len(h.Field(i).Raw))
			}
			assert.LessOrEqual(t, cut.Skipped, consumed-kept)
		}

		sbr := bufio.NewReaderSize(bytes.NewReader(data), bufSize)
		strict, _, err := message.ReadHeaderWithin(sbr, lim)
		require.NoError(t, err)
		require.GreaterOrEqual(t, h.Len(), strict.Len())
		for i := range strict.Len() {
			sf, lf := strict.Field(i), h.Field(i)
			assert.Equal(t, sf.Name, lf.Name)
			assert.True(t, bytes.HasPrefix(lf.Raw, sf.Raw), "field %d: %q, strict %q", i, lf.Raw, sf.Raw)
		}
	})
}

func TestHeaderFitsFuzzSeeds(t *testing.T) {
	// One header straddling many buffer refills, through a one-byte reader.
	msg := threeParts("Content-Type: text/plain\r\n"+fields(200, 50), "second")
	got, _ := walkLimits(t, iotest.OneByteReader(strings.NewReader(msg)), Limits{})
	require.Len(t, got, 4)
	assert.Equal(t, "second", got[2].Body)
	assert.Empty(t, got[2].Defects)
}

// manyParts is a multipart message of n small parts, the case where header
// reading dominates a walk.
func manyParts(n int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--=_b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\nContent-Disposition: inline; filename=\"part%d.txt\"\r\nContent-ID: <p%d@example.org>\r\n\r\nbody of part %d\r\n", i, i, i)
	}
	b.WriteString("--=_b--\r\n")
	return []byte(b.String())
}

func BenchmarkWalkManyParts(b *testing.B) {
	msg := manyParts(2000)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		err := Walk(bytes.NewReader(msg), func(p *Part) error {
			_, err := io.Copy(io.Discard, p.Body())
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
