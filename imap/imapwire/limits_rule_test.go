package imapwire

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestLimitsRule: zero is the default, negative no limit for the streamed
// literal and the hard maximum for the limits that bound memory, which no
// explicit value passes either.
func TestLimitsRule(t *testing.T) {
	z := Limits{}.withDefaults()
	assert.Equal(t, Limits{MaxLine: DefaultMaxLine, MaxStringLiteral: DefaultMaxStringLiteral,
		MaxLiteral: DefaultMaxLiteral, MaxDepth: DefaultMaxDepth, MaxCommand: DefaultMaxCommand}, z)
	n := Limits{MaxLine: -1, MaxStringLiteral: -1, MaxLiteral: -1, MaxDepth: -1, MaxCommand: -1}.withDefaults()
	assert.Equal(t, Limits{MaxLine: HardMaxLine, MaxStringLiteral: HardMaxStringLiteral,
		MaxLiteral: math.MaxInt64, MaxDepth: HardMaxDepth, MaxCommand: HardMaxCommand}, n)
	big := Limits{MaxLine: HardMaxLine + 1, MaxDepth: HardMaxDepth + 1}.withDefaults()
	assert.Equal(t, int64(HardMaxLine), big.MaxLine)
	assert.Equal(t, HardMaxDepth, big.MaxDepth)
	e := Limits{MaxLine: 7, MaxStringLiteral: 7, MaxLiteral: 7, MaxDepth: 7, MaxCommand: 7}.withDefaults()
	assert.Equal(t, Limits{MaxLine: 7, MaxStringLiteral: 7, MaxLiteral: 7, MaxDepth: 7, MaxCommand: 7}, e)
}
