//go:build !race

package maildir

const raceEnabled = false
