// Package blob lists and reads the files a collector source names: local
// files, directories and globs, and objects under an s3:// prefix (AWS S3
// or any S3-compatible store, through aws-sdk-go-v2).
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Object is one file or stored object.
type Object struct {
	// Key is the local path, or the object key within its bucket.
	Key     string
	Size    int64
	ETag    string
	ModTime time.Time
}

// Bucket is where objects live: a local file system or an S3 bucket.
type Bucket interface {
	// List returns every object whose key starts with prefix (for a
	// local bucket: the file prefix names, or every file below the
	// directory it names), sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Open streams an object.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// OpenFile gives random access (Parquet); remote objects are
	// downloaded to a temporary file removed on Close.
	OpenFile(ctx context.Context, key string) (File, error)
	// URI names an object for messages and export keys.
	URI(key string) string
}

// File is an object opened for random access.
type File interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Version is a cheap fingerprint of an object: its ETag, or for a local
// file its size and modification time.
func (o Object) Version() string {
	if o.ETag != "" {
		return strings.Trim(o.ETag, `"`) + "-" + strconv.FormatInt(o.Size, 10)
	}
	return strconv.FormatInt(o.Size, 10) + "-" + strconv.FormatInt(o.ModTime.UnixNano(), 10)
}

// VersionOf fingerprints several objects together.
func VersionOf(objs []Object) string {
	if len(objs) == 1 {
		return objs[0].Version()
	}
	h := sha256.New()
	for _, o := range objs {
		fmt.Fprintf(h, "%s\x00%s\n", o.Key, o.Version())
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// ParseS3 splits "s3://bucket/prefix" into bucket and prefix.
func ParseS3(uri string) (bucket, prefix string, ok bool) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, prefix, bucket != ""
}

// IsRemote reports whether loc is an object-store URI.
func IsRemote(loc string) bool { return strings.Contains(loc, "://") }

// hasGlob reports whether p has glob metacharacters.
func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// Find resolves a source location to its bucket and the objects it
// names: a local file, a directory (every file below it), a glob
// (filepath.Match syntax; directories matched are walked), an s3:// prefix
// (every object below it), or an s3:// prefix ending in a glob. Objects
// whose base name starts with "." or "_" are left out (markers such as
// _SUCCESS, editor files). It is an error when nothing matches.
func Find(ctx context.Context, loc string, s3opts S3Options) (Bucket, []Object, error) {
	if IsRemote(loc) {
		bucketName, prefix, ok := ParseS3(loc)
		if !ok {
			return nil, nil, fmt.Errorf("%s: only s3://bucket/prefix URIs are supported", loc)
		}
		b, err := NewS3(ctx, bucketName, s3opts)
		if err != nil {
			return nil, nil, err
		}
		objs, err := FindIn(ctx, b, prefix)
		return b, objs, err
	}
	b := Local{}
	objs, err := FindIn(ctx, b, loc)
	return b, objs, err
}

// FindIn resolves a prefix or glob within a bucket (see Find).
func FindIn(ctx context.Context, b Bucket, pattern string) ([]Object, error) {
	_, isLocal := b.(Local)
	var objs []Object
	var err error
	if hasGlob(pattern) {
		objs, err = globIn(ctx, b, pattern, isLocal)
	} else {
		objs, err = b.List(ctx, pattern)
		if !isLocal && err == nil {
			// "s3://b/data/x" should not match "data/xyz/...".
			objs = underPrefix(objs, pattern)
		}
	}
	if err != nil {
		return nil, err
	}
	objs = visible(objs)
	if len(objs) == 0 {
		return nil, fmt.Errorf("%s: %w", b.URI(pattern), ErrNoMatch)
	}
	return objs, nil
}

// ErrNoMatch reports a location that names no file.
var ErrNoMatch = errors.New("no files match")

func underPrefix(objs []Object, prefix string) []Object {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return objs
	}
	out := objs[:0]
	for _, o := range objs {
		if o.Key == prefix || strings.HasPrefix(o.Key, prefix+"/") {
			out = append(out, o)
		}
	}
	return out
}

func globIn(ctx context.Context, b Bucket, pattern string, isLocal bool) ([]Object, error) {
	if isLocal {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pattern, err)
		}
		var out []Object
		for _, m := range matches {
			objs, err := b.List(ctx, m)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
		return dedupe(out), nil
	}
	// List the literal prefix before the first metacharacter, then match
	// each key segment by segment.
	i := strings.IndexAny(pattern, "*?[")
	prefix := pattern[:i]
	if j := strings.LastIndexByte(prefix, '/'); j >= 0 {
		prefix = prefix[:j+1]
	} else {
		prefix = ""
	}
	objs, err := b.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, o := range objs {
		if ok, err := matchKey(pattern, o.Key); err != nil {
			return nil, fmt.Errorf("%s: %w", pattern, err)
		} else if ok {
			out = append(out, o)
		}
	}
	return out, nil
}

// matchKey matches the pattern against the key, or against a directory
// prefix of it (so that "data/2024-*" takes everything below matching
// folders).
func matchKey(pattern, key string) (bool, error) {
	segs := strings.Count(pattern, "/") + 1
	parts := strings.Split(key, "/")
	if len(parts) < segs {
		return false, nil
	}
	return path.Match(pattern, strings.Join(parts[:segs], "/"))
}

func dedupe(objs []Object) []Object {
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	out := objs[:0]
	for i, o := range objs {
		if i > 0 && o.Key == objs[i-1].Key {
			continue
		}
		out = append(out, o)
	}
	return out
}

func visible(objs []Object) []Object {
	out := objs[:0]
	for _, o := range objs {
		base := path.Base(filepath.ToSlash(o.Key))
		if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || strings.HasSuffix(o.Key, "/") {
			continue
		}
		out = append(out, o)
	}
	return out
}

// Local is the local file system; keys are paths.
type Local struct{}

// List returns the file prefix names, or every regular file below it.
func (Local) List(ctx context.Context, prefix string) ([]Object, error) {
	fi, err := os.Stat(prefix)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", prefix, ErrNoMatch)
		}
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	if !fi.IsDir() {
		return []Object{{Key: filepath.Clean(prefix), Size: fi.Size(), ModTime: fi.ModTime()}}, nil
	}
	var out []Object
	err = filepath.WalkDir(prefix, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != prefix && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Key: p, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	return out, nil
}

// Open opens a local file.
func (Local) Open(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := os.Open(key)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// OpenFile opens a local file for random access.
func (Local) OpenFile(_ context.Context, key string) (File, error) {
	f, err := os.Open(key)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &localFile{File: f, size: fi.Size()}, nil
}

// URI returns the path.
func (Local) URI(key string) string { return key }

type localFile struct {
	*os.File
	size int64
}

func (f *localFile) Size() int64 { return f.size }

// Batch is the files an export delivers together: the data files of one
// billing period folder, or a single file.
type Batch struct {
	// Key is the period folder (with its trailing "/") or the file key.
	Key     string
	Objects []Object
}

// DataFile reports whether a key looks like a billing data file: CSV
// (optionally gzip-compressed) or Parquet.
func DataFile(key string) bool {
	k := strings.ToLower(key)
	for _, ext := range []string{".csv", ".csv.gz", ".gz", ".parquet", ".tsv"} {
		if strings.HasSuffix(k, ext) {
			return true
		}
	}
	return false
}

// Batches groups data files as billing exports deliver them: files under
// a BILLING_PERIOD=YYYY-MM folder (AWS Data Exports, CUR 2.0 and FOCUS)
// form one batch per folder; every other file is a batch of its own.
// Manifests and other non-data files are left out, unless the location
// named that one file.
//
// An export set to "create new export file" keeps every refresh of a
// period, each in a folder of its own below the period folder; only the
// latest (the folder holding the most recently written file) is the
// period's data, so the older deliveries are left out rather than
// counted again.
func Batches(objs []Object) []Batch {
	if len(objs) == 1 {
		return []Batch{{Key: objs[0].Key, Objects: objs}}
	}
	byKey := map[string]*Batch{}
	var out []*Batch
	for _, o := range objs {
		if !DataFile(o.Key) {
			continue
		}
		key := o.Key
		if i := strings.Index(o.Key, "BILLING_PERIOD="); i >= 0 {
			if j := strings.IndexByte(o.Key[i:], '/'); j >= 0 {
				key = o.Key[:i+j+1]
			}
		}
		b := byKey[key]
		if b == nil {
			b = &Batch{Key: key}
			byKey[key] = b
			out = append(out, b)
		}
		b.Objects = append(b.Objects, o)
	}
	res := make([]Batch, 0, len(out))
	for _, b := range out {
		if strings.HasSuffix(b.Key, "/") && strings.Contains(b.Key, "BILLING_PERIOD=") {
			b.Objects = latestDelivery(b.Key, b.Objects)
		}
		res = append(res, *b)
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Key < res[j].Key })
	return res
}

// latestDelivery keeps, of the files below a period folder, those of the
// most recent delivery: files directly in the folder are one delivery,
// each subfolder another.
func latestDelivery(dir string, objs []Object) []Object {
	type delivery struct {
		latest time.Time
		objs   []Object
	}
	byName := map[string]*delivery{}
	for _, o := range objs {
		name, _, _ := strings.Cut(strings.TrimPrefix(o.Key, dir), "/")
		if !strings.Contains(strings.TrimPrefix(o.Key, dir), "/") {
			name = ""
		}
		d := byName[name]
		if d == nil {
			d = &delivery{}
			byName[name] = d
		}
		d.objs = append(d.objs, o)
		if o.ModTime.After(d.latest) {
			d.latest = o.ModTime
		}
	}
	if len(byName) < 2 {
		return objs
	}
	best := ""
	for name, d := range byName {
		b := byName[best]
		if b == nil || d.latest.After(b.latest) || (d.latest.Equal(b.latest) && name > best) {
			best = name
		}
	}
	return byName[best].objs
}
