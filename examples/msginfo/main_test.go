package main

import (
	"os"
	"strings"
	"testing"

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
