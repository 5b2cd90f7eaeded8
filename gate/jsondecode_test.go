package gate

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// skipEnds returns where skip leaves a decoder at the start of b, with and
// without the validated flag, and their errors.
func skipEnds(b []byte) (plain, fast int, plainErr, fastErr error) {
	d := &jsonDecoder{data: b}
	plainErr = d.skip()
	plain = d.pos
	v := &jsonDecoder{data: b, validated: true}
	fastErr = v.skip()
	return plain, v.pos, plainErr, fastErr
}

// randomJSON writes a random JSON value, escapes and backslash runs
// before quotes included.
func randomJSON(r *rand.Rand, sb *strings.Builder, depth int) {
	k := r.IntN(7)
	if depth > 4 {
		k = r.IntN(4)
	}
	switch k {
	case 0:
		sb.WriteString([]string{"true", "false", "null"}[r.IntN(3)])
	case 1:
		sb.WriteString([]string{"0", "-1.5e3", "12345678901234567890", "3.25"}[r.IntN(4)])
	case 2, 3:
		parts := []string{`a`, `\\`, `\"`, `\\\"`, `\u00e9`, `{`, `]`, `,`, ` `, `é`, `\n`, `\\\\`}
		sb.WriteByte('"')
		for range r.IntN(6) {
			sb.WriteString(parts[r.IntN(len(parts))])
		}
		sb.WriteByte('"')
	case 4:
		sb.WriteByte('[')
		for i := range r.IntN(4) {
			if i > 0 {
				sb.WriteString(" ,\n")
			}
			randomJSON(r, sb, depth+1)
		}
		sb.WriteByte(']')
	default:
		sb.WriteByte('{')
		for i := range r.IntN(4) {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`"k` + strings.Repeat(`\\`, i) + `" : `)
			randomJSON(r, sb, depth+1)
		}
		sb.WriteByte('}')
	}
}

// TestSkipValidated: on valid JSON, skipping without checking ends where
// the validating skip does; on truncated or broken text it stops inside
// the data.
func TestSkipValidated(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	for i := range 3000 {
		var sb strings.Builder
		randomJSON(r, &sb, 0)
		doc := sb.String()
		if !json.Valid([]byte(doc)) {
			t.Fatalf("generator wrote invalid JSON %q", doc)
		}
		b := []byte(doc + `, "next": 1}`)
		plain, fast, perr, ferr := skipEnds(b)
		if perr != nil || ferr != nil || plain != len(doc) || fast != plain {
			t.Fatalf("case %d %q: validating skip ends at %d (%v), validated skip at %d (%v); want %d", i, doc, plain, perr, fast, ferr, len(doc))
		}
		// Every prefix: no panic, and the position stays in the data.
		for cut := 1; cut < len(doc); cut++ {
			v := &jsonDecoder{data: b[:cut], validated: true}
			_ = v.skip()
			if v.pos < 0 || v.pos > cut {
				t.Fatalf("%q cut at %d: position %d", doc, cut, v.pos)
			}
		}
	}
	for _, tc := range []struct {
		doc string
		end int
	}{
		{`"a\\"x`, 5},
		{`"a\\\"b"`, 8},
		{`["]"]`, 5},
		{`{"a":"}"}`, 9},
		{`true,`, 4},
		{`-12.5e3]`, 7},
	} {
		_, fast, _, err := skipEnds([]byte(tc.doc))
		if err != nil || fast != tc.end {
			t.Errorf("%q: ends at %d (%v), want %d", tc.doc, fast, err, tc.end)
		}
	}
	for _, doc := range []string{`"abc`, `"ab\"`, `[1, [2]`, `{"a": "}`} {
		v := &jsonDecoder{data: []byte(doc), validated: true}
		if err := v.skip(); err == nil {
			t.Errorf("%q: no error for an unterminated value", doc)
		}
	}
}

func FuzzSkipValidated(f *testing.F) {
	f.Add([]byte(`{"a": ["b\\", {"c": "\"}"}], "d": -1}`))
	f.Add([]byte(`"\\\\\"x"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		plain, fast, perr, ferr := skipEnds(b)
		if fast < 0 || fast > len(b) {
			t.Fatalf("position %d outside %d bytes", fast, len(b))
		}
		// On a valid document (which callers reach past leading space)
		// both skips end its value at the same byte.
		if json.Valid(b) && !strings.ContainsRune(" \t\r\n", rune(b[0])) && (perr != nil || ferr != nil || fast != plain) {
			t.Fatalf("%q: validating skip ends at %d, validated skip at %d (%v)", b, plain, fast, ferr)
		}
	})
}

// checkString decodes the JSON string literal lit with the decoder and
// with encoding/json: on a string with an escape, or valid UTF-8, both
// succeed with the same string or both fail.
func checkString(t *testing.T, lit []byte) {
	t.Helper()
	var want string
	wantErr := json.Unmarshal(lit, &want)
	d := &jsonDecoder{data: lit, intern: newInternTable(32)}
	got, err := d.str()
	if err == nil && d.pos != len(lit) {
		return // the literal ended early: lit is more than one string
	}
	if !bytes.ContainsRune(lit, '\\') && !utf8.Valid(lit) {
		return // unescaped strings keep their bytes (encoding/json coerces)
	}
	if (err != nil) != (wantErr != nil) || got != want {
		t.Fatalf("%q: decoded %q (%v), encoding/json %q (%v)", lit, got, err, want, wantErr)
	}
}

func TestDecodeString(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"a\"b"`, `"aws_iam_role_policy_attachment.ssm[\"blue\"]"`,
		`"\\\/\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"\uD83D\uDE00"`, `"\ud83d\ude00x"`,
		`"\uD83D"`, `"\uD83Dx"`, `"\uDE00\uD83D"`, `"\uD83D\u0041"`, `"\uD83D\uD83D\uDE00"`,
		"\"\\u00e9\xff\"", "\"\\n\xc3\"", `"\x"`, `"\u12"`, `"\u12G4"`, `"\'"`, "\"a\\\"\x01\"",
		`"\`, `"\u`, `"abc\"`, `"é\"ü"`,
	} {
		checkString(t, []byte(lit))
	}
}

func FuzzDecodeString(f *testing.F) {
	f.Add([]byte(`"x[\"a\"]"`))
	f.Add([]byte(`"\uD83D\uDE00\u00e9"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		checkString(t, b)
	})
}

// TestInternTable: a string comes back equal, and the same copy while its
// slot holds it.
func TestInternTable(t *testing.T) {
	tab := newInternTable(64)
	words := []string{"", "a", "tags", "create", "aws_s3_bucket", "module.app[\"api\"].aws_cloudwatch_log_group.flow_logs", "123"}
	for _, w := range words {
		first := tab.get([]byte(w))
		again := tab.get([]byte(w))
		if first != w || again != w {
			t.Fatalf("%q: got %q then %q", w, first, again)
		}
		if len(w) > 0 && unsafe.StringData(first) != unsafe.StringData(again) {
			t.Errorf("%q: allocated twice in a row", w)
		}
	}
	// Colliding strings replace each other and stay correct.
	small := newInternTable(1)
	for range 3 {
		for _, w := range words {
			if got := small.get([]byte(w)); got != w {
				t.Fatalf("one-slot table: %q for %q", got, w)
			}
		}
	}
}

// TestStringSpecial: the eight-at-a-time scan finds the first quote,
// backslash or control byte the byte loop finds, for bytes around every
// boundary its arithmetic could blur (0x1f/0x20, 0x21/0x23 around the
// quote, 0x5b/0x5d around the backslash, 0x7f/0x80, 0xff, 0x00).
func TestStringSpecial(t *testing.T) {
	alphabet := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, '"', 0x23, 0x5b, '\\', 0x5d, 'a', 0x7f, 0x80, 0xa2, 0xdc, 0xff}
	naive := func(b []byte, i int) int {
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
				return i
			}
		}
		return i
	}
	r := rand.New(rand.NewPCG(14, 2))
	for n := range 5000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = 'x'
			if r.IntN(6) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		for i := 0; i <= len(b); i++ {
			if got, want := stringSpecial(b, i), naive(b, i); got != want {
				t.Fatalf("case %d %q from %d: %d, want %d", n, b, i, got, want)
			}
		}
	}
}
