package benchcmp

import (
	"syscall"
	"testing"
)

// reportCPU starts counting the process's CPU time; the function it returns
// reports it per op as cpu-ns/op. CPU time (garbage collection included) is
// steadier than wall time on a busy machine.
func reportCPU(b *testing.B) func() {
	cpu0 := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// cpuTime returns the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
