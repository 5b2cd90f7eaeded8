package pricing

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costgate/costgate"
)

func TestDefaultSnapshotLoads(t *testing.T) {
	c := Default()
	if c.Len() < 100 {
		t.Fatalf("default catalog has %d prices", c.Len())
	}
	if !strings.HasPrefix(c.ID(), "costgate-default-") || !strings.Contains(c.ID(), "@sha256:") {
		t.Errorf("ID = %q", c.ID())
	}
	if c.Currency() != "USD" {
		t.Errorf("currency %q", c.Currency())
	}
	// Every price names its provenance.
	for i, p := range c.Snapshot().Prices {
		if p.Source == "" {
			t.Errorf("price %d has no source", i)
		}
	}
	p, err := c.Lookup(Query{Provider: "aws", Service: "AmazonEC2", Region: "us-east-1", Unit: "hour",
		Attrs: map[string]string{"instanceType": "m5.4xlarge", "operatingSystem": "Linux", "tenancy": "Shared"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Price.String() != "0.768" {
		t.Errorf("m5.4xlarge = %s", p.Price)
	}
}

func TestLookupErrors(t *testing.T) {
	c := Default()
	_, err := c.Lookup(Query{Provider: "aws", Service: "AmazonEC2", Region: "us-east-1", Attrs: map[string]string{"instanceType": "x9.huge"}})
	if !errors.Is(err, ErrNoPrice) {
		t.Errorf("err = %v, want ErrNoPrice", err)
	}
	_, err = c.Lookup(Query{Provider: "aws", Service: "AmazonEC2", Region: "us-east-1", Unit: "hour"})
	if !errors.Is(err, ErrAmbiguousPrice) {
		t.Errorf("err = %v, want ErrAmbiguousPrice", err)
	}
	tiers, err := c.LookupTiers(Query{Provider: "aws", Service: "AWSLambda", Region: "us-east-1", Attrs: map[string]string{"group": "AWS-Lambda-Duration"}})
	if err != nil || len(tiers) != 3 || tiers[0].Price.String() != "0.0000166667" {
		t.Fatalf("tiers = %+v, %v", tiers, err)
	}
}

func TestSnapshotValidation(t *testing.T) {
	cases := map[string]struct {
		doc  string
		want string
	}{
		"format":   {`{"format":"x","id":"a","currency":"USD","sources":{},"prices":[]}`, "format: want"},
		"id":       {`{"format":"costgate.prices/v1","currency":"USD","sources":{},"prices":[]}`, "id: required"},
		"unknown":  {`{"format":"costgate.prices/v1","id":"a","currency":"USD","sources":{},"prices":[],"extra":1}`, "unknown field"},
		"unit":     {`{"format":"costgate.prices/v1","id":"a","currency":"USD","sources":{"s":"x"},"prices":[{"provider":"aws","service":"S","region":"r","unit":"Hrs","price":"1","source":"s"}]}`, "prices[0].unit"},
		"source":   {`{"format":"costgate.prices/v1","id":"a","currency":"USD","sources":{"s":"x"},"prices":[{"provider":"aws","service":"S","region":"r","unit":"hour","price":"1","source":"t: y"}]}`, "prices[0].source"},
		"negative": {`{"format":"costgate.prices/v1","id":"a","currency":"USD","sources":{"s":"x"},"prices":[{"provider":"aws","service":"S","region":"r","unit":"hour","price":"-1","source":"s"}]}`, "negative"},
		"price":    {`{"format":"costgate.prices/v1","id":"a","currency":"USD","sources":{"s":"x"},"prices":[{"provider":"aws","service":"S","region":"r","unit":"hour","price":"abc","source":"s"}]}`, "parse rate"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "snap.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrSnapshot) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSnapshotWriteLoadRoundTrip(t *testing.T) {
	s := &Snapshot{ID: "test-1", Currency: "USD", Sources: map[string]string{"t": "test"},
		Prices: []Price{
			{Provider: "aws", Service: "AmazonEC2", Region: "us-east-1", Attributes: map[string]string{"instanceType": "t3.micro"}, Unit: "hour", Price: costgate.MustRate("0.0104"), Source: "t"},
			{Provider: "aws", Service: "AWSLambda", Region: "us-east-1", Attributes: map[string]string{"group": "x"}, Unit: "GB-second", Price: costgate.MustRate("0.0000000309"), Source: "t: detail"},
		}}
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "p.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Lookup(Query{Provider: "aws", Service: "AWSLambda", Region: "us-east-1", Attrs: map[string]string{"group": "x"}})
	if err != nil || p.Price.String() != "0.0000000309" {
		t.Fatalf("lookup = %v, %v", p.Price, err)
	}
	// A directory loads too, with the same identity rule.
	c2, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID() != c.ID() {
		t.Errorf("dir ID %s != file ID %s", c2.ID(), c.ID())
	}
}
