package limits

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestOr(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, 10}, {-1, 99}, {-50, 99}, {3, 3}} {
		v := tt.in
		Or(&v, 10, 99)
		assert.Equal(t, tt.want, v, "in %d", tt.in)
	}
	d := time.Duration(0)
	Or(&d, time.Minute, 0)
	assert.Equal(t, time.Minute, d)
}

func TestBounded(t *testing.T) {
	for _, tt := range []struct{ in, want int64 }{{0, 10}, {-1, 100}, {3, 3}, {100, 100}, {101, 100}} {
		v := tt.in
		Bounded(&v, 10, 100)
		assert.Equal(t, tt.want, v, "in %d", tt.in)
	}
}

func TestDeadline(t *testing.T) {
	assert.True(t, Deadline(0).IsZero())
	assert.True(t, Deadline(-time.Second).IsZero())
	assert.WithinDuration(t, time.Now().Add(time.Minute), Deadline(time.Minute), time.Second)
}
