package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// viaInterface is what JSONValue replaces: encoding/json with exact
// numbers, then ast.InterfaceToValue.
func viaInterface(t *testing.T, b []byte) ast.Value {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out, err := ast.InterfaceToValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJSONValue: JSONValue gives the value encoding/json and
// ast.InterfaceToValue give, on every admission sample and fixture plan
// and on edge cases (escapes, exact numbers, a repeated key, empty
// containers).
func TestJSONValue(t *testing.T) {
	var files []string
	for _, glob := range []string{"../testdata/admission/*.json", "../testdata/plans/*.json", "../testdata/runtasks/*.json"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 40 {
		t.Fatalf("only %d files", len(files))
	}
	docs := map[string][]byte{
		"escapes":      []byte(`{"a\"b": "line\nbreak \u00e9 \ud83d\ude00", "t": "\t"}`),
		"numbers":      []byte(`[0, -0, 1, 007e1, 12345678901234567890123, 1.50, -2.5e-3, 1E2, 511, 512, 1000]`),
		"repeated key": []byte(`{"a": 1, "b": 2, "a": 3}`),
		"empties":      []byte(` {"o": {}, "a": [], "n": null, "t": true, "f": false} `),
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if json.Valid(b) {
			docs[f] = b
		}
	}
	for name, b := range docs {
		if name == "numbers" {
			b = []byte(strings.Replace(string(b), "007e1, ", "", 1)) // not JSON
		}
		got, err := JSONValue(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want := viaInterface(t, b); got.Compare(want) != 0 {
			t.Errorf("%s: JSONValue differs from InterfaceToValue:\n%v\nwant\n%v", name, got, want)
		}
	}
	if v, _ := JSONValue([]byte(`{"a": 1, "b": 2, "a": 3}`)); v.(ast.Object).Len() != 2 || v.(ast.Object).Get(ast.StringTerm("a")).Value.Compare(ast.Number("3")) != 0 {
		t.Errorf("repeated key: %v, want a=3 once", v)
	}
	if v, err := JSONValue([]byte("  ")); err != nil || v.Compare(ast.Null{}) != 0 {
		t.Errorf("empty input: %v, %v; want null", v, err)
	}
	for _, bad := range []string{`{"a": }`, `[1, 2`, `{"a" 1}`, `tru`, `{"a": 1} x`, `"\x01"`, `01`, strings.Repeat("[", 10000)} {
		if _, err := JSONValue([]byte(bad)); !errors.Is(err, errJSONSyntax) {
			t.Errorf("%q: error %v, want a syntax error", bad, err)
		}
	}
}

// TestJSONValueAt: the bytes returned are those of the value at the
// path, exactly as written, for the same value JSONValue gives; a path
// through an array, to a missing key or into a scalar finds nothing; a
// repeated key gives its last value, as the decoded object keeps.
func TestJSONValueAt(t *testing.T) {
	doc := []byte(`{"kind": "R", "request": {"uid": "u1", "object": {"a": [1, {"object": 2}], "b": "x"} , "list": [{"object": 3}]},
	 "object": 4}`)
	v, at, err := JSONValueAt(doc, "request", "object")
	if err != nil {
		t.Fatal(err)
	}
	if string(at) != `{"a": [1, {"object": 2}], "b": "x"}` {
		t.Errorf("request.object bytes %q", at)
	}
	whole, _ := JSONValue(doc)
	if v.Compare(whole) != 0 {
		t.Errorf("value %v, want %v", v, whole)
	}
	for _, tc := range []struct {
		path []string
		want string
	}{
		{[]string{"object"}, "4"},
		{[]string{"request", "uid"}, `"u1"`},
		{[]string{"request", "object", "b"}, `"x"`},
		{[]string{"request", "list", "object"}, ""}, // through an array
		{[]string{"request", "missing"}, ""},
		{[]string{"kind", "x"}, ""}, // into a string
		{nil, ""},
	} {
		if _, at, err := JSONValueAt(doc, tc.path...); err != nil || string(at) != tc.want {
			t.Errorf("%v: %q, %v; want %q", tc.path, at, err, tc.want)
		}
	}
	if _, at, _ := JSONValueAt([]byte(`{"o": 1, "o": [2]}`), "o"); string(at) != "[2]" {
		t.Errorf("repeated key: %q, want the last value", at)
	}
	if _, at, err := JSONValueAt([]byte(`{"o": {"p": 1}, "x": }`), "o"); err == nil || at != nil {
		t.Errorf("bad document: %q, %v; want an error and nothing", at, err)
	}
}

func TestKeyTerm(t *testing.T) {
	a, b := KeyTerm("x-costgate-key-term-test"), KeyTerm("x-costgate-key-term-test")
	if a != b {
		t.Error("the same key gave two terms; want one shared term")
	}
	// Seen twice, the key is published: read without the lock.
	if m := keyTerms.read.Load(); m == nil || (*m)["x-costgate-key-term-test"] != a {
		t.Error("a key seen twice was not published")
	}
	// Goroutines asking for the same new keys at once get one term each.
	var wg sync.WaitGroup
	got := make([][]*ast.Term, 8)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				got[g] = append(got[g], KeyTerm(fmt.Sprintf("concurrent-%d", i)))
			}
		}()
	}
	wg.Wait()
	for g := 1; g < len(got); g++ {
		for i := range got[g] {
			if got[g][i] != got[0][i] {
				t.Fatalf("goroutine %d got another term for concurrent-%d", g, i)
			}
		}
	}
	if a.Value.Compare(ast.String("x-costgate-key-term-test")) != 0 {
		t.Errorf("KeyTerm = %v", a)
	}
	long := strings.Repeat("k", maxKeyTermLen+1)
	if l1, l2 := KeyTerm(long), KeyTerm(long); l1 == l2 {
		t.Error("a key longer than maxKeyTermLen was cached")
	}
	// Hostile documents with ever new keys cannot grow the cache past
	// its bound.
	for i := range maxKeyTerms + 100 {
		KeyTerm(fmt.Sprintf("flood-%d", i))
	}
	keyTerms.mu.Lock()
	n, pending := keyTerms.n, len(keyTerms.pending)
	published := 0
	if m := keyTerms.read.Load(); m != nil {
		published = len(*m)
	}
	keyTerms.mu.Unlock()
	if n > maxKeyTerms || published+pending != n {
		t.Errorf("%d cached keys (%d published, %d pending), want at most %d", n, published, pending, maxKeyTerms)
	}
	// A key made again after the cache is full is still a correct term.
	if k := KeyTerm("flood-after-the-cap"); k.Value.Compare(ast.String("flood-after-the-cap")) != 0 {
		t.Errorf("KeyTerm past the cap = %v", k)
	}
	// Keys in decoded documents are the shared terms.
	v, err := JSONValue([]byte(`[{"x-costgate-key-term-test": 1}, {"x-costgate-key-term-test": 2}]`))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		var key *ast.Term
		v.(*ast.Array).Elem(i).Value.(ast.Object).Foreach(func(k, _ *ast.Term) { key = k })
		if key != a {
			t.Errorf("element %d: key term not shared", i)
		}
	}
}
