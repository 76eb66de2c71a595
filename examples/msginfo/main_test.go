package main

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	f, err := os.Open("../../internal/benchcmp/testdata/message/header.eml")
	require.NoError(t, err)
	defer f.Close()
	var out strings.Builder
	require.NoError(t, run(&out, f))
	s := out.String()
	assert.Contains(t, s, "From: \"Alice Müller\" <alice@example.com>")
	assert.Contains(t, s, "Date: Tue, 1 Jul 2025 10:52:37 +0200")
	assert.Contains(t, s, "Trace (8 hops")
	assert.Contains(t, s, "multipart/alternative")
	assert.Contains(t, s, "part 1: text/plain; charset=UTF-8, 6 bytes")
	assert.NotContains(t, s, "Problems:")
}

func TestRunPlain(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out, strings.NewReader("Subject: hi\n\nbody\n")))
	assert.Contains(t, out.String(), "text/plain, 5 bytes")
	assert.Contains(t, out.String(), "Date: missing")
}

func TestRunHostileText(t *testing.T) {
	var out strings.Builder
	in := "Subject: a\x1b]0;pwned\x07 b \xc2\x9b31m =?utf-8?q?=1B[2J?= " + strings.Repeat("é", 150) + "\n" +
		"To: x@[\x1b[1m]\n\nbody\n"
	require.NoError(t, run(&out, strings.NewReader(in)))
	s := out.String()
	assert.NotContains(t, s, "\x1b")
	assert.NotContains(t, s, "\x07")
	assert.NotContains(t, s, "\u009b")
	assert.True(t, utf8.ValidString(s), "output cut inside a character")
	assert.Contains(t, s, "a?]0;pwned? b ?31m ?[2J")
}
