package auth

import (
	"fmt"
)

func malformed(mech, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, mech, fmt.Sprintf(format, args...))
}

func failed(mech, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrAuthFailed, mech, fmt.Sprintf(format, args...))
}

func tooLong(mech string, n, max int) error {
	return fmt.Errorf("%w: %s: %d bytes, limit %d", ErrTooLong, mech, n, max)
}

func unexpected(mech string) error {
	return fmt.Errorf("%w: %s: exchange already over", ErrUnexpected, mech)
}

func maxOr(n int) int {
	if n <= 0 {
		return DefaultMaxSize
	}
	return n
}
