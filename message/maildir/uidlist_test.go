package maildir

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSortKeysArrivalOrder(t *testing.T) {
	keys := []string{"20.M5P1.h", "10.M1000P1.h", "10.M999P1.h", "10.M999P0.h", "9.x", "nodot", "10.Q3.h"}
	sortKeys(keys)
	assert.Equal(t, []string{"nodot", "9.x", "10.Q3.h", "10.M999P0.h", "10.M999P1.h", "10.M1000P1.h", "20.M5P1.h"}, keys)
}
