package gate

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite golden files")

// assertGolden compares got with the golden file at path, or writes it
// when the tests run with -update.
func assertGolden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatalf("create golden dir: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatalf("write golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden file: %v (run the test with -update to create it)", err)
	}
	if bytes.Equal(want, got) {
		return
	}
	tb.Errorf("output differs from %s (- golden, + got; rerun with -update if the change is intended):\n%s",
		path, goldenDiff(string(want), string(got)))
}

// goldenDiff is a line diff of want and got with three lines of context:
// common leading and trailing lines are trimmed, the rest is diffed by
// longest common subsequence (or shown whole when too large), at most 80
// lines. Lines with invisible differences are quoted.
func goldenDiff(want, got string) string {
	const context, maxLines, maxCells = 3, 80, 1 << 20
	a, b := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	a, b = a[pre:len(a)-suf], b[pre:len(b)-suf]
	type op struct {
		kind byte // ' ', '-' or '+'
		line string
	}
	var ops []op
	if len(a)*len(b) > maxCells {
		for _, s := range a {
			ops = append(ops, op{'-', s})
		}
		for _, s := range b {
			ops = append(ops, op{'+', s})
		}
	} else {
		// lcs[i][j] is the length of the LCS of a[i:] and b[j:].
		lcs := make([][]int, len(a)+1)
		for i := range lcs {
			lcs[i] = make([]int, len(b)+1)
		}
		for i := len(a) - 1; i >= 0; i-- {
			for j := len(b) - 1; j >= 0; j-- {
				if a[i] == b[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		for i, j := 0, 0; i < len(a) || j < len(b); {
			switch {
			case i < len(a) && j < len(b) && a[i] == b[j]:
				ops = append(ops, op{' ', a[i]})
				i, j = i+1, j+1
			case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, op{'-', a[i]})
				i++
			default:
				ops = append(ops, op{'+', b[j]})
				j++
			}
		}
	}
	near := func(k int) bool { // within context lines of a change
		for d := max(0, k-context); d <= min(len(ops)-1, k+context); d++ {
			if ops[d].kind != ' ' {
				return true
			}
		}
		return false
	}
	out := []string{fmt.Sprintf("@@ golden line %d @@", pre+1)}
	skipped := false
	for k, o := range ops {
		if o.kind == ' ' && !near(k) {
			if !skipped {
				out = append(out, "  ...")
			}
			skipped = true
			continue
		}
		skipped = false
		line := strings.TrimSuffix(o.line, "\n")
		if strings.TrimRight(line, " \t") != line || strings.IndexFunc(line, func(r rune) bool {
			return r != '\t' && !unicode.IsPrint(r)
		}) >= 0 || !strings.HasSuffix(o.line, "\n") {
			line = strconv.Quote(o.line)
		}
		out = append(out, string(o.kind)+" "+line)
	}
	if len(out) > maxLines {
		out = append(out[:maxLines], fmt.Sprintf("... %d more lines", len(out)-maxLines))
	}
	return strings.Join(out, "\n")
}
