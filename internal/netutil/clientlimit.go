package netutil

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxTrackedClients bounds the client addresses a ClientLimits
// remembers failed authentications for, so that a flood of addresses cannot
// grow its memory without bound.
const DefaultMaxTrackedClients = 10000

// ClientKey returns the key a client address is counted under: the IPv4
// address itself, or the /64 network of an IPv6 address (a single host
// usually has a whole /64 to pick addresses from). IPv4-mapped IPv6
// addresses count as IPv4. ok is false for an address that is not IP.
func ClientKey(a net.Addr) (key netip.Prefix, ok bool) {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, ok = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, ok = netip.AddrFromSlice(a.IP)
	default:
		if a == nil {
			return netip.Prefix{}, false
		}
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Prefix{}, false
		}
		ip, ok = ap.Addr(), true
	}
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32), true
	}
	p, _ := ip.Prefix(64)
	return p, true
}

// ClientLimits keeps a server's per-client-address bookkeeping: how many
// connections each client has open, and how many authentications it failed
// lately. Fields must be set before first use; the zero value limits
// nothing. Its methods are safe for concurrent use.
type ClientLimits struct {
	// MaxConns is the most connections one client may have open; 0 means
	// no limit.
	MaxConns int
	// MaxAuthFailures is how many failed authentications a client may have
	// within AuthWindow before AuthBlocked reports it blocked, for
	// AuthWindow after the last of them; 0 means no limit.
	MaxAuthFailures int
	// AuthWindow is both the span failures are counted over and how long a
	// client stays blocked.
	AuthWindow time.Duration
	// Exempt lists the addresses and networks no limit applies to.
	Exempt []netip.Prefix
	// MaxTracked bounds the clients whose failures are remembered
	// (DefaultMaxTrackedClients when 0). When it is reached, expired
	// records go first, then the oldest.
	MaxTracked int
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time

	mu    sync.Mutex
	conns map[netip.Prefix]int
	fails map[netip.Prefix]*failures
}

// failures is one client's record of failed authentications.
type failures struct {
	count int
	start time.Time // when the counting window began
	until time.Time // blocked until then, when after start
}

func (l *ClientLimits) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// key returns the client's key, and false when no limit applies to it.
func (l *ClientLimits) key(a net.Addr) (netip.Prefix, bool) {
	k, ok := ClientKey(a)
	if !ok {
		return k, false
	}
	for _, p := range l.Exempt {
		if p.Contains(k.Addr()) {
			return k, false
		}
	}
	return k, true
}

// Acquire counts a new connection from a. It reports false, counting
// nothing, when the client has MaxConns open already; otherwise the caller
// must call release, once, when the connection ends.
func (l *ClientLimits) Acquire(a net.Addr) (release func(), ok bool) {
	k, limited := l.key(a)
	if !limited || l.MaxConns <= 0 {
		return func() {}, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[k] >= l.MaxConns {
		return nil, false
	}
	if l.conns == nil {
		l.conns = make(map[netip.Prefix]int)
	}
	l.conns[k]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.conns[k] <= 1 {
				delete(l.conns, k) // the map holds only clients connected
			} else {
				l.conns[k]--
			}
		})
	}, true
}

// Conns returns how many connections the client of a has open, as counted.
func (l *ClientLimits) Conns(a net.Addr) int {
	k, ok := ClientKey(a)
	if !ok {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[k]
}

// AuthBlocked reports whether the client of a has failed too many
// authentications lately to be let try again now.
func (l *ClientLimits) AuthBlocked(a net.Addr) bool {
	k, limited := l.key(a)
	if !limited || l.MaxAuthFailures <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[k]
	return f != nil && l.now().Before(f.until)
}

// AuthFailed records a failed authentication by the client of a, and
// reports whether the client is now blocked.
func (l *ClientLimits) AuthFailed(a net.Addr) bool {
	k, limited := l.key(a)
	if !limited || l.MaxAuthFailures <= 0 {
		return false
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[k]
	if f == nil {
		l.makeRoom(now)
		if l.fails == nil {
			l.fails = make(map[netip.Prefix]*failures)
		}
		f = &failures{start: now}
		l.fails[k] = f
	}
	if l.expired(f, now) {
		*f = failures{start: now}
	}
	f.count++
	if f.count >= l.MaxAuthFailures {
		f.until = now.Add(l.AuthWindow)
	}
	return now.Before(f.until)
}

// Tracked returns how many clients' failures are remembered.
func (l *ClientLimits) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.fails)
}

// expired reports whether f no longer counts: its window is over and it
// blocks nothing.
func (l *ClientLimits) expired(f *failures, now time.Time) bool {
	return !now.Before(f.start.Add(l.AuthWindow)) && !now.Before(f.until)
}

// makeRoom frees a place in fails for one more client when it is full:
// expired records go first, then the one whose window began earliest.
func (l *ClientLimits) makeRoom(now time.Time) {
	max := l.MaxTracked
	if max <= 0 {
		max = DefaultMaxTrackedClients
	}
	if len(l.fails) < max {
		return
	}
	var oldest netip.Prefix
	var oldestStart time.Time
	for k, f := range l.fails {
		if l.expired(f, now) {
			delete(l.fails, k)
			continue
		}
		if oldestStart.IsZero() || f.start.Before(oldestStart) {
			oldest, oldestStart = k, f.start
		}
	}
	if len(l.fails) >= max {
		delete(l.fails, oldest)
	}
}
