package dkim

import "github.com/mailwire/mailwire/dnsmx"

// dnsmx.Resolver can serve as a TXTResolver.
var _ TXTResolver = dnsmx.Resolver(nil)
