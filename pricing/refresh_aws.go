package pricing

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	awstypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"

	"github.com/costgate/costgate"
)

// AWSServices are the AWS service codes RefreshAWS fetches by default:
// the ones the AWS estimators price.
var AWSServices = []string{
	"AmazonEC2", "AmazonRDS", "AWSELB", "AmazonEKS", "AmazonElastiCache", "AmazonES",
	"AmazonDynamoDB", "AWSLambda", "AmazonS3", "AmazonCloudWatch",
}

// awsQueries narrows the large services to the product families the
// estimators read; one GetProducts listing runs per entry (and region).
var awsQueries = map[string][]map[string]string{
	"AmazonEC2": {
		{"productFamily": "Compute Instance", "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required"},
		{"productFamily": "Compute Instance", "operatingSystem": "Windows", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required"},
		{"productFamily": "Storage"},
		{"productFamily": "System Operation"},
		{"productFamily": "Provisioned Throughput"},
		{"productFamily": "NAT Gateway"},
	},
	"AmazonRDS": {
		{"productFamily": "Database Instance"},
		{"productFamily": "Database Storage"},
		{"productFamily": "Provisioned IOPS"},
	},
	"AmazonElastiCache": {
		{"productFamily": "Cache Instance"},
		{"productFamily": "Storage Snapshot"},
	},
}

// awsAttributes are the product attributes a snapshot keeps (the ones
// the estimators query); the rest of a price-list product is dropped.
var awsAttributes = []string{
	"productFamily", "instanceType", "operatingSystem", "tenancy", "preInstalledSw", "capacitystatus", "licenseModel",
	"volumeApiName", "group", "usagetype", "databaseEngine", "deploymentOption", "volumeType", "cacheEngine",
	"storageMedia",
}

// AWSPriceLister is the part of the AWS Price List Query API client
// RefreshAWS uses (*pricing.Client implements it).
type AWSPriceLister interface {
	GetProducts(ctx context.Context, in *awspricing.GetProductsInput, optFns ...func(*awspricing.Options)) (*awspricing.GetProductsOutput, error)
}

// RefreshAWS lists the on-demand prices of the services in the regions
// through the Price List Query API (GetProducts, paginated, filtered by
// service, region and product family) and returns them as snapshot
// prices with source "aws-price-list".
func RefreshAWS(ctx context.Context, client AWSPriceLister, services, regions []string) ([]Price, error) {
	if len(services) == 0 {
		services = AWSServices
	}
	var out []Price
	for _, svc := range services {
		queries := awsQueries[svc]
		if queries == nil {
			queries = []map[string]string{{}}
		}
		for _, region := range regions {
			for _, qattrs := range queries {
				ps, err := listAWS(ctx, client, svc, region, qattrs)
				if err != nil {
					return nil, err
				}
				out = append(out, ps...)
			}
		}
	}
	return out, nil
}

func listAWS(ctx context.Context, client AWSPriceLister, svc, region string, attrs map[string]string) ([]Price, error) {
	filters := []awstypes.Filter{{Type: awstypes.FilterTypeTermMatch, Field: aws.String("regionCode"), Value: aws.String(region)}}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		filters = append(filters, awstypes.Filter{Type: awstypes.FilterTypeTermMatch, Field: aws.String(k), Value: aws.String(attrs[k])})
	}
	pager := awspricing.NewGetProductsPaginator(client, &awspricing.GetProductsInput{
		ServiceCode: aws.String(svc), Filters: filters, FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(100),
	})
	var out []Price
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("aws price list %s %s: %w", svc, region, err)
		}
		for i, doc := range page.PriceList {
			ps, err := awsProductPrices(svc, region, doc)
			if err != nil {
				return nil, fmt.Errorf("aws price list %s %s: PriceList[%d]: %w", svc, region, i, err)
			}
			out = append(out, ps...)
		}
	}
	return out, nil
}

// awsProduct is one PriceList entry: a JSON document in a string.
type awsProduct struct {
	Product struct {
		ProductFamily string            `json:"productFamily"`
		Attributes    map[string]string `json:"attributes"`
		SKU           string            `json:"sku"`
	} `json:"product"`
	ServiceCode string `json:"serviceCode"`
	Terms       struct {
		OnDemand map[string]struct {
			EffectiveDate   string `json:"effectiveDate"`
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				BeginRange   string            `json:"beginRange"`
				EndRange     string            `json:"endRange"`
				Description  string            `json:"description"`
				RateCode     string            `json:"rateCode"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
	PublicationDate string `json:"publicationDate"`
}

// regionPrefixRE matches the region prefix of a usage type
// ("USE2-", "EUW1-", "APS3-").
var regionPrefixRE = regexp.MustCompile(`^[A-Z]{2,4}[0-9]?-`)

func awsProductPrices(svc, region, doc string) ([]Price, error) {
	var p awsProduct
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	for _, k := range awsAttributes {
		if v := p.Product.Attributes[k]; v != "" {
			attrs[k] = v
		}
	}
	if p.Product.ProductFamily != "" {
		attrs["productFamily"] = p.Product.ProductFamily
	}
	if ut, ok := attrs["usagetype"]; ok {
		attrs["usagetype"] = regionPrefixRE.ReplaceAllString(ut, "")
	}
	tierFromUsage := costgate.Rate{}
	if ut := attrs["usagetype"]; strings.HasPrefix(ut, "EBS:VolumeP-IOPS.io2") {
		// io2 IOPS tiers are separate products.
		switch {
		case strings.HasSuffix(ut, ".tier2"):
			tierFromUsage = costgate.RateOf(32000, 1)
		case strings.HasSuffix(ut, ".tier3"):
			tierFromUsage = costgate.RateOf(64000, 1)
		}
		delete(attrs, "usagetype")
	}
	var out []Price
	for _, term := range p.Terms.OnDemand {
		for _, dim := range term.PriceDimensions {
			unit, scale, ok := awsUnit(dim.Unit)
			if !ok {
				continue
			}
			usd, ok := dim.PricePerUnit["USD"]
			if !ok {
				continue
			}
			price, err := costgate.ParseRate(usd)
			if err != nil {
				return nil, fmt.Errorf("sku %s: price %q: %w", p.Product.SKU, usd, err)
			}
			pr := Price{
				Provider: "aws", Service: svc, Region: region, Attributes: attrs, Unit: unit,
				Price: price.Mul(scale), Currency: "USD", SKU: dim.RateCode, EffectiveDate: shortDate(term.EffectiveDate),
				Source: "aws-price-list: " + strings.TrimSpace(dim.Description),
			}
			if b, err := costgate.ParseRate(dim.BeginRange); err == nil && b.Sign() > 0 {
				pr.TierStart = &b
			} else if tierFromUsage.Sign() > 0 {
				t := tierFromUsage
				pr.TierStart = &t
			}
			out = append(out, pr)
		}
	}
	return out, nil
}

// awsUnit converts a price-list unit to a snapshot unit and the factor
// from a price per price-list unit to a price per snapshot unit.
func awsUnit(u string) (string, costgate.Rate, bool) {
	one := costgate.RateOf(1, 1)
	switch strings.ToLower(u) {
	case "hrs", "hours", "hour":
		return "hour", one, true
	case "gb-mo", "gb-month":
		return "GB-month", one, true
	case "iops-mo":
		return "IOPS-month", one, true
	case "mibps-mo", "mbps-mo":
		return "MiBps-month", one, true
	case "gibps-mo":
		return "MiBps-month", costgate.RateOf(1, 1024), true
	case "requests", "request":
		return "request", one, true
	case "lambda-gb-second", "gb-second", "gb-seconds", "second":
		return "GB-second", one, true
	case "gb":
		return "GB", one, true
	case "vcpu-hours", "vcpu-hour", "vcpu-hr":
		return "vCPU-hour", one, true
	case "lcu-hrs", "lcu-hours", "nlcu-hrs", "glcu-hrs":
		return "LCU-hour", one, true
	case "readcapacityunit-hrs":
		return "RCU-hour", one, true
	case "writecapacityunit-hrs":
		return "WCU-hour", one, true
	case "writerequestunits":
		return "request", one, true
	case "readrequestunits":
		return "request", one, true
	}
	return "", one, false
}

func shortDate(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}
