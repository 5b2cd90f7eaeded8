package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
