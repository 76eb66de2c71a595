package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progressMin is the smallest transfer that shows progress.
const progressMin = 1 << 20

// showProgress reports whether progress lines are wanted: only when standard
// error, where they go, is a terminal, so that scripts and logs get clean
// output.
var showProgress = func() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress prints "label 1.5 MiB / 4.0 MiB (37%)" on one line of w,
// rewritten at most ten times a second.
type progress struct {
	w     io.Writer
	label string
	total int64
	done  int64
	last  time.Time
	on    bool
}

func newProgress(w io.Writer, label string, total int64) *progress {
	return &progress{w: w, label: label, total: total, on: total >= progressMin && showProgress()}
}

func (p *progress) add(n int64) {
	p.done += n
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.print()
}

func (p *progress) print() {
	pct := int64(100)
	if p.total > 0 {
		pct = min(100, p.done*100/p.total)
	}
	fmt.Fprintf(p.w, "\r%s %s / %s (%d%%)", p.label, size(p.done), size(p.total), pct)
}

// finish prints the final state and ends the line when progress was
// shown, once: later calls do nothing, so that it can also be deferred for
// the error paths (an error message must not continue the progress line).
func (p *progress) finish() {
	if p.on && !p.last.IsZero() {
		p.print()
		fmt.Fprintln(p.w)
	}
	p.on = false
}

// reader counts what is read through r.
func (p *progress) reader(r io.Reader) io.Reader { return &progressReader{r: r, p: p} }

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.add(int64(n))
	return n, err
}

// size formats a byte count for people.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
