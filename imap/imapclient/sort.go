package imapclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// SortCriterion is a sort key of SORT (RFC 5256 §3).
type SortCriterion string

// Sort criteria (RFC 5256 §3; DISPLAYFROM and DISPLAYTO of RFC 5957).
const (
	SortArrival     SortCriterion = "ARRIVAL"
	SortCc          SortCriterion = "CC"
	SortDate        SortCriterion = "DATE"
	SortFrom        SortCriterion = "FROM"
	SortSize        SortCriterion = "SIZE"
	SortSubject     SortCriterion = "SUBJECT"
	SortTo          SortCriterion = "TO"
	SortDisplayFrom SortCriterion = "DISPLAYFROM"
	SortDisplayTo   SortCriterion = "DISPLAYTO"
)

// SortKey is a criterion and its direction.
type SortKey struct {
	Criterion SortCriterion
	Reverse   bool
}

// Sort returns the sequence numbers of the messages matching criteria in
// the order keys give (RFC 5256 §3); the server must announce SORT.
// The search strings' charset is criteria.Charset, UTF-8 when empty.
func (c *Client) Sort(ctx context.Context, keys []SortKey, criteria imap.SearchCriteria) ([]uint32, error) {
	return c.sort(ctx, false, keys, criteria)
}

// UIDSort is Sort answering with UIDs.
func (c *Client) UIDSort(ctx context.Context, keys []SortKey, criteria imap.SearchCriteria) ([]uint32, error) {
	return c.sort(ctx, true, keys, criteria)
}

// searchArgs writes a charset (required by SORT and THREAD) and the keys.
func searchArgs(e *imapwire.Encoder, criteria imap.SearchCriteria) {
	cs := criteria.Charset
	if cs == "" {
		cs = "UTF-8"
	}
	e.AString(cs)
	e.SP()
	criteria.Charset = ""
	criteria.Format(e)
}

func (c *Client) sort(ctx context.Context, uid bool, keys []SortKey, criteria imap.SearchCriteria) ([]uint32, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("imapclient: SORT without keys")
	}
	if err := criteria.Validate(); err != nil {
		return nil, err
	}
	if has, err := c.has(ctx, "SORT"); err != nil {
		return nil, err
	} else if !has {
		return nil, fmt.Errorf("%w: SORT", ErrUnsupported)
	}
	cmd := c.msgCommand("SORT", uid)
	cmd.noExpunge = false // RFC 5256 does not protect SORT from EXPUNGE
	cmd.kinds = kindSearch
	var nums []uint32
	var perr error
	cmd.onData = func(resp any) {
		u, ok := resp.(*imapwire.UnknownData)
		if !ok {
			return
		}
		// RFC 5256 §4: "SORT" *(SP nz-number), and RFC 7162 §3.1.5's
		// "(MODSEQ n)" after them.
		for _, f := range strings.Fields(u.Text) {
			if strings.HasPrefix(f, "(") {
				break
			}
			n, err := imap.ParseNumber(f, 32)
			if err != nil || n == 0 {
				perr = fmt.Errorf("%w: SORT response %q", ErrProtocol, u.Text)
				return
			}
			nums = append(nums, uint32(n))
		}
	}
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.Atom(" (")
		for i, k := range keys {
			if i > 0 {
				e.SP()
			}
			if k.Reverse {
				e.Atom("REVERSE ")
			}
			if !imap.IsAtom(string(k.Criterion)) {
				e.String(string(k.Criterion))
				continue
			}
			e.Atom(string(k.Criterion))
		}
		e.Atom(") ")
		searchArgs(e, criteria)
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return nil, err
	}
	return nums, nil
}

// ThreadAlgorithm names a threading algorithm (RFC 5256 §3).
type ThreadAlgorithm string

// Threading algorithms: by subject alone, or by the References and
// In-Reply-To fields (RFC 5256 §3); REFS (RFC 9051-era draft, Dovecot).
const (
	ThreadOrderedSubject ThreadAlgorithm = "ORDEREDSUBJECT"
	ThreadReferences     ThreadAlgorithm = "REFERENCES"
	ThreadRefs           ThreadAlgorithm = "REFS"
)

// Thread is a message and its replies. Num is 0 for a parent the server
// knows of but that is not in the mailbox (RFC 5256 §4: "((3)(5))").
type Thread struct {
	Num      uint32
	Children []Thread
}

// Thread groups the messages matching criteria into threads (RFC 5256
// §3); the server must announce THREAD=algorithm. The numbers are
// sequence numbers.
func (c *Client) Thread(ctx context.Context, alg ThreadAlgorithm, criteria imap.SearchCriteria) ([]Thread, error) {
	return c.thread(ctx, false, alg, criteria)
}

// UIDThread is Thread with UIDs.
func (c *Client) UIDThread(ctx context.Context, alg ThreadAlgorithm, criteria imap.SearchCriteria) ([]Thread, error) {
	return c.thread(ctx, true, alg, criteria)
}

func (c *Client) thread(ctx context.Context, uid bool, alg ThreadAlgorithm, criteria imap.SearchCriteria) ([]Thread, error) {
	if err := criteria.Validate(); err != nil {
		return nil, err
	}
	if !imap.IsAtom(string(alg)) {
		return nil, fmt.Errorf("imapclient: bad THREAD algorithm %q", alg)
	}
	if has, err := c.has(ctx, imap.Capability("THREAD="+string(alg))); err != nil {
		return nil, err
	} else if !has {
		return nil, fmt.Errorf("%w: THREAD=%s", ErrUnsupported, alg)
	}
	cmd := c.msgCommand("THREAD", uid)
	cmd.noExpunge = false
	cmd.kinds = kindThread
	var threads []Thread
	var perr error
	cmd.onData = func(resp any) {
		if u, ok := resp.(*imapwire.UnknownData); ok {
			t, err := ParseThreads(u.Text)
			if err != nil {
				perr = fmt.Errorf("%w: %w", ErrProtocol, err)
			}
			threads = append(threads, t...)
		}
	}
	err := c.run(ctx, cmd, func(e *imapwire.Encoder) {
		e.SP()
		e.Atom(string(alg))
		e.SP()
		searchArgs(e, criteria)
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return nil, err
	}
	return threads, nil
}

// maxThreadDepth bounds the nesting of a THREAD response's lists.
const maxThreadDepth = 1000

// ParseThreads parses the text of a THREAD response after its name (RFC
// 5256 §4 thread-list): "(2)(3 6 (4 23)(44 7 96))". In a list, each number
// is a reply to the one before it, and the nested lists that follow are
// replies to the last.
func ParseThreads(s string) ([]Thread, error) {
	p := &threadParser{s: s}
	var out []Thread
	for {
		p.spaces()
		if p.i == len(p.s) {
			return out, nil
		}
		if !p.take('(') {
			return nil, p.errorf("expected (")
		}
		t, err := p.thread(1)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
}

type threadParser struct {
	s string
	i int
}

func (p *threadParser) errorf(msg string) error {
	return fmt.Errorf("THREAD response %q: %s at offset %d", p.s, msg, p.i)
}

func (p *threadParser) spaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *threadParser) take(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// thread parses a list after its "(".
func (p *threadParser) thread(depth int) (Thread, error) {
	if depth > maxThreadDepth {
		return Thread{}, p.errorf("nested too deeply")
	}
	var chain []uint32
	for {
		p.spaces()
		j := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if j == p.i {
			break
		}
		n, err := imap.ParseNumber(p.s[j:p.i], 32)
		if err != nil || n == 0 {
			return Thread{}, p.errorf("bad number")
		}
		chain = append(chain, uint32(n))
	}
	var nested []Thread
	for p.take('(') {
		t, err := p.thread(depth + 1)
		if err != nil {
			return Thread{}, err
		}
		nested = append(nested, t)
		p.spaces()
	}
	if !p.take(')') {
		return Thread{}, p.errorf("expected )")
	}
	if len(chain) == 0 {
		return Thread{Children: nested}, nil
	}
	t := Thread{Num: chain[len(chain)-1], Children: nested}
	for i := len(chain) - 2; i >= 0; i-- {
		t = Thread{Num: chain[i], Children: []Thread{t}}
	}
	return t, nil
}
