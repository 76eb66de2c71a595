package imap

import (
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Range is a range of message sequence numbers or UIDs (RFC 3501 §9
// seq-range). Zero stands for "*", the largest number in use. A range may
// be written in either order ("4:2" is "2:4"); Normalize orders it.
type Range struct {
	Start, Stop uint32
}

// Star is the value of a Range bound that stands for "*".
const Star uint32 = 0

func (r Range) lo() uint64 { return min(bound(r.Start), bound(r.Stop)) }
func (r Range) hi() uint64 { return max(bound(r.Start), bound(r.Stop)) }

// starBound is "*" in comparisons: above every uint32.
const starBound = math.MaxUint32 + 1

// bound maps "*" above the largest uint32, so that comparisons without a
// known maximum treat it as unbounded.
func bound(n uint32) uint64 {
	if n == Star {
		return starBound
	}
	return uint64(n)
}

func unbound(n uint64) uint32 {
	if n == starBound {
		return Star
	}
	return uint32(n)
}

// Contains reports whether n falls in r, "*" taken as unbounded.
func (r Range) Contains(n uint32) bool {
	return n != 0 && r.lo() <= uint64(n) && uint64(n) <= r.hi() && uint64(n) != starBound
}

func (r Range) appendTo(b []byte) []byte {
	b = appendSeqNum(b, r.Start)
	if r.Stop != r.Start {
		b = append(b, ':')
		b = appendSeqNum(b, r.Stop)
	}
	return b
}

func appendSeqNum(b []byte, n uint32) []byte {
	if n == Star {
		return append(b, '*')
	}
	return strconv.AppendUint(b, uint64(n), 10)
}

// SeqSet is a set of message sequence numbers (RFC 3501 §9 sequence-set).
// The zero value is the empty set, which has no wire form.
type SeqSet []Range

// UIDSet is a set of UIDs: the same syntax as SeqSet, a different number
// space (RFC 3501 §2.3.1.1). Keeping the types apart stops a sequence set
// from being sent where UIDs are meant.
type UIDSet []Range

// SeqSetNum returns the set of the given numbers.
func SeqSetNum(nums ...uint32) SeqSet {
	var s SeqSet
	s.AddNum(nums...)
	return s
}

// UIDSetNum returns the set of the given UIDs.
func UIDSetNum(uids ...uint32) UIDSet {
	var s UIDSet
	s.AddNum(uids...)
	return s
}

// ParseSeqSet parses a sequence-set ("1:4,7,9:*").
func ParseSeqSet(s string) (SeqSet, error) {
	r, err := parseRanges(s, "sequence set")
	return SeqSet(r), err
}

// ParseUIDSet parses a UID set; the syntax is that of ParseSeqSet.
func ParseUIDSet(s string) (UIDSet, error) {
	r, err := parseRanges(s, "UID set")
	return UIDSet(r), err
}

func parseRanges(s, what string) ([]Range, error) {
	if s == "" {
		return nil, &SyntaxError{What: what, Input: s, Msg: "empty"}
	}
	out := make([]Range, 0, min(strings.Count(s, ",")+1, 64))
	for part := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(part, ":")
		start, err := parseSeqNum(a)
		if err != nil {
			return nil, &SyntaxError{What: what, Input: s, Msg: err.Error()}
		}
		stop := start
		if isRange {
			if stop, err = parseSeqNum(b); err != nil {
				return nil, &SyntaxError{What: what, Input: s, Msg: err.Error()}
			}
		}
		out = append(out, Range{start, stop})
	}
	return out, nil
}

// parseSeqNum parses seq-number: nz-number or "*".
func parseSeqNum(s string) (uint32, error) {
	if s == "*" {
		return Star, nil
	}
	n, err := ParseNumber(s, 32)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errString("0 is not a valid sequence number or UID")
	}
	return uint32(n), nil
}

type errString string

func (e errString) Error() string { return string(e) }

// ParseNumber parses an unsigned decimal number of at most bits bits (32
// for number and nz-number, 63 for number64 of RFC 9051 §9): digits only, no
// sign, no overflow.
func ParseNumber(s string, bits int) (uint64, error) {
	if s == "" {
		return 0, errString("expected a number")
	}
	limit := uint64(1)<<bits - 1
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errString("invalid number " + strconv.Quote(s))
		}
		if n > (limit-uint64(c-'0'))/10 {
			return 0, errString("number " + s + " out of range")
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

// The methods below are shared by SeqSet and UIDSet through these
// functions on []Range.

func rangesString(r []Range) string {
	b := make([]byte, 0, 8*len(r))
	for i, x := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = x.appendTo(b)
	}
	return string(b)
}

func rangesContains(r []Range, n uint32) bool {
	for _, x := range r {
		if x.Contains(n) {
			return true
		}
	}
	return false
}

func rangesDynamic(r []Range) bool {
	for _, x := range r {
		if x.Start == Star || x.Stop == Star {
			return true
		}
	}
	return false
}

// normalize orders each range and the ranges, and merges those that overlap
// or touch. "*" sorts last.
func normalize(r []Range) []Range {
	if len(r) == 0 {
		return r
	}
	type span struct{ lo, hi uint64 }
	sp := make([]span, len(r))
	for i, x := range r {
		sp[i] = span{x.lo(), x.hi()}
	}
	slices.SortFunc(sp, func(a, b span) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	n := 0
	for _, x := range sp[1:] {
		cur := &sp[n]
		// "*" does not touch a number below it: "5,*" is not "5:*".
		if x.lo <= cur.hi || x.lo == cur.hi+1 && x.lo != starBound {
			cur.hi = max(cur.hi, x.hi)
			continue
		}
		n++
		sp[n] = x
	}
	out := make([]Range, n+1)
	for i, x := range sp[:n+1] {
		out[i] = Range{unbound(x.lo), unbound(x.hi)}
	}
	return out
}

// resolve replaces "*" by max and normalises. With max 0 (an empty
// mailbox) a range that involves "*" selects nothing.
func resolve(r []Range, maxNum uint32) []Range {
	out := make([]Range, 0, len(r))
	for _, x := range r {
		if x.Start == Star || x.Stop == Star {
			if maxNum == 0 {
				continue
			}
			if x.Start == Star {
				x.Start = maxNum
			}
			if x.Stop == Star {
				x.Stop = maxNum
			}
		}
		out = append(out, x)
	}
	return normalize(out)
}

func rangesAll(r []Range, maxNum uint32) iter.Seq[uint32] {
	res := resolve(r, maxNum)
	return func(yield func(uint32) bool) {
		for _, x := range res {
			for n := uint64(x.Start); n <= uint64(x.Stop); n++ {
				if !yield(uint32(n)) {
					return
				}
			}
		}
	}
}

func rangesCount(r []Range, maxNum uint32) uint64 {
	var n uint64
	for _, x := range resolve(r, maxNum) {
		n += uint64(x.Stop) - uint64(x.Start) + 1
	}
	return n
}

func rangesNums(r []Range) ([]uint32, bool) {
	if rangesDynamic(r) {
		return nil, false
	}
	var out []uint32
	for _, x := range normalize(r) {
		for n := uint64(x.Start); n <= uint64(x.Stop); n++ {
			out = append(out, uint32(n))
		}
	}
	return out, true
}

func addNums(r []Range, nums []uint32) []Range {
	for _, n := range nums {
		if len(r) > 0 {
			last := &r[len(r)-1]
			if last.Start != Star && last.Stop != Star && last.Start <= last.Stop {
				if n == last.Stop+1 && n != 0 {
					last.Stop = n
					continue
				}
				if n >= last.Start && n <= last.Stop {
					continue
				}
			}
		}
		r = append(r, Range{n, n})
	}
	return r
}

// String returns the wire form ("1:4,7,9:*"); "" for the empty set.
func (s SeqSet) String() string { return rangesString(s) }

// Contains reports whether n is in the set, taking "*" as unbounded ("5:*"
// contains every n >= 5, "*" alone contains no number). Without knowing the
// mailbox's largest number that is the best answer; with it, use
// Resolve(max).Contains.
func (s SeqSet) Contains(n uint32) bool { return rangesContains(s, n) }

// Dynamic reports whether the set uses "*".
func (s SeqSet) Dynamic() bool { return rangesDynamic(s) }

// Normalize returns the set sorted, with overlapping and adjacent ranges
// merged and each range in ascending order. The receiver is not modified.
func (s SeqSet) Normalize() SeqSet { return SeqSet(normalize(s)) }

// Resolve returns the set with "*" replaced by max, the largest number in
// use, normalised (RFC 3501 §9: "*:4" with 3 messages is "3:4"). With max 0,
// ranges that involve "*" select nothing.
func (s SeqSet) Resolve(max uint32) SeqSet { return SeqSet(resolve(s, max)) }

// All iterates over the numbers of the set in ascending order, each once,
// "*" being max. It expands lazily: memory does not grow with the range.
func (s SeqSet) All(max uint32) iter.Seq[uint32] { return rangesAll(s, max) }

// Count returns how many numbers the set holds, "*" being max, without
// expanding it.
func (s SeqSet) Count(max uint32) uint64 { return rangesCount(s, max) }

// Nums returns the numbers of a set without "*", ascending; ok is false for
// a dynamic set.
func (s SeqSet) Nums() (nums []uint32, ok bool) { return rangesNums(s) }

// AddNum adds numbers, extending the last range when they follow it.
// Zero adds "*".
func (s *SeqSet) AddNum(nums ...uint32) { *s = addNums(*s, nums) }

// AddRange adds the range start:stop (0 for "*").
func (s *SeqSet) AddRange(start, stop uint32) { *s = append(*s, Range{start, stop}) }

// String returns the wire form ("1:4,7,9:*"); "" for the empty set.
func (s UIDSet) String() string { return rangesString(s) }

// Contains is SeqSet.Contains for UIDs.
func (s UIDSet) Contains(uid uint32) bool { return rangesContains(s, uid) }

// Dynamic reports whether the set uses "*".
func (s UIDSet) Dynamic() bool { return rangesDynamic(s) }

// Normalize is SeqSet.Normalize for UIDs.
func (s UIDSet) Normalize() UIDSet { return UIDSet(normalize(s)) }

// Resolve is SeqSet.Resolve for UIDs; max is the largest UID in use (RFC
// 3501 §6.4.8: "*" is the UID of the last message, so "n:*" always selects
// at least that message).
func (s UIDSet) Resolve(max uint32) UIDSet { return UIDSet(resolve(s, max)) }

// All is SeqSet.All for UIDs.
func (s UIDSet) All(max uint32) iter.Seq[uint32] { return rangesAll(s, max) }

// Count is SeqSet.Count for UIDs.
func (s UIDSet) Count(max uint32) uint64 { return rangesCount(s, max) }

// Nums is SeqSet.Nums for UIDs.
func (s UIDSet) Nums() (uids []uint32, ok bool) { return rangesNums(s) }

// AddNum is SeqSet.AddNum for UIDs.
func (s *UIDSet) AddNum(uids ...uint32) { *s = addNums(*s, uids) }

// AddRange adds the range start:stop (0 for "*").
func (s *UIDSet) AddRange(start, stop uint32) { *s = append(*s, Range{start, stop}) }
