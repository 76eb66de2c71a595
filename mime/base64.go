package mime

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
)

// decodeBlock is the size of the input block the decoders work on. Larger
// blocks amortise per-call costs; the memory is fixed per decoder.
const decodeBlock = 32 << 10

var b64class [256]byte // 0 other, 1 alphabet, 2 white space, 3 '='

func init() {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		b64class[c] = 1
	}
	for _, c := range []byte(" \t\r\n\f\v") {
		b64class[c] = 2
	}
	b64class['='] = 3
}

// Base64Decoder decodes a base64 body (RFC 2045 §6.8) as a stream. It is
// tolerant as RFC 2045 asks: line breaks and other white space are ignored,
// characters outside the alphabet are skipped, and missing padding is
// accepted; each of these is recorded as a Defect.
type Base64Decoder struct {
	r       io.Reader
	in      []byte // in[:nrem] holds alphabet characters carried over
	nrem    int
	out     []byte // decoded bytes not yet returned
	outBuf  []byte
	err     error
	padded  bool // a quantum with '=' was seen
	defects []Defect
	bad     bool // a bad-character defect was recorded
}

// NewBase64Decoder returns a decoder reading base64 text from r.
func NewBase64Decoder(r io.Reader) *Base64Decoder {
	return &Base64Decoder{r: r, in: make([]byte, decodeBlock)}
}

// Reset makes d read from r, keeping its buffers.
func (d *Base64Decoder) Reset(r io.Reader) {
	*d = Base64Decoder{r: r, in: d.in, outBuf: d.outBuf}
}

// Defects returns the malformations seen so far.
func (d *Base64Decoder) Defects() []Defect { return d.defects }

func (d *Base64Decoder) defect(k DefectKind, s string) {
	if len(d.defects) < maxDefects {
		d.defects = append(d.defects, Defect{Kind: k, Detail: s})
	}
}

// maxDefects bounds the defects one decoder records, so hostile input cannot
// grow the list without bound.
const maxDefects = 16

// Read reads decoded bytes; it returns io.EOF at the end of the input.
func (d *Base64Decoder) Read(p []byte) (int, error) {
	for {
		if len(d.out) > 0 {
			n := copy(p, d.out)
			d.out = d.out[n:]
			return n, nil
		}
		if d.err != nil {
			return 0, d.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		// Read no more than p can take once decoded, so that the common
		// case decodes straight into p.
		limit := len(d.in)
		if want := d.nrem + len(p)/3*4; want < limit && want >= 1024 {
			limit = want
		}
		n, err := d.r.Read(d.in[d.nrem:limit])
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.EOF
			}
			d.err = err
		}
		total := d.nrem + compactNewlines(d.in[d.nrem:d.nrem+n])
		src := d.in[:total]
		q := total / 4 * 4
		if d.err != nil {
			q = total
		}
		dst := p
		if need := q/4*3 + 3; len(p) < need {
			if cap(d.outBuf) < need {
				d.outBuf = make([]byte, max(need, decodeBlock/4*3+3))
			}
			dst = d.outBuf[:cap(d.outBuf)]
		}
		var m int
		var partial []byte
		if q%4 == 0 && !d.padded {
			var derr error
			m, derr = base64.StdEncoding.Decode(dst, src[:q])
			if derr != nil {
				m, partial = d.slow(dst, src[:q])
			} else if q > 0 && src[q-1] == '=' {
				d.padded = true
			}
		} else {
			m, partial = d.slow(dst, src[:q])
		}
		// Carry the incomplete quantum over to the next block.
		var tail [8]byte
		nt := copy(tail[:], partial)
		nt += copy(tail[nt:], src[q:])
		d.nrem = copy(d.in, tail[:nt])
		if m == 0 {
			continue
		}
		if &dst[0] == &p[0] {
			return m, nil
		}
		d.out = dst[:m]
	}
}

// compactNewlines removes LF, and CR before LF, from b in place and
// returns the new length, moving whole lines with copy. Other white space
// is left for the slow path.
func compactNewlines(b []byte) int {
	w, r := 0, 0
	for r < len(b) {
		// Fast path: the 76-character lines of RFC 2045 §6.8. Should a
		// short line hide in them, Decode skips its CR and LF, the
		// length no longer divides by 4 and the slow path takes over.
		if r+77 < len(b) && b[r+76] == '\r' && b[r+77] == '\n' {
			if w != r {
				copy(b[w:w+76], b[r:r+76])
			}
			w += 76
			r += 78
			continue
		}
		i := bytes.IndexByte(b[r:], '\n')
		if i < 0 {
			w += copy(b[w:], b[r:])
			break
		}
		end := r + i
		if i > 0 && b[end-1] == '\r' {
			end--
		}
		if w != r {
			copy(b[w:], b[r:end])
		}
		w += end - r
		r += i + 1
	}
	return w
}

// slow decodes src character by character, handling white space, bad
// characters, padding in the middle and missing padding at the end. Unless
// the input has ended, an incomplete quantum at the end is returned in
// partial to be decoded with the next block.
func (d *Base64Decoder) slow(dst, src []byte) (m int, partial []byte) {
	var quad [4]byte
	nq := 0
	for _, c := range src {
		switch b64class[c] {
		case 1:
			if d.padded && nq == 0 {
				d.defect(DefectBase64Padding, "data after padding")
				d.padded = false
			}
			quad[nq] = c
			nq++
			if nq == 4 {
				n, _ := base64.StdEncoding.Decode(dst[m:], quad[:])
				m += n
				nq = 0
			}
		case 2:
		case 3:
			switch nq {
			case 2, 3:
				n, _ := base64.RawStdEncoding.Decode(dst[m:], quad[:nq])
				m += n
				nq = 0
				d.padded = true
			case 1:
				d.defect(DefectBase64Padding, "lone character before padding")
				nq = 0
				d.padded = true
			case 0:
				if !d.padded {
					d.defect(DefectBase64Padding, "stray padding")
					d.padded = true
				}
			}
		default:
			if !d.bad {
				d.bad = true
				d.defect(DefectBadBase64, "character outside the alphabet")
			}
		}
	}
	if nq == 0 {
		return m, nil
	}
	if d.err == nil {
		return m, append([]byte(nil), quad[:nq]...)
	}
	if nq == 1 {
		d.defect(DefectBase64Padding, "truncated quantum")
		return m, nil
	}
	d.defect(DefectBase64Padding, "missing padding")
	n, _ := base64.RawStdEncoding.Decode(dst[m:], quad[:nq])
	return m + n, nil
}
