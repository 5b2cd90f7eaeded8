package aws

import (
	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// S3Standard is an S3 bucket's Standard storage class usage per month
// (nil when unknown).
type S3Standard struct {
	StorageGB       *costgate.Quantity
	Tier1Requests   *costgate.Quantity // PUT, COPY, POST, LIST
	Tier2Requests   *costgate.Quantity // GET, SELECT and the rest
	SelectScannedGB *costgate.Quantity
	SelectReturnGB  *costgate.Quantity
	UsageSource     string
}

// The attributes of the S3 Standard queries; read-only, shared by every
// bucket.
var (
	s3StorageAttrs  = map[string]string{"productFamily": "Storage", "volumeType": "Standard"}
	s3Tier1Attrs    = map[string]string{"group": "S3-API-Tier1"}
	s3Tier2Attrs    = map[string]string{"group": "S3-API-Tier2"}
	s3ScannedAttrs  = map[string]string{"group": "S3-API-Select-Scanned"}
	s3ReturnedAttrs = map[string]string{"group": "S3-API-Select-Returned"}
)

func s3Components(p pricing.Pricer, region string, b S3Standard) ([]costgate.CostComponent, error) {
	std := func(unit string, attrs map[string]string) pricing.Query { return q("AmazonS3", region, unit, attrs) }
	const sub = "Standard"
	storage, err := p.Tiered(pricing.Line{Name: "Storage", Subresource: sub, Unit: "GB", Quantity: b.StorageGB, UsageBased: true, UsageSource: b.UsageSource,
		Query: std("GB-month", s3StorageAttrs)}, tbTier)
	if err != nil {
		return nil, err
	}
	out := storage
	for _, l := range [...]pricing.Line{
		{Name: "PUT, COPY, POST, LIST requests", Unit: "1k requests", Quantity: thousands(b.Tier1Requests), Scale: 1000, Query: std("request", s3Tier1Attrs)},
		{Name: "GET, SELECT, and all other requests", Unit: "1k requests", Quantity: thousands(b.Tier2Requests), Scale: 1000, Query: std("request", s3Tier2Attrs)},
		{Name: "Select data scanned", Unit: "GB", Quantity: b.SelectScannedGB, Query: std("GB", s3ScannedAttrs)},
		{Name: "Select data returned", Unit: "GB", Quantity: b.SelectReturnGB, Query: std("GB", s3ReturnedAttrs)},
	} {
		l.Subresource, l.UsageBased, l.UsageSource = sub, true, b.UsageSource
		c, err := p.Component(l)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func thousands(q *costgate.Quantity) *costgate.Quantity {
	if q == nil {
		return nil
	}
	return pricing.QtyRate(q.Rate().Mul(costgate.RateOf(1, 1000)))
}

// tbTier names S3 storage tiers ("first 50 TB") from GB bounds.
func tbTier(start, end *costgate.Rate) string {
	tb := func(r costgate.Rate) string { return r.Mul(costgate.RateOf(1, 1024)).String() + " TB" }
	switch {
	case (start == nil || start.IsZero()) && end != nil:
		return " (first " + tb(*end) + ")"
	case end == nil && start != nil:
		return " (over " + tb(*start) + ")"
	case start != nil && end != nil:
		return " (next " + tb(end.Add(start.Mul(costgate.RateOf(-1, 1)))) + ")"
	}
	return ""
}

// LogGroup is a CloudWatch log group's monthly usage (nil when unknown).
type LogGroup struct {
	IngestedGB, StorageGB, ScannedGB *costgate.Quantity
	UsageSource                      string
}

// The attributes of the log group queries; read-only, shared by every
// log group (a plan may hold thousands).
var (
	logIngestAttrs  = map[string]string{"usagetype": "DataProcessing-Bytes"}
	logStorageAttrs = map[string]string{"usagetype": "TimedStorage-ByteHrs"}
	logScanAttrs    = map[string]string{"usagetype": "DataScanned-Bytes"}
)

func logGroupComponents(p pricing.Pricer, region string, g LogGroup) ([]costgate.CostComponent, error) {
	out := make([]costgate.CostComponent, 0, 3)
	for _, l := range [...]pricing.Line{
		{Name: "Data ingested", Unit: "GB", Quantity: g.IngestedGB, Query: q("AmazonCloudWatch", region, "GB", logIngestAttrs)},
		{Name: "Archival Storage", Unit: "GB", Quantity: g.StorageGB, Query: q("AmazonCloudWatch", region, "GB-month", logStorageAttrs)},
		{Name: "Insights queries data scanned", Unit: "GB", Quantity: g.ScannedGB, Query: q("AmazonCloudWatch", region, "GB", logScanAttrs)},
	} {
		l.UsageBased, l.UsageSource = true, g.UsageSource
		c, err := p.Component(l)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
