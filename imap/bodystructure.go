package imap

import (
	"slices"
	"strings"

	"github.com/mailwire/mailwire/mime"
)

// FormatBodyStructure writes the body structure of a message as BODY
// (extended false) or BODYSTRUCTURE (extended true) reports it (RFC 3501
// §7.4.2, RFC 9051 §7.5.2), from the structure mime.ReadStructure
// computed. The extension data are, for a multipart, the parameters,
// disposition, language and location; for other parts the MD5,
// disposition, language and location. Parameters are written in the
// order of their names, as the mime package keeps them in a map.
//
// The nested message of a message/rfc822 (or message/global) part is
// written with its envelope, structure and line count; a part whose nested
// message was not read (it lies beyond mime's depth limit) gets an empty
// envelope and an empty text/plain body so that the output still parses.
// A multipart without parts, which RFC 3501's grammar cannot express, is
// written with one empty text/plain part.
func FormatBodyStructure(f Formatter, s *mime.Structure, extended, utf8 bool) {
	f.BeginList()
	if s.Type == "multipart" {
		if len(s.Children) == 0 {
			f.BeginList()
			formatEmptyText(f)
			f.EndList()
		}
		for _, c := range s.Children {
			FormatBodyStructure(f, c, extended, utf8)
		}
		f.SP()
		f.String(orDefault(s.Subtype, "mixed"))
		if extended {
			f.SP()
			formatParamsUTF8(f, s.Params, utf8)
			formatExt(f, s, utf8)
		}
		f.EndList()
		return
	}
	// A part without a type is text/plain (RFC 2045 §5.2); the fields
	// that follow depend on the type written.
	typ, sub := orDefault(s.Type, "text"), orDefault(s.Subtype, "plain")
	if s.Type == "" {
		sub = "plain"
	}
	f.String(typ)
	f.SP()
	f.String(sub)
	f.SP()
	params := s.Params
	if typ == "text" && params["charset"] == "" {
		// RFC 2046 §4.1.2: text without a charset is US-ASCII; servers
		// (Dovecot, and RFC 3501 §8's sample) say so.
		params = make(map[string]string, len(s.Params)+1)
		for k, v := range s.Params {
			params[k] = v
		}
		params["charset"] = "us-ascii"
	}
	formatParamsUTF8(f, params, utf8)
	f.SP()
	nstring(f, s.ID)
	f.SP()
	nstring(f, s.Description)
	f.SP()
	f.String(orDefault(s.Encoding, "7bit"))
	f.SP()
	f.Number(uint64(max(s.Size, 0)))
	switch {
	case typ == "message" && (sub == "rfc822" || sub == "global"):
		f.SP()
		if s.Envelope != nil && len(s.Children) == 1 {
			FormatEnvelope(f, s.Envelope, utf8)
			f.SP()
			FormatBodyStructure(f, s.Children[0], extended, utf8)
		} else {
			FormatEnvelope(f, &mime.Envelope{}, utf8)
			f.SP()
			f.BeginList()
			formatEmptyText(f)
			f.EndList()
		}
		f.SP()
		f.Number(uint64(max(s.Lines, 0)))
	case typ == "text":
		f.SP()
		f.Number(uint64(max(s.Lines, 0)))
	}
	if extended {
		f.SP()
		nstring(f, s.MD5)
		formatExt(f, s, utf8)
	}
	f.EndList()
}

// BodyStructureString returns FormatBodyStructure's output as a string.
func BodyStructureString(s *mime.Structure, extended, utf8 bool) string {
	f := &textFormatter{utf8: utf8}
	FormatBodyStructure(f, s, extended, utf8)
	return f.b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// formatEmptyText writes the fields of an empty text/plain part, without
// the surrounding parentheses.
func formatEmptyText(f Formatter) {
	f.Atom(`"text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0`)
}

// formatExt writes SP disposition SP language SP location.
func formatExt(f Formatter, s *mime.Structure, utf8 bool) {
	f.SP()
	if s.Disposition == "" {
		f.Nil()
	} else {
		f.BeginList()
		f.String(s.Disposition)
		f.SP()
		formatParamsUTF8(f, s.DispositionParams, utf8)
		f.EndList()
	}
	f.SP()
	switch len(s.Language) {
	case 0:
		f.Nil()
	case 1:
		f.String(s.Language[0])
	default:
		f.BeginList()
		for i, l := range s.Language {
			if i > 0 {
				f.SP()
			}
			f.String(l)
		}
		f.EndList()
	}
	f.SP()
	nstring(f, s.Location)
}

// formatParamsUTF8 writes body-fld-param: NIL or "(" name SP value ...
// ")". The mime package gives parameter values decoded (RFC 2231
// continuations joined, charsets converted to UTF-8); a value that is not
// ASCII is written, unless utf8 is set, in RFC 2231 §4's extended form
// ("name*" "utf-8”%C3%A9t%C3%A9.pdf") so that the output stays 7-bit.
func formatParamsUTF8(f Formatter, params map[string]string, utf8 bool) {
	if len(params) == 0 {
		f.Nil()
		return
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	f.BeginList()
	for i, k := range keys {
		if i > 0 {
			f.SP()
		}
		v := params[k]
		if !utf8 && !isASCII(v) {
			f.String(k + "*")
			f.SP()
			f.String("utf-8''" + percentEncode(v))
			continue
		}
		f.String(k)
		f.SP()
		f.String(v)
	}
	f.EndList()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// percentEncode encodes s as an RFC 2231 §4 extended value: attribute-char
// as is, everything else as %XX.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)*3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune("*'%()<>@,;:\\\"/[]?=", rune(c)) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}
