package blob

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate/internal/s3test"
)

func keys(objs []Object) string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, filepath.ToSlash(o.Key))
	}
	return strings.Join(ks, " ")
}

func TestFindLocal(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"2024-08.csv", "2024-09.csv.gz", "sub/2024-10.parquet", ".hidden.csv", "_SUCCESS", ".git/x.csv"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("x"), 0o644)
	}
	rel := func(objs []Object) string {
		s := keys(objs)
		return strings.ReplaceAll(s, filepath.ToSlash(dir)+"/", "")
	}
	tests := map[string]struct{ loc, want string }{
		"directory": {dir, "2024-08.csv 2024-09.csv.gz sub/2024-10.parquet"},
		"file":      {filepath.Join(dir, "2024-08.csv"), "2024-08.csv"},
		"glob":      {filepath.Join(dir, "2024-0*"), "2024-08.csv 2024-09.csv.gz"},
		"glob dirs": {filepath.Join(dir, "s*"), "sub/2024-10.parquet"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, objs, err := Find(context.Background(), tc.loc, S3Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := rel(objs); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, _, err := Find(context.Background(), filepath.Join(dir, "nope*"), S3Options{}); err == nil || !strings.Contains(err.Error(), "no files match") {
		t.Fatalf("%v", err)
	}
	if _, _, err := Find(context.Background(), "gs://bucket/x", S3Options{}); err == nil || !strings.Contains(err.Error(), "only s3://") {
		t.Fatalf("%v", err)
	}
}

func TestFindS3(t *testing.T) {
	srv := s3test.Start(t, "bkt")
	for _, k := range []string{"data/x/1.csv", "data/xyz/2.csv", "data/x/sub/3.csv", "other/4.csv"} {
		srv.Put(t, "bkt", k, []byte("x"))
	}
	b := &S3{Client: srv.Client, Bucket: "bkt"}
	tests := map[string]struct{ pattern, want string }{
		"prefix is a folder": {"data/x", "data/x/1.csv data/x/sub/3.csv"},
		"trailing slash":     {"data/x/", "data/x/1.csv data/x/sub/3.csv"},
		"glob":               {"data/x*/*.csv", "data/x/1.csv data/xyz/2.csv"},
		"glob folders":       {"data/x*", "data/x/1.csv data/x/sub/3.csv data/xyz/2.csv"},
		"whole bucket":       {"", "data/x/1.csv data/x/sub/3.csv data/xyz/2.csv other/4.csv"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs, err := FindIn(context.Background(), b, tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(objs); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for _, o := range objs {
				if o.ETag == "" || o.Size != 1 {
					t.Fatalf("object %+v", o)
				}
			}
		})
	}
}

func TestBatches(t *testing.T) {
	objs := []Object{
		{Key: "e/data/BILLING_PERIOD=2024-09/a-1.parquet"},
		{Key: "e/data/BILLING_PERIOD=2024-09/a-2.parquet"},
		{Key: "e/data/BILLING_PERIOD=2024-10/a-1.csv.gz"},
		{Key: "e/metadata/BILLING_PERIOD=2024-10/a-Manifest.json"},
		{Key: "loose/2024-08.csv"},
		{Key: "README.md"},
	}
	var got []string
	for _, b := range Batches(objs) {
		got = append(got, b.Key+"="+keys(b.Objects))
	}
	want := "e/data/BILLING_PERIOD=2024-09/=e/data/BILLING_PERIOD=2024-09/a-1.parquet e/data/BILLING_PERIOD=2024-09/a-2.parquet|" +
		"e/data/BILLING_PERIOD=2024-10/=e/data/BILLING_PERIOD=2024-10/a-1.csv.gz|loose/2024-08.csv=loose/2024-08.csv"
	if strings.Join(got, "|") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
	if one := Batches([]Object{{Key: "exports.txt"}}); len(one) != 1 {
		t.Fatal("a single named file is its own batch whatever its name")
	}
}

// An export in "create new export file" mode keeps each refresh in a
// folder below the period: only the latest refresh is read.
func TestBatchesLatestDelivery(t *testing.T) {
	t0 := time.Date(2024, 10, 3, 6, 0, 0, 0, time.UTC)
	objs := []Object{
		{Key: "e/data/BILLING_PERIOD=2024-10/20241002T060000Z/e-00001.snappy.parquet", ModTime: t0.Add(-24 * time.Hour)},
		{Key: "e/data/BILLING_PERIOD=2024-10/20241002T060000Z/e-00002.snappy.parquet", ModTime: t0.Add(-24 * time.Hour)},
		{Key: "e/data/BILLING_PERIOD=2024-10/20241003T060000Z/e-00001.snappy.parquet", ModTime: t0},
		{Key: "e/data/BILLING_PERIOD=2024-09/e-00001.snappy.parquet", ModTime: t0},
		{Key: "e/data/BILLING_PERIOD=2024-09/e-00002.snappy.parquet", ModTime: t0},
	}
	var got []string
	for _, b := range Batches(objs) {
		got = append(got, b.Key+"="+keys(b.Objects))
	}
	want := "e/data/BILLING_PERIOD=2024-09/=e/data/BILLING_PERIOD=2024-09/e-00001.snappy.parquet e/data/BILLING_PERIOD=2024-09/e-00002.snappy.parquet|" +
		"e/data/BILLING_PERIOD=2024-10/=e/data/BILLING_PERIOD=2024-10/20241003T060000Z/e-00001.snappy.parquet"
	if strings.Join(got, "|") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}
