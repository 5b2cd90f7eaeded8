// Package s3test runs an in-process S3-compatible server
// (github.com/johannesboyne/gofakes3) on 127.0.0.1 and gives tests a real
// aws-sdk-go-v2 client pointed at it (BaseEndpoint, path-style), so that
// collectors are tested against the S3 protocol, not a mock.
package s3test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Access key and secret the server accepts (gofakes3 does not check
// signatures; versitygw in make e2e does).
const (
	AccessKey = "AKIDCOSTGATETEST"
	SecretKey = "costgate-test-secret"
	Region    = "us-east-1"
)

// Server is a running fake S3.
type Server struct {
	URL    string
	Client *s3.Client
}

// Start starts a server for the test and creates the buckets.
func Start(tb testing.TB, buckets ...string) *Server {
	tb.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	ts := httptest.NewServer(faker.Server())
	tb.Cleanup(ts.Close)
	s := &Server{URL: ts.URL, Client: NewClient(ts.URL)}
	for _, b := range buckets {
		if _, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			tb.Fatalf("create bucket %s: %v", b, err)
		}
	}
	return s
}

// NewClient returns an SDK client for an S3-compatible endpoint.
func NewClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,

		DisableLogOutputChecksumValidationSkipped: true,
	})
}

// Put uploads an object with the SDK.
func (s *Server) Put(tb testing.TB, bucket, key string, body []byte) {
	tb.Helper()
	_, err := s.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		tb.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

// Env points the default AWS credential chain at the server's keys and
// keeps it off the network and the user's files.
func Env(tb testing.TB) {
	tb.Helper()
	tb.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	tb.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	tb.Setenv("AWS_SESSION_TOKEN", "")
	tb.Setenv("AWS_REGION", Region)
	tb.Setenv("AWS_PROFILE", "")
	tb.Setenv("AWS_CONFIG_FILE", "/dev/null")
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
