//go:build unix

package tabular

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// benchCSV is a generated FOCUS-like CSV of about 64 MiB: 43 columns,
// rows of about 680 bytes with quoted commas and a quoted JSON Tags field
// full of "" escapes (the shape of the 10M-row collect file, and like it
// gzipped about 13:1), and one row in a thousand with line breaks inside
// quotes. gz is it gzipped.
var benchCSV = sync.OnceValues(func() (plain, gz []byte) {
	var b bytes.Buffer
	b.WriteString("BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeClass,ChargeDescription,ChargeFrequency,ProviderName,PublisherName,InvoiceIssuerName,SubAccountId,SubAccountName,ServiceName,ServiceCategory,RegionId,RegionName,AvailabilityZone,ResourceId,ResourceName,ResourceType,SkuId,SkuPriceId,PricingCategory,PricingUnit,PricingQuantity,ConsumedUnit,ConsumedQuantity,ListUnitPrice,ContractedUnitPrice,ListCost,ContractedCost,BilledCost,EffectiveCost,CommitmentDiscountId,CommitmentDiscountCategory,CommitmentDiscountType,CommitmentDiscountStatus,Tags,x_UsageType\n")
	rng := rand.New(rand.NewPCG(1, 2))
	teams := []string{"mobile", "storefront", "data", "platform", "search"}
	for i := 0; b.Len() < 64<<20; i++ {
		team := teams[rng.IntN(len(teams))]
		q := rng.IntN(50000)
		fmt.Fprintf(&b, "111111111111,Acme AWS Organization,USD,2026-05-01T00:00:00Z,2026-06-01T00:00:00Z,2026-05-%02dT00:00:00Z,2026-05-%02dT00:00:00Z,Usage,,$0.023 per GB - first 50 TB / month of storage used,Usage-Based,AWS,\"Amazon Web Services, Inc.\",\"Amazon Web Services, Inc.\",2109876543%02d,acme-%s,Amazon Simple Storage Service,Storage,us-west-2,US West (Oregon),us-west-2b,arn:aws:s3:us-west-2:210987654321:bucket/%s-prod-bucket-%d,%s-prod-bucket-%d,Bucket,S3-Standard,S3-Standard-us-west-2,Standard,GB-Mo,%d,GB-Mo,%d,0.000766667,0.000720666,%d.%09d,%d.%09d,%d.386973182,%d.386973182,,,,,",
			1+i%28, 2+i%28, i%100, team, team, i, team, i, q, q, q/90, rng.IntN(1e9), q/95, rng.IntN(1e9), q/95, q/95)
		switch {
		case i%1000 == 999:
			fmt.Fprintf(&b, "\"{\"\"team\"\": \"\"%s\"\",\n\"\"note\"\": \"\"two\nlines\"\"}\"", team)
		case i%4 != 3:
			fmt.Fprintf(&b, "\"{\"\"team\"\": \"\"%s\"\", \"\"env\"\": \"\"prod\"\", \"\"cost-center\"\": \"\"cc-%d\"\"}\"", team, 100+i%50)
		}
		b.WriteString(",TimedStorage-ByteHrs\n")
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b.Bytes())
	zw.Close()
	return b.Bytes(), z.Bytes()
})

// BenchmarkSplit cuts the generated CSV into 1 MiB blocks as collect
// does (Decompress, ReadAhead, NewSplitter), releasing each block
// unparsed. MB/s is of decompressed CSV on the wall clock; cpu-ms/op is
// the process's user+system CPU, which counts the decompressing
// goroutine too.
//
//	go test ./collector/tabular -run '^$' -bench Split -count 4
func BenchmarkSplit(b *testing.B) {
	plain, gz := benchCSV()
	for _, in := range []struct {
		name string
		data []byte
	}{{"plain", plain}, {"gzip", gz}} {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			cpu0 := cpuTime(b)
			for b.Loop() {
				dec, err := Decompress("bench.csv", bytes.NewReader(in.data))
				if err != nil {
					b.Fatal(err)
				}
				ra := ReadAhead(dec)
				sp, _, err := NewSplitter("bench.csv", ra, 1<<20)
				if err != nil {
					b.Fatal(err)
				}
				var lines int64
				for {
					blk, err := sp.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					lines += int64(blk.Lines)
					sp.Release(blk)
				}
				ra.Close()
				if lines == 0 {
					b.Fatal("no lines")
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkLastRecordEnd scans 1 MiB blocks of the generated CSV.
func BenchmarkLastRecordEnd(b *testing.B) {
	plain, _ := benchCSV()
	const size = 1 << 20
	b.SetBytes(size)
	off := 0
	for b.Loop() {
		if off+size > len(plain) {
			off = 0
		}
		if lastRecordEnd(plain[off:off+size]) == 0 {
			b.Fatal("no record end")
		}
		off += size
	}
}

func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
