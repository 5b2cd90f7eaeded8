// Package focus reads FOCUS (FinOps Open Cost and Usage Specification)
// billing files, versions 1.0 to 1.2, as CSV, gzip-compressed CSV or
// Parquet, from a local file, directory or glob, or an s3:// prefix.
//
// Columns are matched by name (case-insensitively; the pre-1.0 names
// Provider, Publisher, InvoiceIssuer, Region, UsageQuantity, UsageUnit,
// AmortizedCost and ChargeType are accepted too); x_ columns are kept as
// extensions; other columns are dropped. The quirks of real exports are
// handled: a UTF-8 byte order mark, the literal NULL (and null), empty
// strings as nulls, timestamps with or without T and Z (and the M/D/YY of
// spreadsheet-made examples), amounts with a $ and thousands separators,
// and Tags as a JSON object. Every error names the file, line (or Parquet
// row) and column.
//
// Files under a BILLING_PERIOD=YYYY-MM folder (AWS Data Exports) are
// read together as one export per period; any other file is an export of
// its own.
package focus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/blob"
	"github.com/costgate/costgate/collector/tabular"
)

// Type is the config type name.
const Type = "focus"

// schema versions the mapping; changing it re-reads every export.
const schema = "focus/1"

// Source reads FOCUS files.
type Source struct {
	collector.Files
}

// Factory registers the focus type.
var Factory = collector.Factory{
	Check: collector.RequireLocation,
	New: func(s collector.Spec, _ collector.Env) (collector.Source, error) {
		return New(s), nil
	},
}

// New returns a source for spec.
func New(s collector.Spec) *Source {
	return &Source{collector.FilesOf(s)}
}

// Type returns "focus".
func (s *Source) Type() string { return Type }

// Collect loads every changed export.
func (s *Source) Collect(ctx context.Context, sink collector.Sink) error {
	b, objs, err := s.Find(ctx)
	if err != nil {
		return err
	}
	var exports []collector.Export
	for _, batch := range blob.Batches(objs) {
		exports = append(exports, Export(b, batch, s.Format(), sink))
	}
	return collector.LoadExports(ctx, sink, schema, exports)
}

// Export describes a batch of FOCUS files as one export.
func Export(b blob.Bucket, batch blob.Batch, format string, sink collector.Sink) collector.Export {
	var size int64
	for _, o := range batch.Objects {
		size += o.Size
	}
	return collector.Export{
		Key:     b.URI(batch.Key),
		Version: blob.VersionOf(batch.Objects),
		Files:   len(batch.Objects),
		Size:    size,
		Read: func(ctx context.Context, rows *collector.Rows) (string, error) {
			return ReadFiles(ctx, b, batch.Objects, format, sink, rows)
		},
	}
}

// ReadFiles decodes FOCUS files in order and returns the hash of their
// bytes.
func ReadFiles(ctx context.Context, b blob.Bucket, objs []blob.Object, format string, sink collector.Sink, rows *collector.Rows) (string, error) {
	h := sha256.New()
	for _, o := range objs {
		fh, err := ReadFile(ctx, b, o, format, sink, rows)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n", fh)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadFile decodes one FOCUS file. CSV is parsed by GOMAXPROCS
// goroutines in blocks of whole records (decompression runs on another),
// handed to rows in file order.
func ReadFile(ctx context.Context, b blob.Bucket, o blob.Object, format string, sink collector.Sink, rows *collector.Rows) (string, error) {
	prog := sink.Progress()
	if !tabular.IsParquet(o.Key, format) {
		f, stream, err := tabular.OpenStream(ctx, b, o, prog.AddBytes)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if err := readCSV(ctx, f.Name, stream, sink, rows, runtime.GOMAXPROCS(0)); err != nil {
			return "", err
		}
		prog.FileDone()
		return f.Hash(), nil
	}
	f, err := tabular.Open(ctx, b, o, format, prog.AddBytes, nil)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := DecodeRecords(ctx, f.Name, f, sink, rows); err != nil {
		return "", err
	}
	prog.FileDone()
	return f.Hash(), nil
}

// DecodeRecords decodes FOCUS records read record by record (a Parquet
// file, a query result) into rows. name is the file or table, for
// messages. Rows are decoded into compact batches, as CSV blocks are: a
// quarter of the memory of line items, spilled past the run's memory
// budget, and read by the store one at a time.
func DecodeRecords(ctx context.Context, name string, rec tabular.Records, sink collector.Sink, rows *collector.Rows) error {
	prog := sink.Progress()
	d, err := newDecoder(name, rec.Columns())
	if err != nil {
		return err
	}
	logIgnored(sink, name, d)
	dec := newCompactDecoder(d, rows)
	const chunk = 1 << 14
	buf := make([]compactRow, 0, chunk)
	flush := func() error {
		batches, err := groupCompact(dec, buf)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, pb := range batches {
			if err := rows.AddPartitionBatch(pb.account, pb.period, pb.batch); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		prog.AddRows(len(buf))
		buf = buf[:0]
		return ctx.Err()
	}
	for rec.Next() {
		buf = buf[:len(buf)+1]
		if err := dec.decode(rec, &buf[len(buf)-1]); err != nil {
			return err
		}
		if len(buf) == chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rec.Err(); err != nil {
		return err
	}
	return flush()
}

func logIgnored(sink collector.Sink, file string, dec *decoder) {
	if ign := dec.Ignored(); len(ign) > 0 {
		sink.Logger().Info("columns ignored: neither FOCUS columns the store keeps nor x_ extensions", "file", file, "columns", strings.Join(ign, ","))
	}
}

// blockSize is the amount of CSV one goroutine parses at a time.
var blockSize = 1 << 20 // a variable for tests

type blockResult struct {
	batches []partBatch
	n       int
	err     error
}

type blockJob struct {
	blk tabular.Block
	out chan blockResult
}

// readCSV splits the stream into blocks of records, decodes them on
// workers goroutines, and adds the batches to rows in order. The first
// error in file order wins.
func readCSV(ctx context.Context, name string, stream io.Reader, sink collector.Sink, rows *collector.Rows, workers int) error {
	sp, header, err := tabular.NewSplitter(name, stream, blockSize)
	if err != nil {
		return err
	}
	first, err := newDecoder(name, header)
	if err != nil {
		return err
	}
	logIgnored(sink, name, first)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan blockJob, workers)
	order := make(chan chan blockResult, 2*workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		d := first
		if w > 0 {
			d, _ = newDecoder(name, header)
		}
		dec := newCompactDecoder(d, rows)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				var res blockResult
				res.batches, res.n, res.err = compactBlock(name, header, dec, job.blk)
				job.out <- res
				sp.Release(job.blk)
			}
		}()
	}
	splitErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		for {
			blk, err := sp.Next()
			if err != nil {
				if err != io.EOF {
					splitErr <- err
				}
				return
			}
			out := make(chan blockResult, 1)
			select {
			case order <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- blockJob{blk: blk, out: out}:
			case <-ctx.Done():
				out <- blockResult{err: ctx.Err()}
				return
			}
		}
	}()
	prog := sink.Progress()
	var firstErr error
	for out := range order {
		res := <-out
		if firstErr != nil {
			continue
		}
		if res.err != nil {
			firstErr = res.err
			cancel()
			continue
		}
		for _, pb := range res.batches {
			if err := rows.AddPartitionBatch(pb.account, pb.period, pb.batch); err != nil {
				firstErr = fmt.Errorf("%s: %w", name, err)
				cancel()
				break
			}
		}
		prog.AddRows(res.n)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	select {
	case err := <-splitErr:
		return err
	default:
	}
	return ctx.Err()
}
