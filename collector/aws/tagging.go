package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
	"github.com/aws/smithy-go"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
)

// TaggingType is the config type name of the Resource Groups Tagging API
// inventory.
const TaggingType = "aws_tagging"

// taggingSchema versions the mapping and the content hash.
const taggingSchema = "aws_tagging/1"

// ResourcesPerPage is the page size asked of GetResources (the API's
// maximum).
const ResourcesPerPage = 100

// parallelRegions bounds the regions listed at once.
const parallelRegions = 4

// TaggingSource lists the account's tagged (and once-tagged) resources
// with the Resource Groups Tagging API's GetResources, one client and one
// paginated listing per configured region, into the source's inventory.
//
// Each resource is mapped from its ARN (arn:partition:service:region:
// account:resource):
//   - ID is the ARN; Provider is "AWS", the FOCUS ProviderName the CUR
//     line items and the tfstate inventory use, so they group together.
//   - AccountID and Region come from the ARN. An ARN without a region (S3
//     buckets, CloudFront, Route 53, IAM) gets the region whose query
//     returned it: the API lists an S3 bucket in the bucket's own region
//     and the global services in us-east-1. A resource returned by more
//     than one region is global: it is kept once, with no region.
//   - Type is the service and the resource part's first segment, split at
//     "/" or ":" (ec2:instance, rds:db, lambda:function, logs:log-group,
//     apigateway:restapis); a resource part with no separator is an S3
//     bucket, SNS topic or SQS queue (s3:bucket), else just the service.
//   - Name is the Name tag, else the ARN's last segment.
//
// The inventory is replaced only when every region listed: if one fails
// (after the SDK's retries) the stored inventory stays as it was and the
// error names the region and what to fix.
type TaggingSource struct {
	name     string
	regions  []string
	endpoint string
	profile  string
}

// TaggingFactory registers aws_tagging.
var TaggingFactory = collector.Factory{
	Check: checkTagging,
	New: func(s collector.Spec, _ collector.Env) (collector.Source, error) {
		return NewTagging(s), nil
	},
}

// regionRE matches region names: us-east-1, us-gov-west-1, eusc-de-east-1.
var regionRE = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

func checkTagging(s collector.Spec) error {
	switch {
	case len(s.Regions) == 0 && s.Region == "":
		return &collector.FieldError{Field: "regions", Msg: "required: the regions to list, e.g. [us-east-1, eu-west-1] (global resources such as CloudFront are listed in us-east-1)"}
	case len(s.Regions) > 0 && s.Region != "":
		return &collector.FieldError{Field: "region", Msg: "give regions (a list) or region, not both"}
	case s.Path != "":
		return &collector.FieldError{Field: "path", Msg: "aws_tagging reads the Resource Groups Tagging API, not files: leave path out"}
	case s.URI != "":
		return &collector.FieldError{Field: "uri", Msg: "aws_tagging reads the Resource Groups Tagging API, not files: leave uri out"}
	case s.Format != "":
		return &collector.FieldError{Field: "format", Msg: "aws_tagging reads no files: leave format out"}
	}
	if s.Region != "" && !regionRE.MatchString(s.Region) {
		return &collector.FieldError{Field: "region", Msg: fmt.Sprintf("%q is not a region name such as us-east-1", s.Region)}
	}
	seen := map[string]int{}
	for i, r := range s.Regions {
		field := fmt.Sprintf("regions[%d]", i)
		if !regionRE.MatchString(r) {
			return &collector.FieldError{Field: field, Msg: fmt.Sprintf("%q is not a region name such as us-east-1", r)}
		}
		if j, dup := seen[r]; dup {
			return &collector.FieldError{Field: field, Msg: fmt.Sprintf("%s is also regions[%d]: list each region once", r, j)}
		}
		seen[r] = i
	}
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &collector.FieldError{Field: "endpoint", Msg: fmt.Sprintf("%q: want an http:// or https:// URL of a Tagging API endpoint (or leave it out for AWS's own)", s.Endpoint)}
		}
	}
	return nil
}

// NewTagging returns a tagging source for spec: regions (or region),
// optional profile and endpoint.
func NewTagging(s collector.Spec) *TaggingSource {
	regions := append([]string(nil), s.Regions...)
	if len(regions) == 0 && s.Region != "" {
		regions = []string{s.Region}
	}
	sort.Strings(regions)
	regions = compact(regions)
	return &TaggingSource{name: s.Name, regions: regions, endpoint: s.Endpoint, profile: s.Profile}
}

func compact(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// Name returns the configured name.
func (s *TaggingSource) Name() string { return s.name }

// Type returns "aws_tagging".
func (s *TaggingSource) Type() string { return TaggingType }

// Collect lists every region and replaces the source's inventory. A
// region that fails fails the whole inventory, which then stays as it
// was; the error is returned (Run records it).
func (s *TaggingSource) Collect(ctx context.Context, sink collector.Sink) error {
	log := sink.Logger()
	prog := sink.Progress()
	if len(s.regions) == 0 {
		return errors.New("no regions to list: give regions in the source's config")
	}
	cfg, err := s.awsConfig(ctx)
	if err != nil {
		return err
	}
	prog.Plan(len(s.regions), 0)

	lists := make([][]types.ResourceTagMapping, len(s.regions))
	errs := make([]error, len(s.regions))
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, parallelRegions)
	var wg sync.WaitGroup
	for i, region := range s.regions {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			lists[i], errs[i] = s.listRegion(rctx, cfg, region, prog, log)
			if errs[i] != nil {
				cancel() // the inventory will not be written: stop the others
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var failed []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) { // canceled: another region failed first
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}

	rs := mapResources(s.regions, lists, log)
	log.Info("resources listed", "regions", strings.Join(s.regions, ","), "resources", len(rs))
	return sink.Inventory(ctx, rs, "tagging:"+strings.Join(s.regions, ","), contentHash(rs))
}

// awsConfig loads the shared config and checks that credentials are
// there, once for all regions.
func (s *TaggingSource) awsConfig(ctx context.Context) (aws.Config, error) {
	var loads []func(*config.LoadOptions) error
	if s.profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(s.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		if s.profile != "" {
			return aws.Config{}, fmt.Errorf("load AWS config (profile %s): %w: check the profile in ~/.aws/config", s.profile, err)
		}
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("get AWS credentials: %w: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the source's profile:, log in again (aws sso login) or run with an instance or workload role", err)
	}
	return cfg, nil
}

// listRegion pages through GetResources in one region.
func (s *TaggingSource) listRegion(ctx context.Context, cfg aws.Config, region string, prog *collector.Progress, log *slog.Logger) ([]types.ResourceTagMapping, error) {
	client := resourcegroupstaggingapi.NewFromConfig(cfg, func(o *resourcegroupstaggingapi.Options) {
		o.Region = region
		if s.endpoint != "" {
			o.BaseEndpoint = aws.String(s.endpoint)
		}
	})
	p := resourcegroupstaggingapi.NewGetResourcesPaginator(client, &resourcegroupstaggingapi.GetResourcesInput{
		ResourcesPerPage: aws.Int32(ResourcesPerPage),
	})
	var out []types.ResourceTagMapping
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, regionError(region, pages, err)
		}
		pages++
		out = append(out, page.ResourceTagMappingList...)
		prog.AddRows(len(page.ResourceTagMappingList))
		log.Debug("page listed", "region", region, "page", pages, "resources", len(page.ResourceTagMappingList))
	}
	prog.FileDone()
	log.Info("region listed", "region", region, "resources", len(out), "pages", pages)
	return out, nil
}

// RegionError is a region whose listing failed, with what to do about it.
type RegionError struct {
	Region string
	// Pages is how many pages had been read.
	Pages int
	Err   error
	// Fix says what to change, when the error says it.
	Fix string
}

func (e *RegionError) Error() string {
	msg := fmt.Sprintf("list resources in %s (page %d): %v", e.Region, e.Pages+1, e.Err)
	if e.Fix != "" {
		msg += ": " + e.Fix
	}
	return msg
}

func (e *RegionError) Unwrap() error { return e.Err }

// regionError tells the user what to fix for the errors the API gives.
func regionError(region string, pages int, err error) error {
	e := &RegionError{Region: region, Pages: pages, Err: err}
	var ae smithy.APIError
	var dns *net.DNSError
	switch {
	case errors.As(err, &ae):
		switch ae.ErrorCode() {
		case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException":
			e.Fix = "the credentials need the IAM permission tag:GetResources (and no SCP denying it in " + region + ")"
		case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
			"ExpiredTokenException", "ExpiredToken", "AuthFailure":
			e.Fix = "AWS rejected the credentials in " + region + ": check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the profile, log in again (aws sso login), or enable the region for the account if it is an opt-in region"
		case "ThrottledException", "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
			e.Fix = "still throttled after the SDK's retries: run again later, or allow more attempts (AWS_MAX_ATTEMPTS=10, AWS_RETRY_MODE=adaptive)"
		case "PaginationTokenExpiredException":
			e.Fix = "the listing outlived its pagination token: run again"
		case "InternalServiceException":
			e.Fix = "an error on AWS's side: run again"
		case "OptInRequired":
			e.Fix = "the region is not enabled for the account: enable it or remove it from regions:"
		}
	case errors.As(err, &dns):
		e.Fix = "cannot resolve " + dns.Name + ": is " + region + " a region name (and endpoint: right)?"
	}
	return e
}

// mapResources maps the listings, in region order, to inventory
// entries, each ARN once, sorted by account, type and id.
func mapResources(regions []string, lists [][]types.ResourceTagMapping, log *slog.Logger) []costgate.Resource {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]costgate.Resource, 0, n)
	at := make(map[string]int, n)
	// regionless[i]: out[i] had no region in its ARN and took its query's.
	regionless := make(map[int]bool)
	bad := 0
	for i, l := range lists {
		for _, m := range l {
			arn := aws.ToString(m.ResourceARN)
			if arn == "" {
				continue
			}
			if j, dup := at[arn]; dup {
				if regionless[j] && out[j].Region != regions[i] {
					out[j].Region = "" // listed by several regions: global
				}
				continue
			}
			r, ok := resourceOf(arn, m.Tags)
			if !ok {
				bad++
			}
			if r.Region == "" {
				r.Region = regions[i]
				regionless[len(out)] = true
			}
			at[arn] = len(out)
			out = append(out, r)
		}
	}
	if bad > 0 {
		log.Warn("ARNs not of the form arn:partition:service:region:account:resource; kept with no type", "resources", bad)
	}
	collector.SortResources(out)
	return out
}

// resourceOf maps one ARN and its tags; ok is false when the ARN does
// not parse (the resource is kept, by id and tags).
func resourceOf(arn string, tags []types.Tag) (r costgate.Resource, ok bool) {
	r = costgate.Resource{Provider: "AWS", ID: arn}
	if len(tags) > 0 {
		r.Tags = make(map[string]string, len(tags))
		for _, t := range tags {
			if k := aws.ToString(t.Key); k != "" {
				r.Tags[k] = aws.ToString(t.Value)
			}
		}
	}
	service, region, account, res, ok := parseARN(arn)
	if ok {
		r.Region, r.AccountID = region, account
		r.Type = arnType(service, res)
	}
	r.Name = r.Tags["Name"]
	if r.Name == "" {
		r.Name = lastSegment(res)
	}
	if r.Name == "" {
		r.Name = arn
	}
	return r, ok
}

// parseARN splits arn:partition:service:region:account:resource.
func parseARN(arn string) (service, region, account, resource string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return "", "", "", "", false
	}
	return parts[2], parts[3], parts[4], parts[5], true
}

// bareTypes names the resources whose ARN resource part is the name
// alone.
var bareTypes = map[string]string{"s3": "bucket", "sns": "topic", "sqs": "queue"}

// arnType is service:type from the resource part: "instance/i-0abc" →
// ec2:instance, "db:orders" → rds:db, "/restapis/a1b2" →
// apigateway:restapis, "my-bucket" → s3:bucket.
func arnType(service, resource string) string {
	res := strings.TrimPrefix(resource, "/")
	if i := strings.IndexAny(res, "/:"); i > 0 {
		return service + ":" + res[:i]
	}
	if t, ok := bareTypes[service]; ok {
		return service + ":" + t
	}
	return service
}

// lastSegment is the resource part after its last "/" or ":".
func lastSegment(resource string) string {
	res := strings.TrimRight(resource, "/:")
	return res[strings.LastIndexAny(res, "/:")+1:]
}

// contentHash is a sha256 over a canonical encoding of the sorted
// resources: one line per resource, quoted fields, tags by key.
func contentHash(rs []costgate.Resource) string {
	h := sha256.New()
	io.WriteString(h, taggingSchema+"\n")
	var b []byte
	for i := range rs {
		r := &rs[i]
		b = b[:0]
		for _, f := range []string{r.Provider, r.AccountID, r.Region, r.ID, r.Type, r.Name} {
			b = strconv.AppendQuote(b, f)
			b = append(b, ' ')
		}
		keys := make([]string, 0, len(r.Tags))
		for k := range r.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b = strconv.AppendQuote(b, k)
			b = append(b, '=')
			b = strconv.AppendQuote(b, r.Tags[k])
			b = append(b, ' ')
		}
		b = append(b, '\n')
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
