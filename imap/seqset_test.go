package imap

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSeqSet(t *testing.T) {
	tests := []struct {
		in   string
		want SeqSet
		err  bool
	}{
		{in: "1", want: SeqSet{{1, 1}}},
		{in: "1:4,7,9:*", want: SeqSet{{1, 4}, {7, 7}, {9, Star}}},
		{in: "*", want: SeqSet{{Star, Star}}},
		{in: "*:4", want: SeqSet{{Star, 4}}},
		{in: "4294967295", want: SeqSet{{math.MaxUint32, math.MaxUint32}}},
		{in: "", err: true},
		{in: "0", err: true},
		{in: "1:0", err: true},
		{in: "4294967296", err: true},
		{in: "1,", err: true},
		{in: ",1", err: true},
		{in: "1::2", err: true},
		{in: "a", err: true},
		{in: "-1", err: true},
		{in: "+1", err: true},
		{in: "1 2", err: true},
	}
	for _, tt := range tests {
		got, err := ParseSeqSet(tt.in)
		if tt.err {
			var se *SyntaxError
			assert.ErrorAs(t, err, &se, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, tt.in, got.String(), "round trip")
	}
}

func TestSeqSetNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1", "1"},
		{"4:1", "1:4"},
		{"5,1,3,2,4", "1:5"},
		{"1:3,2:6,8", "1:6,8"},
		{"1:3,4:6", "1:6"},
		{"7:*,3,*", "3,7:*"},
		{"*:5,2", "2,5:*"},
		{"5,*", "5,*"},
		{"4294967295,*", "4294967295,*"},
		{"4294967294,4294967295", "4294967294:4294967295"},
	}
	for _, tt := range tests {
		s, err := ParseSeqSet(tt.in)
		require.NoError(t, err)
		assert.Equal(t, tt.want, s.Normalize().String(), tt.in)
		// Normalising changes no membership.
		for _, n := range []uint32{1, 2, 3, 4, 5, 6, 7, 8, 100, math.MaxUint32} {
			assert.Equal(t, s.Contains(n), s.Normalize().Contains(n), "%s contains %d", tt.in, n)
		}
	}
}

func TestSeqSetContainsResolve(t *testing.T) {
	s, err := ParseSeqSet("2:4,10:*")
	require.NoError(t, err)
	assert.False(t, s.Contains(1))
	assert.True(t, s.Contains(3))
	assert.False(t, s.Contains(5))
	assert.True(t, s.Contains(10))
	assert.True(t, s.Contains(math.MaxUint32))
	assert.False(t, s.Contains(0))
	assert.True(t, s.Dynamic())

	// RFC 3501 §9: "*:4" with 3 messages is "3:4".
	r := s.Resolve(7)
	assert.Equal(t, "2:4,7:10", r.String())
	assert.False(t, r.Dynamic())
	assert.Equal(t, []uint32{2, 3, 4, 7, 8, 9, 10}, slices.Collect(s.All(7)))
	assert.EqualValues(t, 7, s.Count(7))
	assert.Empty(t, slices.Collect(SeqSet{{Star, Star}}.All(0)))

	// A huge range is counted and iterated without expanding.
	big := SeqSet{{1, Star}}
	assert.EqualValues(t, math.MaxUint32, big.Count(math.MaxUint32))
	n := 0
	for v := range big.All(math.MaxUint32) {
		n++
		if v == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
	_, ok := big.Nums()
	assert.False(t, ok)
	nums, ok := SeqSet{{3, 1}, {7, 7}}.Nums()
	assert.True(t, ok)
	assert.Equal(t, []uint32{1, 2, 3, 7}, nums)
}

func TestSeqSetAdd(t *testing.T) {
	var s UIDSet
	s.AddNum(1, 2, 3, 5, 6, 9, 9)
	s.AddRange(20, Star)
	assert.Equal(t, "1:3,5:6,9,20:*", s.String())
	assert.True(t, s.Contains(21))
	assert.Equal(t, "4,8", SeqSetNum(4, 8).String())
	assert.Equal(t, "4:5", UIDSetNum(4, 5).String())
	assert.Equal(t, "*", SeqSetNum(0).String())
}

func TestParseNumber(t *testing.T) {
	n, err := ParseNumber("9223372036854775807", 63)
	require.NoError(t, err)
	assert.EqualValues(t, math.MaxInt64, n)
	_, err = ParseNumber("9223372036854775808", 63)
	assert.Error(t, err)
	_, err = ParseNumber("18446744073709551616", 63)
	assert.Error(t, err)
	_, err = ParseNumber("4294967296", 32)
	assert.Error(t, err)
	n, err = ParseNumber("4294967295", 32)
	require.NoError(t, err)
	assert.EqualValues(t, math.MaxUint32, n)
	_, err = ParseNumber("", 32)
	assert.Error(t, err)
}
