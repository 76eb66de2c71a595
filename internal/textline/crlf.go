package textline

import "bytes"

// CRLFCounter is an io.Writer that counts the size of what is written to it
// once every bare LF is made CRLF: the "wire size" of a message stored with
// LF line ends (RFC 1939 §5, RFC 3501 §2.3.4, the ",W=" of Maildir++
// names). As Dovecot's virtual size, it adds nothing for a last line without
// a line end, and a CR not followed by LF counts as one octet.
type CRLFCounter struct {
	N      int64
	prevCR bool // the last byte written was a CR
}

func (c *CRLFCounter) Write(p []byte) (int, error) {
	c.N += int64(len(p))
	q := p
	for {
		i := bytes.IndexByte(q, '\n')
		if i < 0 {
			break
		}
		if !(i > 0 && q[i-1] == '\r' || i == 0 && c.prevCR) {
			c.N++ // a bare LF becomes CRLF
		}
		c.prevCR = false
		q = q[i+1:]
	}
	if len(q) > 0 {
		c.prevCR = q[len(q)-1] == '\r'
	}
	return len(p), nil
}
