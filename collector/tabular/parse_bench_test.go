package tabular

import (
	"bytes"
	"testing"

	"github.com/costgate/costgate/internal/billgen"
)

// BenchmarkParseBlocks parses 100,000 generated FOCUS rows, cut into 1 MiB
// blocks beforehand, and reads every field: the CSV work of a decoding
// goroutine.
//
//	go test ./collector/tabular -run '^$' -bench ParseBlocks -count 5
func BenchmarkParseBlocks(b *testing.B) {
	var data bytes.Buffer
	if _, err := billgen.WriteCSV(&data, billgen.Options{Seed: 1, Rows: 100_000, Months: 1}); err != nil {
		b.Fatal(err)
	}
	sp, header, err := NewSplitter("bench.csv", bytes.NewReader(data.Bytes()), 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	var blocks []Block
	for {
		blk, err := sp.Next()
		if err != nil {
			break
		}
		blk.Data = bytes.Clone(blk.Data)
		blocks = append(blocks, blk)
	}
	b.SetBytes(int64(data.Len()))
	b.ResetTimer()
	rows, sum := 0, 0
	var work []byte
	for range b.N {
		for _, blk := range blocks {
			work = append(work[:0], blk.Data...) // fields are unquoted in place
			blk.Data = work
			c := NewCSVBlock("bench.csv", blk, header)
			for c.Next() {
				for i := range c.NumFields() {
					sum += len(c.Field(i))
				}
				rows++
			}
			if err := c.Err(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
	if sum == 0 {
		b.Fatal("no field read")
	}
}
