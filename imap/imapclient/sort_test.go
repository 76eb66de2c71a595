package imapclient

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseThreads(t *testing.T) {
	// RFC 5256 §4's example.
	got, err := ParseThreads("(2)(3 6 (4 23)(44 7 96))")
	require.NoError(t, err)
	want := []Thread{
		{Num: 2},
		{Num: 3, Children: []Thread{{Num: 6, Children: []Thread{
			{Num: 4, Children: []Thread{{Num: 23}}},
			{Num: 44, Children: []Thread{{Num: 7, Children: []Thread{{Num: 96}}}}},
		}}}},
	}
	assert.Equal(t, want, got)

	got, err = ParseThreads("((3)(5))")
	require.NoError(t, err)
	assert.Equal(t, []Thread{{Children: []Thread{{Num: 3}, {Num: 5}}}}, got)

	got, err = ParseThreads("")
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, bad := range []string{"(", "(1", "1", "(0)", "(a)", "(1))", strings.Repeat("(", 2000) + strings.Repeat(")", 2000)} {
		_, err := ParseThreads(bad)
		assert.Error(t, err, bad)
	}
}
