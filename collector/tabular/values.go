package tabular

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/costgate/costgate"
)

// IsNull reports whether a field is null: empty, or the literal NULL or
// null that some exporters write.
func IsNull(b []byte) bool {
	switch len(b) {
	case 0:
		return true
	case 4:
		return string(b) == "NULL" || string(b) == "null"
	}
	return false
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// ParseNanos parses a decimal number into nano-units (1e-9), exactly as
// costgate.ParseMoney does: more than nine fractional digits round half
// away from zero, exponents are allowed. It also takes what spreadsheets
// write: surrounding spaces, a leading $ and thousands separators in
// groups of three ("$10,100.00 ").
func ParseNanos(b []byte) (int64, error) {
	// Fast path: [-]digits[.digits], at most 9 significant fraction
	// digits after trimming zeros, no overflow.
	if v, ok := fastNanos(b); ok {
		return v, nil
	}
	s := bytes.TrimSpace(b)
	if len(s) > 0 && (s[0] == '$' || (len(s) > 1 && (s[0] == '-' || s[0] == '+') && s[1] == '$') || bytes.IndexByte(s, ',') >= 0) {
		t, err := spreadsheetNumber(s)
		if err != nil {
			return 0, err
		}
		s = t
	}
	m, err := costgate.ParseMoney(string(s))
	if err != nil {
		return 0, err
	}
	return int64(m), nil
}

func fastNanos(b []byte) (int64, bool) {
	i := 0
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		i = 1
	}
	sawDigit := false
	var ip int64
	sig := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sawDigit = true
		if ip != 0 || b[i] != '0' {
			sig++
		}
		if sig > 18 {
			return 0, false
		}
		ip = ip*10 + int64(b[i]-'0')
	}
	var frac int64
	fd := 0
	if i < len(b) && b[i] == '.' {
		i++
		end := len(b)
		for end > i && b[end-1] == '0' {
			end--
			sawDigit = true
		}
		if end-i > 9 {
			return 0, false
		}
		for ; i < end; i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			sawDigit = true
			frac = frac*10 + int64(c-'0')
			fd++
		}
		i = len(b)
	}
	if i != len(b) || !sawDigit {
		return 0, false
	}
	f := frac * pow10[9-fd]
	if ip > (math.MaxInt64-f)/1_000_000_000 {
		return 0, false
	}
	v := ip*1_000_000_000 + f
	if neg {
		v = -v
	}
	return v, true
}

// spreadsheetNumber drops a $ sign and thousands separators, accepting
// commas only between groups of three digits before the point.
func spreadsheetNumber(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		out = append(out, s[i])
		i++
	}
	if i < len(s) && s[i] == '$' {
		i++
	}
	body := s[i:]
	intPart, rest := body, []byte(nil)
	if k := bytes.IndexByte(body, '.'); k >= 0 {
		intPart, rest = body[:k], body[k:]
	}
	if bytes.IndexByte(rest, ',') >= 0 {
		return nil, fmt.Errorf("%q: a comma after the decimal point (use . for decimals)", s)
	}
	groups := bytes.Split(intPart, []byte{','})
	for gi, g := range groups {
		if (gi == 0 && (len(g) == 0 || len(g) > 3) && len(groups) > 1) || (gi > 0 && len(g) != 3) {
			return nil, fmt.Errorf("%q: commas must separate thousands (1,234,567.89)", s)
		}
		out = append(out, g...)
	}
	return append(out, rest...), nil
}

// ParseMoney parses an amount (see ParseNanos).
func ParseMoney(b []byte) (costgate.Money, error) {
	v, err := ParseNanos(b)
	return costgate.Money(v), err
}

// ParseQuantity parses a quantity (see ParseNanos).
func ParseQuantity(b []byte) (costgate.Quantity, error) {
	v, err := ParseNanos(b)
	return costgate.Quantity(v), err
}

// ErrTime reports an unparseable timestamp.
var ErrTime = errors.New("want a date-time such as 2024-09-01T00:00:00Z, 2024-09-01 00:00:00 or 2024-09-01")

// ParseTime parses the timestamps billing exports write, all as UTC
// unless an offset is given:
//
//	2024-09-01T00:00:00Z, 2024-09-01T00:00:00.000Z, 2024-09-01 00:00:00,
//	2024-09-01T00:00:00+02:00, 2024-09-01T00:00, 2024-09-01,
//	20231101T000000.000Z (CUR manifests), 9/1/24 and 9/1/2024 (US
//	month/day/year, as spreadsheets write them).
func ParseTime(b []byte) (time.Time, error) {
	b = bytes.TrimSpace(b)
	if t, ok := parseISO(b); ok {
		return t, nil
	}
	if t, ok := parseCompact(b); ok {
		return t, nil
	}
	if t, ok := parseUS(b); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("parse time %q: %w", b, ErrTime)
}

func num(b []byte, i, n int) (int, bool) {
	if i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func mkTime(y, mo, d, h, mi, s, ns int) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false
	}
	if s == 60 {
		s = 59 // a leap second is the last second of its minute here
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // 2024-02-30
	}
	return t, true
}

func parseISO(b []byte) (time.Time, bool) {
	y, ok1 := num(b, 0, 4)
	mo, ok2 := num(b, 5, 2)
	d, ok3 := num(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	if len(b) == 10 {
		return mkTime(y, mo, d, 0, 0, 0, 0)
	}
	if len(b) < 16 || (b[10] != 'T' && b[10] != ' ' && b[10] != 't') || b[13] != ':' {
		return time.Time{}, false
	}
	h, ok1 := num(b, 11, 2)
	mi, ok2 := num(b, 14, 2)
	if !ok1 || !ok2 {
		return time.Time{}, false
	}
	i := 16
	s, ns := 0, 0
	if i < len(b) && b[i] == ':' {
		var ok bool
		if s, ok = num(b, i+1, 2); !ok {
			return time.Time{}, false
		}
		i += 3
		if i < len(b) && (b[i] == '.' || b[i] == ',') {
			i++
			start := i
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				if i-start < 9 {
					ns = ns*10 + int(b[i]-'0')
				}
				i++
			}
			if i == start {
				return time.Time{}, false
			}
			for k := i - start; k < 9; k++ {
				ns *= 10
			}
		}
	}
	t, ok := mkTime(y, mo, d, h, mi, s, ns)
	if !ok {
		return time.Time{}, false
	}
	if i < len(b) && b[i] == ' ' {
		i++ // "2024-09-01 00:00:00 +00:00", "... UTC"
	}
	switch rest := b[i:]; {
	case len(rest) == 0, string(rest) == "Z", string(rest) == "z", string(rest) == "UTC":
		return t, true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':',
		len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'),
		len(rest) == 3 && (rest[0] == '+' || rest[0] == '-'):
		oh, ok1 := num(rest, 1, 2)
		om := 0
		ok2 := true
		switch len(rest) {
		case 6:
			om, ok2 = num(rest, 4, 2)
		case 5:
			om, ok2 = num(rest, 3, 2)
		}
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
		if rest[0] == '+' {
			return t.Add(-off), true
		}
		return t.Add(off), true
	}
	return time.Time{}, false
}

// parseCompact parses 20231101T000000.000Z and 20231101.
func parseCompact(b []byte) (time.Time, bool) {
	y, ok1 := num(b, 0, 4)
	mo, ok2 := num(b, 4, 2)
	d, ok3 := num(b, 6, 2)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	if len(b) == 8 {
		return mkTime(y, mo, d, 0, 0, 0, 0)
	}
	if len(b) < 15 || b[8] != 'T' {
		return time.Time{}, false
	}
	h, ok1 := num(b, 9, 2)
	mi, ok2 := num(b, 11, 2)
	s, ok3 := num(b, 13, 2)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	rest := b[15:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		k := 1
		for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			if k <= 9 {
				ns = ns*10 + int(rest[k]-'0')
			}
			k++
		}
		for j := k; j <= 9; j++ {
			ns *= 10
		}
		rest = rest[k:]
	}
	if len(rest) != 0 && string(rest) != "Z" {
		return time.Time{}, false
	}
	return mkTime(y, mo, d, h, mi, s, ns)
}

// parseUS parses M/D/YY or M/D/YYYY with an optional " H:MM[:SS]".
func parseUS(b []byte) (time.Time, bool) {
	var parts [3]int
	i := 0
	for p := 0; p < 3; p++ {
		start := i
		v := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 4 {
			v = v*10 + int(b[i]-'0')
			i++
		}
		n := i - start
		if n == 0 || (p < 2 && n > 2) || (p == 2 && n != 2 && n != 4) {
			return time.Time{}, false
		}
		if p == 2 && n == 2 {
			v += 2000
		}
		parts[p] = v
		if p < 2 {
			if i >= len(b) || b[i] != '/' {
				return time.Time{}, false
			}
			i++
		}
	}
	h, mi, s := 0, 0, 0
	if i < len(b) {
		if b[i] != ' ' {
			return time.Time{}, false
		}
		rest := b[i+1:]
		k := bytes.IndexByte(rest, ':')
		if k < 1 || k > 2 {
			return time.Time{}, false
		}
		var ok bool
		if h, ok = num(rest, 0, k); !ok {
			return time.Time{}, false
		}
		rest = rest[k+1:]
		if mi, ok = num(rest, 0, 2); !ok {
			return time.Time{}, false
		}
		rest = rest[2:]
		if len(rest) > 0 {
			if rest[0] != ':' || len(rest) != 3 {
				return time.Time{}, false
			}
			if s, ok = num(rest, 1, 2); !ok {
				return time.Time{}, false
			}
		}
	}
	return mkTime(parts[2], parts[0], parts[1], h, mi, s, 0)
}

// TimeCache parses timestamps of one column, reusing the last result:
// billing rows come in runs of the same hour or day.
type TimeCache struct {
	last []byte
	t    time.Time
}

// Parse parses b (see ParseTime).
func (c *TimeCache) Parse(b []byte) (time.Time, error) {
	if c.last != nil && bytes.Equal(b, c.last) {
		return c.t, nil
	}
	t, err := ParseTime(b)
	if err != nil {
		return t, err
	}
	c.last = append(c.last[:0], b...)
	c.t = t
	return t, nil
}

// Interner shares the strings of a column: billing data repeats the same
// few values millions of times.
type Interner struct {
	m     map[string]string
	limit int
	last  string
}

// NewInterner returns an interner that starts over after limit distinct
// values (0: 1<<20).
func NewInterner(limit int) *Interner {
	if limit <= 0 {
		limit = 1 << 20
	}
	return &Interner{m: map[string]string{}, limit: limit}
}

// String returns b as a shared string.
func (in *Interner) String(b []byte) string {
	if string(b) == in.last {
		return in.last // runs of the same value are the common case
	}
	s, ok := in.m[string(b)]
	if !ok {
		if len(in.m) >= in.limit {
			clear(in.m)
		}
		s = string(b)
		in.m[s] = s
	}
	in.last = s
	return s
}

// TagCache decodes Tags JSON objects, sharing the map between rows with
// the same text (the store recognises shared maps and reads them once).
type TagCache struct {
	m map[string]map[string]string
}

// Parse decodes a JSON object of tags. Values that are not strings keep
// their JSON text (numbers, booleans; null is an empty value). The
// returned map must not be modified.
func (c *TagCache) Parse(b []byte) (map[string]string, error) {
	if m, ok := c.m[string(b)]; ok {
		return m, nil
	}
	m, err := ParseTags(b)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]map[string]string{}
	}
	if len(c.m) >= 1<<16 {
		clear(c.m)
	}
	c.m[string(b)] = m
	return m, nil
}

// ParseTags decodes a JSON object of tags (see TagCache.Parse).
func ParseTags(b []byte) (map[string]string, error) {
	b = bytes.TrimSpace(b)
	if IsNull(b) || string(b) == "{}" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("tags: want a JSON object such as {\"team\": \"payments\"}: %w", err)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("tags: %q: %w", k, err)
			}
			m[k] = s
		case string(v) == "null":
			m[k] = ""
		default:
			m[k] = string(v)
		}
	}
	return m, nil
}

// FormatFloat renders a double as the shortest decimal that reads back
// as the same double: the number the writer meant, for exact parsing.
func FormatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
