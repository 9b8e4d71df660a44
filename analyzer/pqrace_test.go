//go:build race

package analyzer

// raceEnabled: the race detector is on (allocation counts do not hold).
const raceEnabled = true
