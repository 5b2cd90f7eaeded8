package tabular

import (
	"encoding/csv"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func readAll(tb testing.TB, in string, bufSize int, oneByte bool) ([][]string, []string, error) {
	tb.Helper()
	var r io.Reader = strings.NewReader(in)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	c, err := newCSV("t.csv", r, bufSize)
	if err != nil {
		return nil, nil, err
	}
	out := [][]string{c.Columns()}
	var where []string
	for c.Next() {
		rec := make([]string, c.NumFields())
		for i := range rec {
			rec[i] = string(c.Field(i))
		}
		out = append(out, rec)
		where = append(where, c.Where())
	}
	return out, where, c.Err()
}

func TestCSV(t *testing.T) {
	tests := map[string]struct {
		in    string
		want  [][]string
		where []string
		err   string
	}{
		"plain":            {in: "a,b\n1,2\n3,4\n", want: [][]string{{"a", "b"}, {"1", "2"}, {"3", "4"}}, where: []string{"line 2", "line 3"}},
		"crlf":             {in: "a,b\r\n1,2\r\n", want: [][]string{{"a", "b"}, {"1", "2"}}},
		"no final newline": {in: "a,b\n1,2", want: [][]string{{"a", "b"}, {"1", "2"}}},
		"bom":              {in: "\xEF\xBB\xBFa,b\n1,2\n", want: [][]string{{"a", "b"}, {"1", "2"}}},
		"quoted":           {in: "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", want: [][]string{{"a", "b"}, {"x,y", `say "hi"`}}},
		"quoted newline":   {in: "a,b\n\"1\n2\",3\n4,5\n", want: [][]string{{"a", "b"}, {"1\n2", "3"}, {"4", "5"}}, where: []string{"line 2", "line 4"}},
		"empty fields":     {in: "a,b,c\n,,\n", want: [][]string{{"a", "b", "c"}, {"", "", ""}}},
		"trailing empty":   {in: "a,b\n1,", want: [][]string{{"a", "b"}, {"1", ""}}},
		"blank lines":      {in: "a,b\n\n1,2\n\n", want: [][]string{{"a", "b"}, {"1", "2"}}, where: []string{"line 3"}},
		"pad after quote":  {in: "a,b\n\"1\" ,2\n", want: [][]string{{"a", "b"}, {"1", "2"}}},
		"quote mid field":  {in: "a,b\nx\"y,2\n", want: [][]string{{"a", "b"}, {`x"y`, "2"}}},
		"unterminated":     {in: "a,b\n\"1,2\n", err: "t.csv: line 2: unterminated quoted field"},
		"field count":      {in: "a,b\n1,2,3\n", err: "t.csv: line 2: 3 fields, but the header has 2"},
		"empty":            {in: "", err: "t.csv: empty file, no header"},
	}
	for name, tc := range tests {
		for _, mode := range []struct {
			size    int
			oneByte bool
		}{{1 << 20, false}, {4, true}, {7, false}} {
			t.Run(fmt.Sprintf("%s/buf%d", name, mode.size), func(t *testing.T) {
				got, where, err := readAll(t, tc.in, mode.size, mode.oneByte)
				if tc.err != "" {
					if err == nil || !strings.Contains(err.Error(), tc.err) {
						t.Fatalf("error %v, want %q", err, tc.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
				if tc.where != nil && !reflect.DeepEqual(where, tc.where) {
					t.Fatalf("positions %q, want %q", where, tc.where)
				}
			})
		}
	}
}

// FuzzCSV compares with encoding/csv on every input it accepts.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\n\"x\ny\"\n", "a,b\r\n\"\"\"\",\n", "x,y\n\n,\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.ContainsRune(in, '\r') || strings.HasPrefix(in, "\xEF\xBB\xBF") {
			return // encoding/csv rewrites \r\n inside quotes; BOMs are ours
		}
		cr := csv.NewReader(strings.NewReader(in))
		want, err := cr.ReadAll()
		if err != nil || len(want) == 0 {
			return
		}
		for _, rec := range want {
			if len(rec) == 1 && rec[0] == "" {
				return // a record of one empty field: ours skips it as a blank line
			}
		}
		for _, size := range []int{3, 4096} {
			got, _, err := readAll(t, in, size, false)
			if err != nil {
				t.Fatalf("%q: %v (encoding/csv read %q)", in, err, want)
			}
			if len(got) != len(want) {
				t.Fatalf("%q: %d records, encoding/csv %d (%q vs %q)", in, len(got), len(want), got, want)
			}
			for i := range want[0] {
				want[0][i] = strings.TrimSpace(want[0][i]) // header names are trimmed
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%q: record %d %q, encoding/csv %q", in, i, got[i], want[i])
				}
			}
		}
	})
}

// TestRawField: an escaped field reads raw (with its "" escapes) until
// Field unquotes it, once; a record's flags do not leak into the next.
func TestRawField(t *testing.T) {
	in := "a,b,c\n\"{\"\"k\"\":\"\"v\"\"}\",plain,\"q\"\n\"x\"\"y\",\"\",z\n"
	c, err := NewCSV("t.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Next() {
		t.Fatal(c.Err())
	}
	raw, esc := c.RawField(0)
	if string(raw) != `{""k"":""v""}` || !esc {
		t.Errorf("raw field 0: %q escaped %v", raw, esc)
	}
	if raw, esc := c.RawField(2); string(raw) != "q" || esc {
		t.Errorf("raw field 2: %q escaped %v", raw, esc)
	}
	for range 2 {
		if got := string(c.Field(0)); got != `{"k":"v"}` {
			t.Errorf("field 0: %q", got)
		}
	}
	if raw, esc := c.RawField(0); string(raw) != `{"k":"v"}` || esc {
		t.Errorf("raw field 0 after Field: %q escaped %v", raw, esc)
	}
	if !c.Next() {
		t.Fatal(c.Err())
	}
	if raw, esc := c.RawField(0); string(raw) != `x""y` || !esc {
		t.Errorf("second record, raw field 0: %q escaped %v", raw, esc)
	}
	if raw, esc := c.RawField(1); len(raw) != 0 || esc {
		t.Errorf("second record, raw field 1: %q escaped %v", raw, esc)
	}
	if got := string(c.Field(0)); got != `x"y` {
		t.Errorf("second record, field 0: %q", got)
	}
}
