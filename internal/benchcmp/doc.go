// Package benchcmp benchmarks mailwire side by side with peer libraries in one
// process. It is a module of its own so that the peers never become dependencies
// of mailwire itself.
//
// Benchmarks are named Benchmark<Area>/<impl>, so that ratios can be read off a
// single run:
//
//	cd internal/benchcmp && go test -run '^$' -bench . -benchmem -count 6 | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl bench.txt
package benchcmp
