package gate

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costgate/costgate/internal/plangen"
)

// skipBoth runs fastSkip and skipContainer on b (which starts with a
// container) and reports whether they disagree: on validity, or on where
// a valid value ends. fastSkip may refuse what nests past fastSkipDepth.
func skipBoth(t *testing.T, b []byte) {
	t.Helper()
	end, ok := fastSkip(b, 0)
	d := &jsonDecoder{data: b}
	err := d.skipContainer()
	if end < 0 || end > len(b) {
		t.Fatalf("%.200q: fastSkip position %d outside %d bytes", b, end, len(b))
	}
	switch {
	case ok && err != nil:
		t.Fatalf("%.200q: fastSkip accepts (end %d), skipContainer: %v", b, end, err)
	case !ok && err == nil && bytes.Count(b, []byte{'['})+bytes.Count(b, []byte{'{'}) <= fastSkipDepth:
		t.Fatalf("%.200q: fastSkip refuses at %d, skipContainer accepts (end %d)", b, end, d.pos)
	case ok && end != d.pos:
		t.Fatalf("%.200q: fastSkip ends at %d, skipContainer at %d", b, end, d.pos)
	}
	// encoding/json is the oracle both share none of their code with.
	deep := bytes.Count(b, []byte{'['})+bytes.Count(b, []byte{'{'}) > fastSkipDepth
	switch {
	case ok && !json.Valid(b[:end]):
		t.Fatalf("%.200q: fastSkip accepts %d bytes encoding/json rejects", b, end)
	case json.Valid(b) && !deep && len(bytes.TrimRight(b, " \t\r\n")) == len(b) && (!ok || end != len(b)):
		t.Fatalf("%.200q: valid JSON, fastSkip ok %v at %d of %d", b, ok, end, len(b))
	}
}

// TestFastSkip compares fastSkip with skipContainer on random documents
// (escapes and backslash runs included), every prefix of them, single
// byte changes, hand-picked invalid ones, deep nesting and every plan in
// testdata.
func TestFastSkip(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 1))
	junk := []byte(`{}[]":,\ u0aZ-+.eE1tfn` + "\x00\x1f\t\n\xff")
	for range 3000 {
		var sb strings.Builder
		sb.WriteString(`{"k": `)
		randomJSON(r, &sb, 0)
		sb.WriteString(`, "z": [1, -2.5e+3, true, false, null, "x"]}`)
		doc := []byte(sb.String())
		skipBoth(t, append(doc, ` , "rest"`...))
		for cut := 1; cut < len(doc); cut += 1 + len(doc)/40 {
			skipBoth(t, doc[:cut])
		}
		for range 5 {
			m := bytes.Clone(doc)
			m[1+r.IntN(len(m)-1)] = junk[r.IntN(len(junk))]
			skipBoth(t, m)
		}
	}
	for _, s := range []string{
		`{}`, `[]`, `{ }`, `[ ]`, `{"a":1}`, `[1,2]`, `{"a":1,}`, `[1,]`, `{,}`, `[,1]`, `{"a"}`, `{"a":}`, `{1:2}`,
		`["\u12"]`, `["\u12G4"]`, `["\x"]`, "[\"\x01\"]", `[01]`, `[-]`, `[1.]`, `[.5]`, `[1e]`, `[1e+]`, `[-0.0e-0]`,
		`[tru]`, `[nul]`, `[falsey]`, `[true false]`, `{"a":1 "b":2}`, `[[[]]`, `[]]`, `{"a":[}`, `[1}`, `{"a":1]`,
		"[\"a\\\\\"]", "[\"a\\\\\\\"\"]", `[1, 2, 3`, `{"a"  :  [ 1 , { "b" : null } ] }`,
	} {
		skipBoth(t, []byte(s))
	}
	deep := []byte(strings.Repeat("[", fastSkipDepth+5) + strings.Repeat("]", fastSkipDepth+5))
	if _, ok := fastSkip(deep, 0); ok {
		t.Errorf("fastSkip accepted nesting past %d", fastSkipDepth)
	}
	d := &jsonDecoder{data: deep}
	if err := d.skip(); err != nil || d.pos != len(deep) {
		t.Errorf("skip of %d levels: %v at %d", fastSkipDepth+5, err, d.pos)
	}
	files, _ := filepath.Glob("../testdata/plans/*.json")
	if len(files) < 20 {
		t.Fatalf("%d plans in testdata", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.IndexAny(b, "{["); i >= 0 {
			skipBoth(t, b[i:])
		}
	}
}

func FuzzFastSkip(f *testing.F) {
	f.Add([]byte(`{"a": ["b\\", {"c": "\"}"}], "d": -1}`))
	f.Add([]byte(`[1, 2.5e-3, "\u00e9", [], {}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || (b[0] != '{' && b[0] != '[') {
			return
		}
		skipBoth(t, b)
	})
}

// BenchmarkSkipPlan skips a generated 100-resource plan whole, the way
// ParsePlan's first pass skips the members it keeps raw.
func BenchmarkSkipPlan(b *testing.B) {
	var buf bytes.Buffer
	if err := plangen.Write(&buf, plangen.Options{Resources: 100, Seed: 1, UntaggedPercent: 10}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.Run("fastSkip", func(b *testing.B) {
		for b.Loop() {
			if _, ok := fastSkip(data, 0); !ok {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("skipContainer", func(b *testing.B) {
		for b.Loop() {
			d := &jsonDecoder{data: data}
			if err := d.skipContainer(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
