package tabular

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/costgate/costgate/collector/blob"
)

// Records is a file of named columns read record by record: CSV or
// Parquet.
type Records interface {
	Columns() []string
	// Next advances to the next record; false at the end or on error.
	Next() bool
	// Field returns column i of the current record as text; null is
	// empty (see IsNull).
	Field(i int) []byte
	// Where names the current record: "line 12" or "row 12".
	Where() string
	// Err returns the error that stopped Next.
	Err() error
}

// Opened is a file being read, with the hash of its bytes as stored.
type Opened struct {
	Records
	// Name is the file's URI or path, for messages.
	Name   string
	hash   hash.Hash
	closes []func() error
}

// Hash returns the hex sha256 of the bytes read so far (the whole file
// once Next has returned false).
func (o *Opened) Hash() string { return hex.EncodeToString(o.hash.Sum(nil)) }

// Close releases the file.
func (o *Opened) Close() error {
	var errs []error
	for i := len(o.closes) - 1; i >= 0; i-- {
		errs = append(errs, o.closes[i]())
	}
	return errors.Join(errs...)
}

// IsParquet reports whether a file is Parquet by its name, given the
// configured format ("csv", "parquet" or "" to go by name).
func IsParquet(name, format string) bool {
	switch format {
	case "parquet":
		return true
	case "csv":
		return false
	}
	return strings.HasSuffix(strings.ToLower(name), ".parquet")
}

// Open opens obj for reading records. CSV may be gzip-compressed (seen
// from its first bytes); it is hashed and counted (counted(n) per chunk
// of stored bytes) as it streams, decompressed on its own goroutine.
// Parquet is opened for random access (remote files are downloaded
// first) and hashed whole. want selects the Parquet columns to decode.
func Open(ctx context.Context, b blob.Bucket, obj blob.Object, format string, counted func(int64), want func(string) bool) (*Opened, error) {
	name := b.URI(obj.Key)
	o := &Opened{Name: name, hash: sha256.New()}
	if counted == nil {
		counted = func(int64) {}
	}
	if IsParquet(obj.Key, format) {
		f, err := b.OpenFile(ctx, obj.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		o.closes = append(o.closes, f.Close)
		if _, err := io.Copy(o.hash, io.NewSectionReader(f, 0, f.Size())); err != nil {
			o.Close()
			return nil, fmt.Errorf("%s: read: %w", name, err)
		}
		counted(f.Size())
		p, err := NewParquet(name, f, f.Size(), want)
		if err != nil {
			o.Close()
			return nil, err
		}
		o.closes = append(o.closes, p.Close)
		o.Records = p
		return o, nil
	}
	o, stream, err := OpenStream(ctx, b, obj, counted)
	if err != nil {
		return nil, err
	}
	c, err := NewCSV(o.Name, stream)
	if err != nil {
		o.Close()
		return nil, err
	}
	o.Records = c
	return o, nil
}

// OpenStream opens a CSV (or gzip-compressed CSV) object as a stream of
// its decompressed bytes, hashed and counted as stored, decompressed on
// its own goroutine; the Opened has no Records.
func OpenStream(ctx context.Context, b blob.Bucket, obj blob.Object, counted func(int64)) (*Opened, io.Reader, error) {
	name := b.URI(obj.Key)
	o := &Opened{Name: name, hash: sha256.New()}
	if counted == nil {
		counted = func(int64) {}
	}
	rc, err := b.Open(ctx, obj.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	o.closes = append(o.closes, rc.Close)
	raw := io.TeeReader(&countReader{r: rc, counted: counted}, o.hash)
	dec, err := Decompress(name, raw)
	if err != nil {
		o.Close()
		return nil, nil, err
	}
	ra := ReadAhead(dec)
	o.closes = append(o.closes, ra.Close)
	return o, ra, nil
}

type countReader struct {
	r       io.Reader
	counted func(int64)
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.counted(int64(n))
	}
	return n, err
}

// FieldError locates a bad value: file, record and column.
type FieldError struct {
	File   string
	Where  string // "line 12" or "row 12"
	Column string // empty when the error concerns the whole record
	Err    error
}

func (e *FieldError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s: %s: %v", e.File, e.Where, e.Err)
	}
	return fmt.Sprintf("%s: %s: column %s: %v", e.File, e.Where, e.Column, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }
