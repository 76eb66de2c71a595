package imap

import (
	"slices"

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
			formatParams(f, s.Params)
			formatExt(f, s)
		}
		f.EndList()
		return
	}
	f.String(orDefault(s.Type, "text"))
	f.SP()
	f.String(orDefault(s.Subtype, "plain"))
	f.SP()
	formatParams(f, s.Params)
	f.SP()
	nstring(f, s.ID)
	f.SP()
	nstring(f, s.Description)
	f.SP()
	f.String(orDefault(s.Encoding, "7bit"))
	f.SP()
	f.Number(uint64(max(s.Size, 0)))
	switch {
	case s.Type == "message" && (s.Subtype == "rfc822" || s.Subtype == "global"):
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
	case s.Type == "text":
		f.SP()
		f.Number(uint64(max(s.Lines, 0)))
	}
	if extended {
		f.SP()
		nstring(f, s.MD5)
		formatExt(f, s)
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
func formatExt(f Formatter, s *mime.Structure) {
	f.SP()
	if s.Disposition == "" {
		f.Nil()
	} else {
		f.BeginList()
		f.String(s.Disposition)
		f.SP()
		formatParams(f, s.DispositionParams)
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

// formatParams writes body-fld-param: NIL or "(" name SP value ... ")".
func formatParams(f Formatter, params map[string]string) {
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
		f.String(k)
		f.SP()
		f.String(params[k])
	}
	f.EndList()
}
