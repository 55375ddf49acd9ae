package tokens

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The header and payload are read with a small scanner over the top-level
// members of a JSON object instead of encoding/json's reflection: it is on
// every request's path, it matches member names exactly (encoding/json
// folds case, so "Domain" would pass for "domain"), and it lets Verify refuse
// duplicate members, which JavaScript's JSON.parse and Go would resolve
// differently. json.Valid runs first, so the scanner only ever walks
// well-formed JSON.

// objectScanner walks the members of one JSON object that json.Valid has
// accepted.
type objectScanner struct {
	data []byte
	pos  int
}

// newObjectScanner checks that data is valid JSON holding an object.
func newObjectScanner(data []byte) (objectScanner, bool) {
	if !json.Valid(data) {
		return objectScanner{}, false
	}
	s := objectScanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		return objectScanner{}, false
	}
	s.pos++
	return s, true
}

// next returns the raw name (with its quotes) and raw value of the next
// member, or ok false after the last one.
func (s *objectScanner) next() (name, value []byte, ok bool) {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ',' {
		s.pos++
		s.skipSpace()
	}
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, nil, false // '}'
	}
	start := s.pos
	s.skipString()
	name = s.data[start:s.pos]
	s.skipSpace()
	s.pos++ // ':'
	s.skipSpace()
	start = s.pos
	s.skipValue()
	return name, s.data[start:s.pos], true
}

func (s *objectScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// skipString moves past the string starting at pos.
func (s *objectScanner) skipString() {
	s.pos++ // opening quote
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '\\':
			s.pos += 2
		case '"':
			s.pos++
			return
		default:
			s.pos++
		}
	}
}

// skipValue moves past the value starting at pos.
func (s *objectScanner) skipValue() {
	if s.pos >= len(s.data) {
		return
	}
	switch s.data[s.pos] {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return
				}
			}
			s.pos++
		}
	default: // number, true, false, null
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return
			}
			s.pos++
		}
	}
}

// nameIs reports whether the raw member name equals want. Names without
// escapes are compared in place; escaped ones are decoded first.
func nameIs(raw []byte, want string) bool {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == want
	}
	var s string
	// The copy keeps raw (and the caller's stack buffer) from escaping.
	if json.Unmarshal(bytes.Clone(raw), &s) != nil {
		return false
	}
	return s == want
}

// jsonKind classifies a raw value by its first byte.
type jsonKind uint8

const (
	kindOther jsonKind = iota // object, array, true, false
	kindString
	kindNumber
	kindNull
)

func kindOf(raw []byte) jsonKind {
	switch c := raw[0]; {
	case c == '"':
		return kindString
	case c == '-' || ('0' <= c && c <= '9'):
		return kindNumber
	case c == 'n':
		return kindNull
	default:
		return kindOther
	}
}

// rawString returns the decoded value of a raw JSON string, without copying
// when it has no escapes and is valid UTF-8. The result aliases raw.
func rawString(raw []byte) []byte {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return inner
	}
	// Rare: let encoding/json decode escapes and replace invalid UTF-8
	// with U+FFFD, the same way as everywhere else in the program.
	var s string
	if json.Unmarshal(bytes.Clone(raw), &s) != nil {
		return nil
	}
	return []byte(s)
}

// rawNumber parses a raw JSON number.
func rawNumber(raw []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		// Only a value beyond float64's range fails here (json.Valid
		// checked the grammar); it is out of every claim's range anyway.
		return 0, false
	}
	return f, true
}
