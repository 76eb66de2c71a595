package netutil

import "os"

// Hostname is the name a server gives itself when its Hostname field is
// empty: os.Hostname(), or "localhost" when that fails.
func Hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}
