package gate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// maxJSONDepth bounds nesting so that hostile input cannot exhaust the
// stack; real plans nest a few dozen levels.
const maxJSONDepth = 10000

// errJSONSyntax marks a document decodeJSON rejects; the caller asks
// encoding/json for the standard message and position.
var errJSONSyntax = errors.New("invalid JSON")

// jsonDecoder decodes JSON into map[string]any, []any, string,
// json.Number, bool and nil, like encoding/json with UseNumber, but in one
// pass with short strings (keys, types, regions, tag values) interned:
// plans repeat them thousands of times, so the tree is much smaller and
// the garbage collector has much less to do.
type jsonDecoder struct {
	data   []byte
	pos    int
	depth  int
	intern *internTable
	// spans records the byte range of each top-level member's value.
	spans map[string][2]int
	// eager names the top-level members decoded into trees; the others
	// are validated and kept as json.RawMessage (nil: decode everything).
	// resource_changes is read into changes and kept raw as well.
	eager   map[string]bool
	changes [][]changeLite // in chunks, see changeList
	pairs   [][2]*ast.Term // objectTerm's member stack
	// spanPath, when set, names a value whose bytes JSONValueAt returns:
	// onPath is how many of its keys lead to the object being read (-1:
	// none), span and spanOK where the value was found.
	spanPath []string
	onPath   int
	span     [2]int
	spanOK   bool
	// validated says the data passed an earlier, validating pass (a
	// plan's configuration and resource values, which ParsePlan read):
	// skip then only finds where values end.
	validated bool
}

// decodeJSON decodes one JSON value that fills data (white space around
// it allowed). The error is errJSONSyntax wrapped with an offset.
//
// With eager non-nil, a top-level object member not named in eager is
// checked for syntax but not decoded: its value is the json.RawMessage of
// its bytes, decoded only if something reads it.
func decodeJSON(data []byte, eager map[string]bool) (any, map[string][2]int, error) {
	d, v, err := decodeWith(data, eager)
	if err != nil {
		return nil, nil, err
	}
	return v, d.spans, nil
}

// decodeWith is decodeJSON returning the decoder, whose changes hold the
// resource_changes of a plan.
func decodeWith(data []byte, eager map[string]bool) (*jsonDecoder, any, error) {
	slots := 32 // a resource's values
	if eager != nil {
		slots = 1024 // a whole plan
	}
	d := &jsonDecoder{data: data, intern: newInternTable(slots), spans: map[string][2]int{}, eager: eager}
	d.skipSpace()
	start := inValue
	if eager != nil {
		start = inPlan
	}
	v, err := d.valueIn(start)
	if err != nil {
		return nil, nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, nil, d.fail("unexpected data after the value")
	}
	return d, v, nil
}

func (d *jsonDecoder) fail(what string) error {
	return fmt.Errorf("%w at byte %d: %s", errJSONSyntax, d.pos, what)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\r', '\n':
			d.pos++
		default:
			return
		}
	}
}

// where says which part of a plan a value is, for the members decoded
// lazily (as json.RawMessage) in plan mode (eager non-nil).
type where uint8

const (
	inValue where = iota // decode everything
	inPlan               // the top level: members outside eager are raw
)

func (d *jsonDecoder) value() (any, error) { return d.valueIn(inValue) }

func (d *jsonDecoder) valueIn(w where) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.fail("unexpected end")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(w)
	case c == '[':
		return d.array(w)
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, d.fail("unexpected character")
}

func (d *jsonDecoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.fail("invalid literal")
	}
	d.pos += len(word)
	return nil
}

// member says whether the value of key is decoded inside a w object.
func (d *jsonDecoder) member(w where, key string) bool {
	return w != inPlan || d.eager[key]
}

func (d *jsonDecoder) object(w where) (any, error) {
	d.depth++
	if d.depth > maxJSONDepth {
		return nil, d.fail("nested too deeply")
	}
	top := d.depth == 1
	d.pos++ // {
	m := make(map[string]any, 8)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return m, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.fail("expected a member name")
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.fail("expected ':'")
		}
		d.pos++
		d.skipSpace()
		start := d.pos
		var v any
		if w == inPlan && key == "resource_changes" {
			d.changes, err = d.changeList()
			v = json.RawMessage(d.data[start:d.pos])
		} else if d.member(w, key) {
			v, err = d.value()
		} else {
			err = d.skip()
			v = json.RawMessage(d.data[start:d.pos])
		}
		if err != nil {
			return nil, err
		}
		if top && d.spans != nil {
			d.spans[key] = [2]int{start, d.pos}
		}
		m[key] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail("unexpected end in object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return m, nil
		default:
			return nil, d.fail("expected ',' or '}'")
		}
	}
}

func (d *jsonDecoder) array(w where) (any, error) {
	d.depth++
	if d.depth > maxJSONDepth {
		return nil, d.fail("nested too deeply")
	}
	d.pos++ // [
	a := make([]any, 0, 4)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return a, nil
	}
	for {
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail("unexpected end in array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return a, nil
		default:
			return nil, d.fail("expected ',' or ']'")
		}
	}
}

// internMax is the longest string that is interned.
const internMax = 64

// internTable interns a document's short strings (member names, types,
// actions, repeated values) so that each is allocated about once: a
// direct-mapped table of the strings seen last, consulted with a hash of
// a few loads and one comparison, which is cheaper than a map. A string
// whose slot holds another replaces it; it is then allocated again, never
// wrong.
type internTable struct {
	slots []string // a power of two of them
}

// newInternTable makes a table of n slots, n a power of two.
func newInternTable(n int) *internTable { return &internTable{slots: make([]string, n)} }

// get returns b as a string, the table's copy when it has one.
func (t *internTable) get(b []byte) string {
	h := internHash(b) & uint64(len(t.slots)-1)
	if s := t.slots[h]; s == string(b) {
		return s
	}
	s := string(b)
	t.slots[h] = s
	return s
}

// internHash mixes b's length with up to 24 of its bytes (its first,
// middle and last eight).
func internHash(b []byte) uint64 {
	n := len(b)
	x := uint64(n) * 0x9e3779b97f4a7c15
	switch {
	case n >= 8:
		x ^= binary.LittleEndian.Uint64(b)
		x = bits.RotateLeft64(x*0xff51afd7ed558ccd, 29) ^ binary.LittleEndian.Uint64(b[n-8:])
		if n >= 16 {
			x = bits.RotateLeft64(x*0xc4ceb9fe1a85ec53, 29) ^ binary.LittleEndian.Uint64(b[n/2-4:])
		}
	case n >= 4:
		x ^= uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		x ^= uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16
	}
	x *= 0xff51afd7ed558ccd
	return x ^ x>>32
}

func (d *jsonDecoder) str() (string, error) {
	start := d.pos + 1
	i := stringSpecial(d.data, start)
	switch {
	case i >= len(d.data):
		d.pos = len(d.data)
		return "", d.fail("unexpected end in string")
	case d.data[i] == '"':
		b := d.data[start:i]
		d.pos = i + 1
		if len(b) <= internMax && d.intern != nil {
			return d.intern.get(b), nil
		}
		return string(b), nil
	case d.data[i] == '\\':
		return d.escapedStr(start)
	}
	d.pos = i
	return "", d.fail("control character in string")
}

// escapedStr decodes a string with escapes from its first content byte
// at start, as encoding/json does: the escapes of RFC 8259, a \u
// surrogate pair as one rune and a lone surrogate as U+FFFD, invalid
// UTF-8 coerced to U+FFFD; a control character or another escape is an
// error.
func (d *jsonDecoder) escapedStr(start int) (string, error) {
	data := d.data
	buf := make([]byte, 0, 64)
	i := start
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(data) {
				d.pos = len(data)
				return "", d.fail("unexpected end in string")
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r := hexEscape(data[i:])
				if r < 0 {
					d.pos = i
					return "", d.fail("invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := hexEscape(data[i:])
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				d.pos = i
				return "", d.fail("invalid string escape")
			}
			i += 2
		case c < 0x20:
			d.pos = i
			return "", d.fail("control character in string")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			buf = utf8.AppendRune(buf, r)
			i += size
		}
	}
	d.pos = len(data)
	return "", d.fail("unexpected end in string")
}

// hexEscape reads a \uXXXX escape at the start of b: its code unit, or
// -1 when b does not start with one.
func hexEscape(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	if err := d.skipNumber(); err != nil {
		return nil, err
	}
	b := d.data[start:d.pos]
	if d.intern == nil || len(b) > internMax {
		return json.Number(b), nil
	}
	return json.Number(d.intern.get(b)), nil
}

// skipNumber checks the grammar of the number at d.pos and moves past it.
func (d *jsonDecoder) skipNumber() error {
	end, ok := fastNumber(d.data, d.pos)
	d.pos = end
	if !ok {
		return d.fail("invalid number")
	}
	return nil
}

// skip checks the syntax of one value and moves past it without
// building anything.
func (d *jsonDecoder) skip() error {
	if d.pos >= len(d.data) {
		return d.fail("unexpected end")
	}
	if d.validated {
		return d.skipValidated()
	}
	switch c := d.data[d.pos]; {
	case c == '{', c == '[':
		if end, ok := fastSkip(d.data, d.pos); ok {
			d.pos = end
			return nil
		}
		return d.skipContainer() // for the error, or nesting past fastSkipDepth
	case c == '"':
		return d.skipString()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.skipNumber()
	}
	return d.fail("unexpected character")
}

// skipValidated moves past the value at d.pos of text that an earlier
// pass validated, finding only where it ends: a string's closing quote,
// a container's matching closer, a literal's or number's delimiter. On
// text that is not valid JSON it stops somewhere or at the end, with an
// error there; it never reads past the data.
func (d *jsonDecoder) skipValidated() error {
	data := d.data
	i := d.pos
	if c := data[i]; c == '"' || c == '{' || c == '[' {
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end := stringEnd(data, i+1)
				if end < 0 {
					d.pos = len(data)
					return d.fail("unexpected end in string")
				}
				if i = end; depth == 0 {
					d.pos = i
					return nil
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					d.pos = i + 1
					return nil
				}
			}
			i++
		}
		d.pos = len(data)
		return d.fail("unexpected end")
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			d.pos = i
			return nil
		}
		i++
	}
	d.pos = i
	return nil
}

// stringEnd returns the index just past the closing quote of the string
// whose contents start at data[i], or -1 when it has none: the first
// quote after an even run of backslashes.
func stringEnd(data []byte, i int) int {
	for {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			return -1
		}
		j := i + q
		k := j
		for k > i && data[k-1] == '\\' {
			k--
		}
		if (j-k)%2 == 0 {
			return j + 1
		}
		i = j + 1
	}
}

// skipContainer walks an object or array iteratively with an explicit
// stack of closers, checking the grammar as the recursive decoder does.
func (d *jsonDecoder) skipContainer() error {
	stack := make([]byte, 0, 32)
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.fail("unexpected end")
		}
		c := d.data[d.pos]
		switch c {
		case '{', '[':
			if len(stack) >= maxJSONDepth {
				return d.fail("nested too deeply")
			}
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			stack = append(stack, closer)
			d.pos++
			d.skipSpace()
			if d.pos < len(d.data) && d.data[d.pos] == closer {
				d.pos++
				stack = stack[:len(stack)-1]
				break
			}
			if closer == '}' {
				if err := d.skipMemberName(); err != nil {
					return err
				}
			}
			continue
		default:
			if err := d.skip(); err != nil {
				return err
			}
		}
		// After a value: ',' or the closer of the innermost container.
		for {
			if len(stack) == 0 {
				return nil
			}
			d.skipSpace()
			if d.pos >= len(d.data) {
				return d.fail("unexpected end")
			}
			closer := stack[len(stack)-1]
			switch d.data[d.pos] {
			case ',':
				d.pos++
				if closer == '}' {
					d.skipSpace()
					if err := d.skipMemberName(); err != nil {
						return err
					}
				}
			case closer:
				d.pos++
				stack = stack[:len(stack)-1]
				continue
			default:
				return d.fail("expected ',' or a closing bracket")
			}
			break
		}
	}
}

func (d *jsonDecoder) skipMemberName() error {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return d.fail("expected a member name")
	}
	if err := d.skipString(); err != nil {
		return err
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return d.fail("expected ':'")
	}
	d.pos++
	return nil
}

func (d *jsonDecoder) skipString() error {
	end, ok := fastString(d.data, d.pos+1)
	d.pos = end
	if ok {
		return nil
	}
	// fastString stopped at the byte that is wrong.
	switch data := d.data; {
	case end >= len(data) || data[end] == '\\' && end+1 >= len(data):
		d.pos = min(end, len(data))
		return d.fail("unexpected end in string")
	case data[end] == '\\' && data[end+1] == 'u':
		return d.fail("invalid \\u escape")
	case data[end] == '\\':
		return d.fail("invalid string escape")
	}
	return d.fail("control character in string")
}

// SWAR constants: a byte of ones, and each byte's high bit.
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// stringSpecial returns the index of the first byte at or after i that
// ends a string's plain run: a quote, a backslash or a control character
// (below 0x20); len(data) when there is none. It tests eight bytes at a
// time: for each target, a byte of w^target is zero, and (x-ones) & ^x &
// high marks the zero bytes (and below 0x20: (w-0x20*ones) & ^w & high
// the bytes under it); a mark can be wrong only above a true one, so the
// lowest mark is the first special byte.
func stringSpecial(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		q := w ^ ('"' * swarOnes)
		b := w ^ ('\\' * swarOnes)
		m := (q-swarOnes)&^q | (b-swarOnes)&^b | (w-0x20*swarOnes)&^w
		if m &= swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(data); i++ {
		if c := data[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}
