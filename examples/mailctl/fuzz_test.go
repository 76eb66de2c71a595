package main

import (
	"bufio"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// FuzzEnvelopeSender: any message yields a sender fit for an mbox separator
// line, and file names made from UIDLs stay inside their directory.
func FuzzEnvelopeSender(f *testing.F) {
	f.Add("Return-Path: <a@b.example>\r\nSubject: x\r\n\r\nbody\r\n", "uid-1")
	f.Add("Return-Path: <>\r\n\r\n", "../..")
	f.Add("Return-Path: <a b@c>\r\n\r\n", "a/b")
	f.Add("no header", "")
	f.Fuzz(func(t *testing.T, msg, uid string) {
		s := envelopeSender(bufio.NewReaderSize(strings.NewReader(msg), 64<<10))
		assert.NotEmpty(t, s)
		assert.False(t, strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }), "sender %q", s)
		n := safeName(uid)
		assert.NotEmpty(t, n)
		assert.False(t, strings.ContainsAny(n, "/\\\x00"), "name %q", n)
		assert.False(t, strings.HasPrefix(n, "."), "name %q", n)
		fn := fileName(uid)
		assert.True(t, strings.HasSuffix(fn, ".eml"), "file name %q", fn)
		assert.False(t, strings.ContainsAny(fn, "/\\\x00"), "file name %q", fn)
		assert.False(t, strings.HasPrefix(fn, "."), "file name %q", fn)
	})
}
