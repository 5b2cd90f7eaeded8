package collector

import (
	"context"

	"github.com/costgate/costgate/collector/blob"
)

// Files is what every file-based source shares: its name, where its files
// are (a path, glob or s3:// prefix), their format, and how to reach S3.
// Sources embed it.
type Files struct {
	name   string
	loc    string
	format string
	s3     blob.S3Options
	// Bucket, when set, is used instead of resolving the location's
	// bucket (tests inject a client); the location is then a key prefix
	// or glob in it.
	Bucket blob.Bucket
}

// FilesOf reads the file keys of a spec.
func FilesOf(s Spec) Files {
	return Files{
		name: s.Name, loc: s.Where(), format: s.Format,
		s3: blob.S3Options{Region: s.Region, Endpoint: s.Endpoint, PathStyle: s.PathStyle, Profile: s.Profile},
	}
}

// Name returns the configured name.
func (f *Files) Name() string { return f.name }

// Format is the configured format ("" to go by file names).
func (f *Files) Format() string { return f.format }

// Find lists the source's files and the bucket they are read from.
func (f *Files) Find(ctx context.Context) (blob.Bucket, []blob.Object, error) {
	if f.Bucket != nil {
		objs, err := blob.FindIn(ctx, f.Bucket, f.loc)
		return f.Bucket, objs, err
	}
	return blob.Find(ctx, f.loc, f.s3)
}
