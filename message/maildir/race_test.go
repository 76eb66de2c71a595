//go:build race

package maildir

const raceEnabled = true
