package mbox

import (
	"bufio"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/message/maildir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMaildirRoundTrip(t *testing.T) {
	in := "From alice@a.example Wed Nov  4 03:04:05 2026\nReturn-Path: <alice@a.example>\nSubject: 1\nStatus: RO\nX-Status: AF\n\n>From quoted\n\n" +
		"From bob@b.example Wed Nov  4 04:04:05 2026\nSubject: 2\n\nbody 2\n\n" +
		"From c@c.example Wed Nov  4 05:04:05 2026\nSubject: 3\nX-Status: DT\n\n\n"
	d, err := maildir.Create(filepath.Join(t.TempDir(), "Maildir"))
	require.NoError(t, err)
	n, err := ToMaildir(d, NewReader(strings.NewReader(in)))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	list, err := d.List()
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, maildir.Flags("FRS"), list[0].Flags)
	assert.Equal(t, maildir.Flags(""), list[1].Flags)
	assert.Equal(t, maildir.Flags("DT"), list[2].Flags)
	assert.Equal(t, date, list[0].Date.UTC())
	f, err := d.Open(list[0].Key)
	require.NoError(t, err)
	b, _ := io.ReadAll(f)
	f.Close()
	assert.Equal(t, "Return-Path: <alice@a.example>\nSubject: 1\nStatus: RO\nX-Status: AF\n\nFrom quoted\n", string(b))

	var out bytes.Buffer
	w := NewWriter(&out)
	n, err = FromMaildir(w, d)
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	assert.Equal(t, 3, n)
	assert.Equal(t, "From alice@a.example Wed Nov  4 03:04:05 2026\nStatus: RO\nX-Status: AF\nReturn-Path: <alice@a.example>\nSubject: 1\n\n>From quoted\n\n"+
		"From MAILER-DAEMON Wed Nov  4 04:04:05 2026\nStatus: O\nSubject: 2\n\nbody 2\n\n"+
		"From MAILER-DAEMON Wed Nov  4 05:04:05 2026\nStatus: O\nX-Status: TD\nSubject: 3\n\n\n", out.String())
}

func TestDropFields(t *testing.T) {
	in := "A: 1\nstatus: x\n folded\nX-Status: y\nB: 2\r\n\r\nStatus: body\n"
	var got bytes.Buffer
	_, err := io.Copy(&got, &dropFields{br: bufioReader(in), lineStart: true, inHeader: true})
	require.NoError(t, err)
	assert.Equal(t, "A: 1\nB: 2\r\n\r\nStatus: body\n", got.String())
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 16) }

func TestHeaderFields(t *testing.T) {
	h := "Subject: s\r\nStatus: R\r\n O\r\nX-Status: A\nstatus: ignored\n\nStatus: body\n"
	assert.Equal(t, map[string]string{"status": "R O", "x-status": "A"}, headerFields([]byte(h), "status", "x-status"))
	// Many continuation lines: linear work (a quadratic join takes
	// seconds on this).
	long := "Status: R\n" + strings.Repeat(" x\n", 200000) + "\n"
	v := headerFields([]byte(long), "status")["status"]
	assert.Equal(t, 200001, len(strings.Fields(v)))
}
