package mime

import (
	"bytes"
	"io"
	stdmime "mime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTypeByFilename(t *testing.T) {
	tests := []struct{ name, want string }{
		{"go.mod", "text/plain"},
		{"go.sum", "text/plain"},
		{"main.go", "text/plain"},
		{"build.sh", "text/plain"},
		{"config.yaml", "text/plain"},
		{"server.log", "text/plain"},
		{"notes.txt", "text/plain"},
		{"NOTES.TXT", "text/plain"},
		{"index.html", "text/html"},
		{"Index.HTM", "text/html"},
		{"data.csv", "text/csv"},
		{"README.md", "text/markdown"},
		{"invite.ics", "text/calendar"},
		{"card.vcf", "text/vcard"},
		{"forwarded.eml", "message/rfc822"},
		{"report.pdf", "application/pdf"},
		{"data.json", "application/json"},
		{"feed.xml", "application/xml"},
		{"backup.tar.gz", "application/gzip"},
		{"backup.tar", "application/x-tar"},
		{"files.zip", "application/zip"},
		{"files.7z", "application/x-7z-compressed"},
		{"letter.doc", "application/msword"},
		{"letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"slides.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"letter.odt", "application/vnd.oasis.opendocument.text"},
		{"photo.JPG", "image/jpeg"},
		{"photo.jpeg", "image/jpeg"},
		{"logo.png", "image/png"},
		{"logo.svg", "image/svg+xml"},
		{"photo.heic", "image/heic"},
		{"favicon.ico", "image/vnd.microsoft.icon"},
		{"song.mp3", "audio/mpeg"},
		{"voice.m4a", "audio/mp4"},
		{"clip.mp4", "video/mp4"},
		{"clip.mov", "video/quicktime"},
		{`C:\Users\zoe\Desktop\report.pdf`, "application/pdf"},
		{"dir/sub/photo.png", "image/png"},
		{"Makefile", ""},
		{"archive.unknownext", ""},
		{"trailing.", ""},
		{"", ""},
		{`dir.pdf\file`, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, TypeByFilename(tt.name), tt.name)
	}
}

// The table is well-formed: lower-case extensions, parseable types
// without parameters, in the form ParseMediaType gives back.
func TestFileTypesTable(t *testing.T) {
	for ext, typ := range fileTypes {
		assert.True(t, strings.HasPrefix(ext, "."), ext)
		assert.Equal(t, strings.ToLower(ext), ext)
		mt, err := ParseMediaType(typ)
		require.NoError(t, err, ext)
		assert.Empty(t, mt.Params, ext)
		assert.Equal(t, typ, mt.String(), ext)
	}
	for from, to := range sniffedTypes {
		_, err := ParseMediaType(from)
		require.NoError(t, err, from)
		_, err = ParseMediaType(to)
		require.NoError(t, err, to)
	}
}

var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func TestGuessType(t *testing.T) {
	tests := []struct {
		name, file string
		data       []byte
		complete   bool
		typ, chset string
	}{
		{"table text utf-8", "go.mod", []byte("module example.org/x\n\ngo 1.26\n"), true, "text/plain", "utf-8"},
		{"table text non-ascii", "notes.txt", []byte("Grüße\n"), true, "text/plain", "utf-8"},
		{"table text latin-1", "notes.txt", []byte("Gr\xfc\xdfe\n"), true, "text/plain", ""},
		{"table text utf-16", "notes.txt", []byte("\xff\xfeh\x00i\x00"), true, "text/plain", "utf-16le"},
		{"table text empty", "empty.txt", []byte{}, true, "text/plain", "utf-8"},
		{"table wins over content", "photo.jpg", pngHeader, true, "image/jpeg", ""},
		{"table binary", "report.pdf", []byte("hello"), true, "application/pdf", ""},
		{"sniff png", "logo", pngHeader, true, "image/png", ""},
		{"sniff pdf", "scan", []byte("%PDF-1.7\n"), true, "application/pdf", ""},
		{"sniff gzip", "data.unknownext", []byte("\x1f\x8b\x08\x00\x00\x00"), true, "application/gzip", ""},
		{"sniff html", "page", []byte("<!DOCTYPE html><p>x"), true, "text/html", "utf-8"},
		{"sniff xml", "feed", []byte("<?xml version=\"1.0\"?><a/>"), true, "application/xml", ""},
		{"sniff text", "README", []byte("Read me.\n"), true, "text/plain", "utf-8"},
		{"sniff utf-16be", "README", []byte("\xfe\xff\x00h\x00i"), true, "text/plain", "utf-16be"},
		{"sniff latin-1 text", "README", []byte("Gr\xfc\xdfe\n"), true, "application/octet-stream", ""},
		{"sniff binary", "blob", []byte{0, 1, 2, 3, 0xff}, true, "application/octet-stream", ""},
		{"sniff empty", "empty", []byte{}, true, "application/octet-stream", ""},
		{"no name", "", []byte("just text"), true, "text/plain", "utf-8"},
		{"cut rune in sample", "a.txt", []byte("ab\xc3"), false, "text/plain", "utf-8"},
		{"cut rune at end of file", "a.txt", []byte("ab\xc3"), true, "text/plain", ""},
		{"cut 4-byte rune in sample", "a.txt", []byte("ab\xf0\x9f\x98"), false, "text/plain", "utf-8"},
		{"bad byte before end of sample", "a.txt", []byte("a\xffb"), false, "text/plain", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, chset := guessType(tt.file, tt.data, tt.complete)
			assert.Equal(t, tt.typ, typ)
			assert.Equal(t, tt.chset, chset)
		})
	}
}

// composedType returns the Content-Type of the single attachment of a
// mail that has only that attachment, and its decoded body.
func composedType(t *testing.T, a Attachment) (MediaType, string) {
	t.Helper()
	m := Mail{Text: "see attached", Attachments: []Attachment{a}}
	var buf bytes.Buffer
	_, err := m.WriteTo(&buf)
	require.NoError(t, err)
	got, parts := walkAll(t, &buf)
	require.Len(t, parts, 3)
	return parts[2].MediaType, got[2].Body
}

// The type of an attachment does not depend on the host's mime.types:
// it is the built-in table's, whatever the standard library says.
func TestComposeTypeIndependentOfHost(t *testing.T) {
	goMod := []byte("module example.org/x\n\ngo 1.26\n")
	for _, name := range []string{"go.mod", "go.sum", "main.go", "GO.MOD"} {
		t.Logf("host says %s is %q", name, stdmime.TypeByExtension(strings.ToLower(name[strings.LastIndexByte(name, '.'):])))
		for _, a := range []Attachment{
			{Filename: name, Data: goMod},
			{Filename: name, Reader: bytes.NewReader(goMod)},
		} {
			mt, body := composedType(t, a)
			assert.Equal(t, "text/plain", mt.String(), name)
			assert.Equal(t, "utf-8", mt.Param("charset"), name)
			assert.Equal(t, name, mt.Param("name"))
			assert.Equal(t, string(goMod), body)
		}
	}
	// Every table entry is what compose sends, for any content.
	for ext, typ := range fileTypes {
		mt, _ := composedType(t, Attachment{Filename: "file" + ext, Data: []byte{0xff, 0}})
		assert.Equal(t, typ, mt.String(), ext)
	}
}

func TestComposeSniffedType(t *testing.T) {
	big := append(append([]byte{}, pngHeader...), randomBytes(7, 100_000)...)
	tests := []struct {
		name    string
		a       Attachment
		typ     string
		charset string
		body    []byte
	}{
		{"png data", Attachment{Filename: "logo", Data: big}, "image/png", "", big},
		{"png reader", Attachment{Filename: "logo", Reader: bytes.NewReader(big)}, "image/png", "", big},
		{"png one byte reads", Attachment{Filename: "logo", Reader: iotest.OneByteReader(bytes.NewReader(big))}, "image/png", "", big},
		{"text reader", Attachment{Filename: "LICENSE", Reader: strings.NewReader("Permission is granted.\n")},
			"text/plain", "utf-8", []byte("Permission is granted.\n")},
		{"long utf-8 reader", Attachment{Filename: "NOTES", Reader: strings.NewReader(strings.Repeat("é", 40_000))},
			"text/plain", "utf-8", []byte(strings.Repeat("é", 40_000))},
		{"latin-1 reader", Attachment{Filename: "NOTES", Reader: strings.NewReader("caf\xe9\n")},
			"application/octet-stream", "", []byte("caf\xe9\n")},
		{"empty", Attachment{Filename: "empty"}, "application/octet-stream", "", []byte{}},
		{"explicit type kept as given", Attachment{Filename: "x.txt", ContentType: "text/plain", Data: []byte("é")},
			"text/plain", "", []byte("é")},
		{"explicit charset kept", Attachment{Filename: "x.txt", ContentType: "text/plain; charset=iso-8859-1", Data: []byte("caf\xe9")},
			"text/plain", "iso-8859-1", []byte("caf\xe9")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, body := composedType(t, tt.a)
			assert.Equal(t, tt.typ, mt.String())
			assert.Equal(t, tt.charset, mt.Param("charset"))
			assert.Equal(t, string(tt.body), body)
		})
	}
}

// A reader that fails while being sampled fails WriteTo, not silently.
func TestComposeReaderError(t *testing.T) {
	m := Mail{Text: "x", Attachments: []Attachment{{Filename: "f", Reader: iotest.ErrReader(io.ErrUnexpectedEOF)}}}
	_, err := m.WriteTo(io.Discard)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}
