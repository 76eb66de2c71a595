package netutil

import (
	"crypto/tls"
	"net"
)

// Listen listens on TCP addr, or on def when addr is empty.
func Listen(addr, def string) (net.Listener, error) {
	if addr == "" {
		addr = def
	}
	return net.Listen("tcp", addr)
}

// ListenTLS is Listen for implicit TLS (RFC 8314 §3.3): the configuration
// comes from ImplicitTLS(base, certFile, keyFile), checked before anything
// listens, and wrap (ProxyListener's) goes under the TLS layer.
func ListenTLS(addr, def string, base *tls.Config, certFile, keyFile string, wrap func(net.Listener) net.Listener) (net.Listener, error) {
	cfg, err := ImplicitTLS(base, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	l, err := Listen(addr, def)
	if err != nil {
		return nil, err
	}
	return tls.NewListener(wrap(l), cfg), nil
}
