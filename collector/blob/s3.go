package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Options configure the S3 client. Credentials come the standard way
// (environment, shared profiles, SSO, web identity, instance roles).
type S3Options struct {
	// Region of the bucket; default from the environment, else
	// us-east-1.
	Region string
	// Endpoint overrides the service URL (an S3-compatible store, a
	// test server); it turns on path-style addressing.
	Endpoint string
	// PathStyle addresses buckets as endpoint/bucket.
	PathStyle bool
	// Profile selects a shared config profile.
	Profile string
}

// S3 is a bucket read through aws-sdk-go-v2.
type S3 struct {
	Client *s3.Client
	Bucket string
}

// NewS3 builds a client for bucket from the default credential chain.
func NewS3(ctx context.Context, bucket string, o S3Options) (*S3, error) {
	var loads []func(*config.LoadOptions) error
	if o.Region != "" {
		loads = append(loads, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("s3://%s: load AWS config: %w", bucket, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		// S3-compatible stores often send no checksums: not worth a log line.
		so.DisableLogOutputChecksumValidationSkipped = true
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
		if o.PathStyle {
			so.UsePathStyle = true
		}
	})
	return &S3{Client: client, Bucket: bucket}, nil
}

// URI returns s3://bucket/key.
func (b *S3) URI(key string) string { return "s3://" + b.Bucket + "/" + key }

// List pages through ListObjectsV2.
func (b *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	p := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.Bucket),
		Prefix: aws.String(prefix),
	})
	var out []Object
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", b.URI(prefix), err)
		}
		for _, o := range page.Contents {
			obj := Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)}
			if o.LastModified != nil {
				obj.ModTime = *o.LastModified
			}
			out = append(out, obj)
		}
	}
	return out, nil
}

// Open streams an object.
func (b *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", b.URI(key), err)
	}
	return out.Body, nil
}

// OpenFile downloads an object to a temporary file.
func (b *S3) OpenFile(ctx context.Context, key string) (File, error) {
	body, err := b.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	f, err := os.CreateTemp("", "costgate-s3-*")
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", b.URI(key), err)
	}
	n, err := io.Copy(f, body)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("download %s: %w", b.URI(key), err)
	}
	return &tempFile{File: f, size: n}, nil
}

type tempFile struct {
	*os.File
	size int64
}

func (f *tempFile) Size() int64 { return f.size }

func (f *tempFile) Close() error {
	err := f.File.Close()
	return errors.Join(err, os.Remove(f.File.Name()))
}

// Join joins key parts with "/", dropping empty ones.
func Join(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "/")
}
