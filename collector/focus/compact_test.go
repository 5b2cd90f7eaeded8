package focus

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector/tabular"
	"github.com/costgate/costgate/internal/billgen"
)

// TestPackedBatches: a packed batch gives back, row by row, exactly the
// rows it was packed from (compared with each unpacked row turned into a
// CodedRow directly), whatever fields vary: all of them, only some, none
// (every row the same: no records at all), and one row.
func TestPackedBatches(t *testing.T) {
	const path = "gen.csv"
	var data bytes.Buffer
	if _, err := billgen.WriteCSV(&data, billgen.Options{Seed: 9, Rows: 3_000, Months: 2}); err != nil {
		t.Fatal(err)
	}
	c, err := tabular.NewCSV(path, &data)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDecoder(path, c.Columns())
	if err != nil {
		t.Fatal(err)
	}
	dec := newCompactDecoder(d, nil)
	var rows []compactRow
	for c.Next() {
		rows = append(rows, compactRow{})
		if err := dec.decode(c, &rows[len(rows)-1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Err(); err != nil || len(rows) < 1000 || len(dec.t.maps) < 2 {
		t.Fatalf("%d rows and %d tag maps decoded, err %v", len(rows), len(dec.t.maps), err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	some := make([]int32, 0, len(rows))
	for i := range rows {
		if rng.IntN(3) == 0 {
			some = append(some, int32(i))
		}
	}
	same := make([]compactRow, 5)
	for i := range same {
		same[i] = rows[7]
	}
	// Rows that differ only in their tags and one amount.
	tagged := make([]compactRow, 4)
	for i := range tagged {
		tagged[i] = rows[0]
		tagged[i].tags = uint32(i % 2)
		tagged[i].money[1] = int64(i)
	}
	for _, tc := range []struct {
		name string
		rows []compactRow
		idx  []int32
	}{
		{"all", rows, seq(len(rows))},
		{"some", rows, some},
		{"one", rows, []int32{42}},
		{"same", same, seq(len(same))},
		{"tagged", tagged, seq(len(tagged))},
	} {
		b, err := dec.pack(tc.rows, tc.idx)
		if err != nil {
			t.Fatal(err)
		}
		if b.Len() != len(tc.idx) || len(b.data) != b.lay.stride*len(tc.idx) {
			t.Fatalf("%s: %d rows, stride %d, %d words", tc.name, b.Len(), b.lay.stride, len(b.data))
		}
		if (tc.name == "same" || tc.name == "one") && b.lay.stride != 0 {
			t.Errorf("%s: identical rows packed to %d words each", tc.name, b.lay.stride)
		}
		if tc.name == "tagged" && (b.lay.stride != 2 || b.lay.tags < 0 || len(b.lay.amounts) != 1) {
			t.Errorf("tagged: rows that differ in tags and one amount packed to %d words (tags at %d, %d amounts)", b.lay.stride, b.lay.tags, len(b.lay.amounts))
		}
		if tc.name == "all" && b.lay.stride >= rowWords {
			t.Errorf("all: %d words a record, no smaller than a row (%d)", b.lay.stride, rowWords)
		}
		for k, i := range tc.idx {
			var got costgate.CodedRow
			b.CodedRow(k, &got)
			want := template(&tc.rows[i], dec.t.maps)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: row %d:\n got %v\nwant %v", tc.name, k, got, want)
			}
		}
		tags, ext := b.MapKeys()
		wantTags, wantExt := map[string]bool{}, map[string]bool{}
		for _, i := range tc.idx {
			for k := range dec.t.maps[tc.rows[i].tags] {
				wantTags[k] = true
			}
			for k := range dec.t.maps[tc.rows[i].ext] {
				wantExt[k] = true
			}
		}
		set := func(keys []string) map[string]bool {
			m := map[string]bool{}
			for _, k := range keys {
				m[k] = true
			}
			return m
		}
		if got := set(tags); fmt.Sprint(got) != fmt.Sprint(wantTags) {
			t.Errorf("%s: tag keys %v, want %v", tc.name, got, wantTags)
		}
		if got := set(ext); fmt.Sprint(got) != fmt.Sprint(wantExt) || tc.name == "all" && len(got) == 0 {
			t.Errorf("%s: x_ keys %v, want %v (not none)", tc.name, got, wantExt)
		}
	}
}

func seq(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i)
	}
	return s
}

// BenchmarkCompactBlocks decodes 200,000 generated rows, already cut into
// 1 MiB blocks, into packed batches with one decoder (its string tables
// start empty each time, as for a new file): the parsing, interning and
// packing a decoding goroutine does, without gzip or the store.
//
//	go test ./collector/focus -run '^$' -bench CompactBlocks -count 4
//
// The generated rows hold some 27,000 resource ids and names, so those
// two columns pass bigSet early on.
func BenchmarkCompactBlocks(b *testing.B) {
	var data bytes.Buffer
	if _, err := billgen.WriteCSV(&data, billgen.Options{Seed: 1, Rows: 200_000, Months: 2}); err != nil {
		b.Fatal(err)
	}
	sp, header, err := tabular.NewSplitter("bench.csv", bytes.NewReader(data.Bytes()), blockSize)
	if err != nil {
		b.Fatal(err)
	}
	var blocks []tabular.Block
	for {
		blk, err := sp.Next()
		if err != nil {
			break
		}
		blk.Data = bytes.Clone(blk.Data)
		blocks = append(blocks, blk)
	}
	// internBig on (as collect runs) and off: every string column
	// interned row by row.
	for _, mode := range []struct {
		name string
		big  int
	}{{"blockwise", bigSet}, {"rowwise", math.MaxInt}} {
		b.Run(mode.name, func(b *testing.B) {
			defer func(old int) { bigSet = old }(bigSet)
			bigSet = mode.big
			benchCompactBlocks(b, header, blocks, data.Len())
		})
	}
}

func benchCompactBlocks(b *testing.B, header []string, blocks []tabular.Block, size int) {
	b.SetBytes(int64(size))
	rows := 0
	var work []byte
	for range b.N {
		d, err := newDecoder("bench.csv", header)
		if err != nil {
			b.Fatal(err)
		}
		dec := newCompactDecoder(d, nil)
		for _, blk := range blocks {
			// The parser unquotes in place: parse a copy (memmove, a few
			// ns a row).
			work = append(work[:0], blk.Data...)
			blk.Data = work
			_, n, err := compactBlock("bench.csv", header, dec, blk)
			if err != nil {
				b.Fatal(err)
			}
			rows += n
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
}

// TestInternSets: each column's set gives one id per distinct value, the
// same id every time, and the table holds the value under it, through
// many growths and with values that differ in one byte only.
func TestInternSets(t *testing.T) {
	tb := newTables(3)
	rng := rand.New(rand.NewPCG(3, 4))
	want := make([]map[string]uint32, 3)
	for c := range want {
		want[c] = map[string]uint32{}
	}
	for n := range 300_000 {
		col := rng.IntN(3)
		v := fmt.Sprintf("arn:aws:ec2:us-east-1:123456789012:instance/i-%012d", rng.IntN(40_000))
		if n%7 == 0 {
			v = string(rune('a' + rng.IntN(26)))
		}
		id := tb.str(col, []byte(v))
		if id == 0 || tb.strs[id] != v {
			t.Fatalf("column %d: %q got id %d holding %q", col, v, id, tb.strs[id])
		}
		if prev, ok := want[col][v]; ok && prev != id {
			t.Fatalf("column %d: %q got id %d, then %d", col, v, prev, id)
		}
		want[col][v] = id
	}
	for c, m := range want {
		if tb.sets[c].n != len(m) {
			t.Errorf("column %d: %d values in the set, %d distinct", c, tb.sets[c].n, len(m))
		}
	}
	if len(tb.strs) != 1+len(want[0])+len(want[1])+len(want[2]) {
		t.Errorf("%d strings in the table, want one per distinct value of each column", len(tb.strs)-1)
	}
}

// TestQuickHashCollisions: values that share their length and first and
// last 8 bytes hash alike under quickHash; a small set of them still
// gives each its own id, the same every time, before and after the set
// turns slow (maphash) past smallSet values.
func TestQuickHashCollisions(t *testing.T) {
	tb := newTables(1)
	ids := map[string]uint32{}
	for round := range 3 {
		for i := range smallSet + 40 {
			v := fmt.Sprintf("prefix-x%03dx-suffix!", i)
			if i < smallSet-1 && quickHash([]byte(v)) != quickHash([]byte("prefix-x000x-suffix!")) {
				t.Fatalf("%q: the test needs colliding quick hashes", v)
			}
			id := tb.str(0, []byte(v))
			if tb.strs[id] != v {
				t.Fatalf("%q got id %d holding %q", v, id, tb.strs[id])
			}
			if prev, ok := ids[v]; ok && prev != id {
				t.Fatalf("round %d: %q got id %d, then %d", round, v, prev, id)
			}
			ids[v] = id
		}
		if !tb.sets[0].slow {
			t.Fatalf("a set of %d values still uses quickHash", tb.sets[0].n)
		}
	}
	if tb.sets[0].n != len(ids) || len(tb.strs) != 1+len(ids) {
		t.Fatalf("%d values in the set, %d strings, %d distinct", tb.sets[0].n, len(tb.strs)-1, len(ids))
	}
}
