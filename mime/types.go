package mime

import (
	"net/http"
	"path"
	"strings"
	"unicode/utf8"
)

// fileTypes maps lower-case file name extensions to media types. It is
// built in, not read from the host's mime.types, so that the same program
// composes the same mail on every machine. The types are the IANA
// registered ones where there is one (RFC 6713 application/gzip,
// RFC 7763 text/markdown, RFC 7303 application/xml, RFC 9239
// text/javascript, the Office and OpenDocument vnd. types), else the
// names mail readers know. Source code and configuration files are
// text/plain, which every reader shows.
var fileTypes = map[string]string{
	// Text.
	".txt":      "text/plain",
	".text":     "text/plain",
	".log":      "text/plain",
	".conf":     "text/plain",
	".cfg":      "text/plain",
	".ini":      "text/plain",
	".yaml":     "text/plain",
	".yml":      "text/plain",
	".toml":     "text/plain",
	".diff":     "text/plain",
	".patch":    "text/plain",
	".html":     "text/html",
	".htm":      "text/html",
	".css":      "text/css",
	".csv":      "text/csv",
	".tsv":      "text/tab-separated-values",
	".md":       "text/markdown",
	".markdown": "text/markdown",
	".ics":      "text/calendar",
	".vcf":      "text/vcard",
	".vcard":    "text/vcard",
	".js":       "text/javascript",
	".mjs":      "text/javascript",

	// Source code.
	".go":    "text/plain",
	".mod":   "text/plain",
	".sum":   "text/plain",
	".c":     "text/plain",
	".h":     "text/plain",
	".cc":    "text/plain",
	".cpp":   "text/plain",
	".hpp":   "text/plain",
	".cs":    "text/plain",
	".java":  "text/plain",
	".kt":    "text/plain",
	".py":    "text/plain",
	".rb":    "text/plain",
	".rs":    "text/plain",
	".pl":    "text/plain",
	".php":   "text/plain",
	".swift": "text/plain",
	".ts":    "text/plain",
	".sh":    "text/plain",
	".bash":  "text/plain",
	".ps1":   "text/plain",
	".bat":   "text/plain",
	".sql":   "text/plain",

	// Messages.
	".eml": "message/rfc822",

	// Documents and data.
	".pdf":  "application/pdf",
	".json": "application/json",
	".xml":  "application/xml",
	".rtf":  "application/rtf",
	".epub": "application/epub+zip",
	".doc":  "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".ppt":  "application/vnd.ms-powerpoint",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
	".odp":  "application/vnd.oasis.opendocument.presentation",
	".odg":  "application/vnd.oasis.opendocument.graphics",
	".p7s":  "application/pkcs7-signature",
	".p7m":  "application/pkcs7-mime",
	".wasm": "application/wasm",
	".bin":  "application/octet-stream",
	".exe":  "application/octet-stream",

	// Archives.
	".zip": "application/zip",
	".gz":  "application/gzip",
	".tgz": "application/gzip",
	".tar": "application/x-tar",
	".bz2": "application/x-bzip2",
	".xz":  "application/x-xz",
	".zst": "application/zstd",
	".7z":  "application/x-7z-compressed",
	".rar": "application/vnd.rar",

	// Images.
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".webp": "image/webp",
	".svg":  "image/svg+xml",
	".bmp":  "image/bmp",
	".tif":  "image/tiff",
	".tiff": "image/tiff",
	".ico":  "image/vnd.microsoft.icon",
	".heic": "image/heic",
	".heif": "image/heif",
	".avif": "image/avif",

	// Audio.
	".mp3":  "audio/mpeg",
	".wav":  "audio/wav",
	".ogg":  "audio/ogg",
	".oga":  "audio/ogg",
	".opus": "audio/ogg",
	".m4a":  "audio/mp4",
	".aac":  "audio/aac",
	".flac": "audio/flac",
	".mid":  "audio/midi",
	".midi": "audio/midi",

	// Video.
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".mov":  "video/quicktime",
	".webm": "video/webm",
	".avi":  "video/x-msvideo",
	".mkv":  "video/x-matroska",
	".mpg":  "video/mpeg",
	".mpeg": "video/mpeg",
	".ogv":  "video/ogg",

	// Fonts.
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
}

// TypeByFilename returns the media type, without parameters, of a file
// name's extension (compared case-insensitively) from a table built into
// this package, or "" when the extension is not in it. The table covers
// common documents, archives, images, audio, video, fonts and text; source
// code and configuration files (.go, .mod, .sum, .c, .py, .sh, .yaml, .log,
// .conf...) are text/plain.
//
// Unlike the standard library's mime.TypeByExtension it never reads the
// host's mime.types, so the result is the same on every machine. An
// application that wants the host's table can pass its answer as
// Attachment.ContentType.
func TypeByFilename(name string) string {
	// A name from another system may use backslashes.
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	ext := path.Ext(name)
	if ext == "" {
		return ""
	}
	return fileTypes[strings.ToLower(ext)]
}

// sniffedTypes maps what http.DetectContentType reports to the names
// fileTypes uses, so a file gets the same type with or without its
// extension.
var sniffedTypes = map[string]string{
	"application/x-gzip":           "application/gzip",
	"application/x-rar-compressed": "application/vnd.rar",
	"audio/wave":                   "audio/wav",
	"video/avi":                    "video/x-msvideo",
	"image/x-icon":                 "image/vnd.microsoft.icon",
	"text/xml":                     "application/xml",
}

// guessType returns the media type and charset of an attachment without
// an explicit type: from its file name, else from its content (sample is
// the content, or its start when complete is false), else
// application/octet-stream. Text gets the charset its content shows
// (textCharset); text that is neither UTF-8 nor UTF-16 found by sniffing
// is sent as application/octet-stream, since labelling it text without a
// charset would claim US-ASCII (RFC 2046 §4.1.2).
func guessType(filename string, sample []byte, complete bool) (typ, charset string) {
	typ = TypeByFilename(filename)
	sniffed := typ == ""
	if sniffed && len(sample) == 0 {
		// DetectContentType calls nothing text/plain; an empty file
		// of unknown kind is better left untyped.
		return "application/octet-stream", ""
	}
	if sniffed {
		typ = http.DetectContentType(sample)
		if i := strings.IndexByte(typ, ';'); i >= 0 {
			typ = typ[:i]
		}
		if t, ok := sniffedTypes[typ]; ok {
			typ = t
		}
	}
	if !strings.HasPrefix(typ, "text/") {
		return typ, ""
	}
	charset = textCharset(sample, complete)
	if charset == "" && sniffed {
		return "application/octet-stream", ""
	}
	return typ, charset
}

// textCharset tells the charset of text content: "utf-8" when it is valid
// UTF-8 (plain ASCII included, as for the composed text bodies; a rune
// cut at the end of an incomplete sample is allowed), "utf-16be" or
// "utf-16le" when it starts with that byte order mark, else "".
func textCharset(b []byte, complete bool) string {
	switch {
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		return "utf-16be"
	case len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE:
		return "utf-16le"
	}
	if !complete {
		// Drop a possibly cut rune at the end: at most utf8.UTFMax-1
		// bytes that start a rune but do not finish it.
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	if utf8.Valid(b) {
		return "utf-8"
	}
	return ""
}
