package mime

import "io"

// Stats describes what a body contains, for choosing a transfer encoding
// (RFC 2045 §2.7-2.9, RFC 5321 §4.5.3.1.6). It is an io.Writer: write the
// body to it, or use Analyze.
type Stats struct {
	Bytes       int64 // octets
	Lines       int64 // lines, counting an unterminated last line
	LongestLine int   // octets in the longest line, without its line break
	EightBit    int64 // octets with the high bit set
	NUL         int64 // NUL octets
	Control     int64 // other control characters than CR, LF, TAB and NUL
	CRLF        int64 // CRLF line breaks
	BareLF      int64 // LF not preceded by CR
	BareCR      int64 // CR not followed by LF

	col    int
	lastCR bool
}

// class bits for Stats.
var statClass [256]uint8

const (
	clsPlain = iota
	clsCR
	clsLF
	clsNUL
	clsCtl
	cls8bit
)

func init() {
	for c := 0; c < 256; c++ {
		switch {
		case c == '\r':
			statClass[c] = clsCR
		case c == '\n':
			statClass[c] = clsLF
		case c == 0:
			statClass[c] = clsNUL
		case c >= 0x80:
			statClass[c] = cls8bit
		case c < 0x20 && c != '\t' || c == 0x7f:
			statClass[c] = clsCtl
		}
	}
}

// Write adds p to the statistics. It never fails.
func (s *Stats) Write(p []byte) (int, error) {
	s.Bytes += int64(len(p))
	col, lastCR := s.col, s.lastCR
	for _, c := range p {
		cls := statClass[c]
		if cls == clsPlain {
			if lastCR {
				s.BareCR++
				lastCR = false
				col++
			}
			col++
			continue
		}
		switch cls {
		case clsCR:
			if lastCR {
				s.BareCR++
				col++
			}
			lastCR = true
			continue
		case clsLF:
			if lastCR {
				s.CRLF++
			} else {
				s.BareLF++
			}
			lastCR = false
			s.Lines++
			if col > s.LongestLine {
				s.LongestLine = col
			}
			col = 0
			continue
		case clsNUL:
			s.NUL++
		case clsCtl:
			s.Control++
		case cls8bit:
			s.EightBit++
		}
		if lastCR {
			s.BareCR++
			lastCR = false
			col++
		}
		col++
	}
	s.col, s.lastCR = col, lastCR
	return len(p), nil
}

func (s *Stats) finish() Stats {
	r := *s
	if r.lastCR {
		r.BareCR++
		r.lastCR = false
		r.col++
	}
	if r.col > 0 {
		r.Lines++
		if r.col > r.LongestLine {
			r.LongestLine = r.col
		}
	}
	r.col = 0
	return r
}

// Result returns the statistics of everything written, counting an
// unterminated last line.
func (s *Stats) Result() Stats { return s.finish() }

// Analyze reads r to the end and returns its statistics.
func Analyze(r io.Reader) (Stats, error) {
	var s Stats
	_, err := io.Copy(&s, r)
	return s.finish(), err
}

// maxLine is the longest line SMTP must carry (RFC 5321 §4.5.3.1.6: 1000
// octets with the CRLF).
const maxLine = 998

// Is7bit reports whether the body may be sent as 7bit (RFC 2045 §2.7): only
// US-ASCII, no NUL, CR and LF only as CRLF, lines of at most 998 octets.
func (s Stats) Is7bit() bool {
	return s.EightBit == 0 && s.NUL == 0 && s.BareCR == 0 && s.BareLF == 0 && s.LongestLine <= maxLine
}

// Is8bit reports whether the body may be sent as 8bit (RFC 2045 §2.8): as
// 7bit, but octets with the high bit set are allowed.
func (s Stats) Is8bit() bool {
	return s.NUL == 0 && s.BareCR == 0 && s.BareLF == 0 && s.LongestLine <= maxLine
}

// IsText reports whether the body looks like text: no NUL, few control
// characters, line breaks throughout (bare LF line ends are accepted, as
// files on Unix have them).
func (s Stats) IsText() bool {
	return s.NUL == 0 && s.BareCR == 0 && s.Control*100 <= s.Bytes && s.LongestLine <= maxLine
}

// Encoding returns the transfer encoding to send the body with. text says
// whether the body is text (a text/* part), whose line breaks may be
// normalised to CRLF. allow8bit says whether the path carries 8BITMIME
// (RFC 6152). The choice: 7bit when possible; for text, 8bit when allowed
// and the text is 8bit-safe apart from LF line ends; quoted-printable when
// at most about a sixth of the octets need encoding; base64 otherwise.
func (s Stats) Encoding(text, allow8bit bool) string {
	lfOK := text && s.BareCR == 0 // LF-only text is written with CRLF
	if s.EightBit == 0 && s.NUL == 0 && s.Control == 0 && s.LongestLine <= maxLine && (s.BareLF == 0 && s.BareCR == 0 || lfOK) {
		return SevenBit
	}
	if allow8bit && text && s.NUL == 0 && s.LongestLine <= maxLine && lfOK {
		return EightBit
	}
	if text && s.NUL == 0 && (s.EightBit+s.Control)*6 <= s.Bytes {
		return QuotedPrintable
	}
	return Base64
}
