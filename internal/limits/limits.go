// Package limits applies the module's one rule for the Limits structs of
// its servers and codecs: a zero field means the documented default, a
// negative one means no limit, except for limits that bound memory, which
// never pass a documented hard maximum.
package limits

import "time"

// Number is the type of a limit.
type Number interface {
	~int | ~int64
}

// Or sets *v to def when it is 0 and to unlimited (the value the code
// that reads it takes as no limit) when it is negative.
func Or[T Number](v *T, def, unlimited T) {
	switch {
	case *v == 0:
		*v = def
	case *v < 0:
		*v = unlimited
	}
}

// Bounded sets *v to def when it is 0, and to hard when it is negative or
// above hard.
func Bounded[T Number](v *T, def, hard T) {
	switch {
	case *v == 0:
		*v = def
	case *v < 0 || *v > hard:
		*v = hard
	}
}

// Deadline returns the time d from now, or the zero time (no deadline)
// when d is not positive.
func Deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}
