//go:build race

package dkim

// raceEnabled is true when the race detector slows every byte down.
const raceEnabled = true
