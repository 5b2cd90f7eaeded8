package tabular

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// splitAll parses a stream through the splitter with tiny blocks.
func splitAll(tb testing.TB, in string, size int) ([][]string, []string, error) {
	tb.Helper()
	sp, header, err := NewSplitter("t.csv", iotest.HalfReader(strings.NewReader(in)), size)
	if err != nil {
		return nil, nil, err
	}
	out := [][]string{header}
	var where []string
	for {
		b, err := sp.Next()
		if err == io.EOF {
			return out, where, nil
		}
		if err != nil {
			return nil, nil, err
		}
		c := NewCSVBlock("t.csv", b, header)
		for c.Next() {
			rec := make([]string, c.NumFields())
			for i := range rec {
				rec[i] = string(c.Field(i))
			}
			out = append(out, rec)
			where = append(where, c.Where())
		}
		if err := c.Err(); err != nil {
			return nil, nil, err
		}
		sp.Release(b)
	}
}

func TestSplitterMatchesSerial(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "billing", "focus", "focus_1.0_sample_1000_rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{
		"plain":          "a,b\n1,2\n3,4\n",
		"quoted newline": "a,b\n\"1\n2\",3\n\"x\"\"\ny\",5\n6,7",
		"bom crlf":       "\xEF\xBB\xBFa,b\r\n1,2\r\n",
		"blank lines":    "a,b\n\n1,2\n\n\n3,4\n",
		"multiline head": "\"a\nb\",c\n1,2\n",
		"sample":         string(sample),
	}
	for name, in := range inputs {
		for _, size := range []int{1, 7, 64, 1 << 20} {
			want, wantWhere, werr := readAll(t, in, 1<<20, false)
			got, gotWhere, gerr := splitAll(t, in, size)
			if werr != nil || gerr != nil {
				t.Fatalf("%s/%d: %v %v", name, size, werr, gerr)
			}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotWhere, wantWhere) {
				t.Fatalf("%s/%d: split parse differs from serial:\n%q %q\n%q %q", name, size, got, gotWhere, want, wantWhere)
			}
		}
	}
}

func TestSplitterErrors(t *testing.T) {
	if _, _, err := splitAll(t, "a,b\n1,2\n\"3,4\n", 4); err == nil || !strings.Contains(err.Error(), "line 3: unterminated quoted field") {
		t.Fatalf("%v", err)
	}
	if _, _, err := splitAll(t, "", 4); err == nil || !strings.Contains(err.Error(), "empty file") {
		t.Fatalf("%v", err)
	}
}

func TestLastRecordEnd(t *testing.T) {
	tests := map[string]int{
		"a,b\n1,2":       4,
		"a,\"b\n\",c\n1": 9,
		"\"open\n":       0,
		"x\n\"\"\"\"\ny": 7,
		"":               0,
	}
	for in, want := range tests {
		if got := lastRecordEnd([]byte(in)); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}
