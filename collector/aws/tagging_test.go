package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/store"
)

const (
	tagKeyID  = "AKIDTAGGINGTEST0001"
	tagSecret = "tagging-test-secret"
	account   = "123456789012"
)

// taggingEnv points the default credential chain at the peer's keys and
// keeps it off the user's files and the network.
func taggingEnv(tb testing.TB, secret string) {
	tb.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": tagKeyID, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
	} {
		tb.Setenv(k, v)
	}
}

// tagged is one resource the peer serves.
type tagged struct {
	ARN  string
	Tags map[string]string
}

// peerRequest is what the peer saw of one GetResources call.
type peerRequest struct {
	Region, Token string
	PerPage       int
	Attempt       string // amz-sdk-request
	Status        int
}

// fault is an error the peer serves for one page, Times times.
type fault struct {
	Status    int
	Code, Msg string
	Times     int
	served    int
}

// tagPeer speaks the Resource Groups Tagging API's GetResources over AWS
// JSON 1.1 and checks each request's SigV4 signature with the one
// secret it knows. The region comes from the credential scope; each
// region has its own resources.
type tagPeer struct {
	tb  testing.TB
	URL string

	mu      sync.Mutex
	data    map[string][]tagged
	faults  map[string]*fault // "region#page"
	reqs    []peerRequest
	hook    func(r *http.Request)
	badSigs int
}

func startTagPeer(tb testing.TB, data map[string][]tagged) *tagPeer {
	tb.Helper()
	p := &tagPeer{tb: tb, data: data, faults: map[string]*fault{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	tb.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *tagPeer) fail(region string, page int, f fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[region+"#"+strconv.Itoa(page)] = &f
}

func (p *tagPeer) setData(data map[string][]tagged) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.data = data
}

func (p *tagPeer) requests() []peerRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]peerRequest(nil), p.reqs...)
}

// badSignatures is how many requests failed the SigV4 check.
func (p *tagPeer) badSignatures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.badSigs
}

func (p *tagPeer) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = nil
}

func writeAWSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "req-"+code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.resourcegroupstaggingapi#" + code, "message": msg})
}

func (p *tagPeer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The collector cancels the other regions' requests when one
		// fails, sometimes while a body is on its way: the client left.
		p.tb.Logf("peer: read body: %v (client gone)", err)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		p.tb.Errorf("peer: %s %s, want POST /", r.Method, r.URL.Path)
		writeAWSError(w, 404, "UnknownOperationException", "POST / only")
		return
	}
	if got := r.Header.Get("X-Amz-Target"); got != "ResourceGroupsTaggingAPI_20170126.GetResources" {
		p.tb.Errorf("peer: X-Amz-Target %q", got)
		writeAWSError(w, 400, "UnknownOperationException", "unknown target "+got)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		p.tb.Errorf("peer: Content-Type %q", ct)
		writeAWSError(w, 400, "SerializationException", "content type "+ct)
		return
	}
	region, err := verifySigV4(r, body, tagKeyID, tagSecret, "tagging")
	if err != nil {
		p.mu.Lock()
		p.badSigs++
		p.mu.Unlock()
		writeAWSError(w, 400, "InvalidSignatureException", err.Error())
		return
	}
	var in struct {
		PaginationToken  *string
		ResourcesPerPage *int
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		p.tb.Errorf("peer: request body %s: %v", body, err)
		writeAWSError(w, 400, "SerializationException", err.Error())
		return
	}
	req := peerRequest{Region: region, Token: aws.ToString(in.PaginationToken), Attempt: r.Header.Get("Amz-Sdk-Request")}
	perPage := 50 // the API's default
	if in.ResourcesPerPage != nil {
		perPage = *in.ResourcesPerPage
		req.PerPage = perPage
	}
	if perPage < 1 || perPage > 100 {
		req.Status = 400
		p.record(req)
		writeAWSError(w, 400, "InvalidParameterException", "ResourcesPerPage must be 1 to 100")
		return
	}
	offset := 0
	if req.Token != "" {
		reg, off, ok := strings.Cut(req.Token, "|")
		n, err := strconv.Atoi(off)
		if !ok || reg != region || err != nil {
			req.Status = 400
			p.record(req)
			writeAWSError(w, 400, "InvalidParameterException", "bad PaginationToken "+req.Token)
			return
		}
		offset = n
	}

	p.mu.Lock()
	if p.hook != nil {
		p.hook(r)
	}
	f := p.faults[region+"#"+strconv.Itoa(offset/perPage+1)]
	if f != nil && f.served < f.Times {
		f.served++
		p.mu.Unlock()
		req.Status = f.Status
		p.record(req)
		writeAWSError(w, f.Status, f.Code, f.Msg)
		return
	}
	all := p.data[region]
	end := min(offset+perPage, len(all))
	type tag struct{ Key, Value string }
	type mapping struct {
		ResourceARN string
		Tags        []tag
	}
	out := struct {
		PaginationToken        string
		ResourceTagMappingList []mapping
	}{ResourceTagMappingList: []mapping{}}
	for _, t := range all[min(offset, end):end] {
		m := mapping{ResourceARN: t.ARN, Tags: []tag{}}
		for k, v := range t.Tags {
			m.Tags = append(m.Tags, tag{k, v})
		}
		out.ResourceTagMappingList = append(out.ResourceTagMappingList, m)
	}
	if end < len(all) {
		out.PaginationToken = region + "|" + strconv.Itoa(end)
	}
	p.mu.Unlock()
	req.Status = 200
	p.record(req)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func (p *tagPeer) record(r peerRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = append(p.reqs, r)
}

// verifySigV4 checks an AWS4-HMAC-SHA256 Authorization header: the key
// id, the scope (date/region/service/aws4_request) and the signature,
// recomputed over the signed headers and the body with secret. It
// returns the scope's region.
func verifySigV4(r *http.Request, body []byte, keyID, secret, service string) (string, error) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "", fmt.Errorf("not SigV4: Authorization %q", auth)
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return "", fmt.Errorf("credential scope %q", fields["Credential"])
	}
	if scope[0] != keyID {
		return "", fmt.Errorf("unknown access key %q", scope[0])
	}
	if scope[3] != service {
		return "", fmt.Errorf("credential scope service %q, want %q", scope[3], service)
	}
	region := scope[2]
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || when.Format("20060102") != scope[1] {
		return "", fmt.Errorf("X-Amz-Date %q does not match the scope date %s", r.Header.Get("X-Amz-Date"), scope[1])
	}
	if d := time.Since(when); d > 15*time.Minute || d < -15*time.Minute {
		return "", fmt.Errorf("signed %v ago", d)
	}
	sum := sha256.Sum256(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != hex.EncodeToString(sum[:]) {
		return "", errors.New("X-Amz-Content-Sha256 does not match the body")
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return "", err
	}
	again.ContentLength = int64(len(body))
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h != "host" && h != "content-length" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		again, hex.EncodeToString(sum[:]), service, region, when)
	if err != nil {
		return "", err
	}
	if again.Header.Get("Authorization") != auth {
		return "", errors.New("signature does not match")
	}
	return region, nil
}

// fleet is the peer's data: 180 resources in us-east-1 (two pages),
// 216 in eu-west-1 (three pages), five IAM roles returned by both.
func fleet() map[string][]tagged {
	teams := []string{"storefront", "payments", "data"}
	var use1, euw1 []tagged
	for i := range 120 {
		t := tagged{ARN: fmt.Sprintf("arn:aws:ec2:us-east-1:%s:instance/i-0e1%014x", account, i),
			Tags: map[string]string{"team": teams[i%3], "env": "prod"}}
		if i%4 != 3 {
			t.Tags["Name"] = fmt.Sprintf("web-%03d", i)
		}
		use1 = append(use1, t)
	}
	for i := range 30 {
		use1 = append(use1, tagged{ARN: fmt.Sprintf("arn:aws:s3:::acme-use1-bucket-%02d", i), Tags: map[string]string{"team": "data"}})
	}
	for i := range 20 {
		use1 = append(use1, tagged{ARN: fmt.Sprintf("arn:aws:lambda:us-east-1:%s:function:ingest-%02d", account, i),
			Tags: map[string]string{"team": "data", "cost-center": "cc-200"}})
	}
	for i := range 5 {
		use1 = append(use1, tagged{ARN: fmt.Sprintf("arn:aws:cloudfront::%s:distribution/E2ABCDEF0000%02d", account, i),
			Tags: map[string]string{"team": "storefront"}})
	}
	var roles []tagged
	for i := range 5 {
		roles = append(roles, tagged{ARN: fmt.Sprintf("arn:aws:iam::%s:role/ci-deployer-%d", account, i), Tags: map[string]string{"team": "platform"}})
	}
	use1 = append(use1, roles...)
	for i := range 150 {
		euw1 = append(euw1, tagged{ARN: fmt.Sprintf("arn:aws:rds:eu-west-1:%s:db:orders-%03d", account, i),
			Tags: map[string]string{"team": "payments", "owner": ""}})
	}
	for i := range 40 {
		euw1 = append(euw1, tagged{ARN: fmt.Sprintf("arn:aws:s3:::acme-euw1-lake-%02d", i), Tags: map[string]string{"team": "data", "Name": fmt.Sprintf("Lake %d", i)}})
	}
	for i := range 10 {
		euw1 = append(euw1, tagged{ARN: fmt.Sprintf("arn:aws:logs:eu-west-1:%s:log-group:/aws/lambda/fn-%d", account, i)})
	}
	for i := range 10 {
		euw1 = append(euw1, tagged{ARN: fmt.Sprintf("arn:aws:elasticloadbalancing:eu-west-1:%s:loadbalancer/app/web-%d/50dc6c495c0c91%02d", account, i, i),
			Tags: map[string]string{"team": "storefront"}})
	}
	euw1 = append(euw1, tagged{ARN: "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5", Tags: map[string]string{"team": "payments"}})
	euw1 = append(euw1, roles...)
	return map[string][]tagged{"us-east-1": use1, "eu-west-1": euw1}
}

func taggingSpec(endpoint string, regions ...string) collector.Spec {
	return collector.Spec{Name: "tags", Type: TaggingType, Regions: regions, Endpoint: endpoint}
}

func collectAt(tb testing.TB, ctx context.Context, st *store.Store, now time.Time, src collector.Source) (collector.Summary, error) {
	tb.Helper()
	sums, err := collector.Run(ctx, collectstore.New(st), []collector.Source{src},
		collector.Options{Logger: quiet(), Now: func() time.Time { return now }})
	if len(sums) != 1 {
		tb.Fatalf("%d summaries, err %v", len(sums), err)
	}
	return sums[0], err
}

func resources(tb testing.TB, st *store.Store) map[string]costgate.Resource {
	tb.Helper()
	rs, err := st.Resources(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]costgate.Resource{}
	for _, r := range rs {
		if _, dup := out[r.ID]; dup {
			tb.Errorf("%s is in the inventory twice", r.ID)
		}
		out[r.ID] = r
	}
	return out
}

// pagesBy counts the successful requests per region and checks that
// each asked for 100 resources and followed the previous page's token.
func pagesBy(tb testing.TB, reqs []peerRequest) map[string]int {
	tb.Helper()
	pages := map[string]int{}
	for _, r := range reqs {
		if r.PerPage != ResourcesPerPage {
			tb.Errorf("%s: ResourcesPerPage %d, want %d", r.Region, r.PerPage, ResourcesPerPage)
		}
		if r.Status != 200 {
			continue
		}
		want := ""
		if n := pages[r.Region]; n > 0 {
			want = r.Region + "|" + strconv.Itoa(n*ResourcesPerPage)
		}
		if r.Token != want {
			tb.Errorf("%s page %d: token %q, want %q", r.Region, pages[r.Region]+1, r.Token, want)
		}
		pages[r.Region]++
	}
	return pages
}

var day1 = time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)

func TestTaggingInventory(t *testing.T) {
	taggingEnv(t, tagSecret)
	peer := startTagPeer(t, fleet())
	st := openStore(t)
	src := NewTagging(taggingSpec(peer.URL, "us-east-1", "eu-west-1"))
	sum, err := collectAt(t, context.Background(), st, day1, src)
	if err != nil {
		t.Fatal(err)
	}
	// 180 + 216 listed, the 5 IAM roles twice.
	if sum.Loaded != 1 || sum.Resources != 391 || sum.RowsRead != 396 || sum.Files != 2 || len(sum.Errors) != 0 {
		t.Fatalf("%s", sum.String())
	}
	if got := pagesBy(t, peer.requests()); got["us-east-1"] != 2 || got["eu-west-1"] != 3 || len(got) != 2 {
		t.Fatalf("pages per region %v, want us-east-1:2 eu-west-1:3", got)
	}

	inv := resources(t, st)
	if len(inv) != 391 {
		t.Fatalf("%d resources in the store, want 391", len(inv))
	}
	tests := map[string]struct {
		id                         string
		account, region, typ, name string
		tags                       string
	}{
		"instance, Name tag":     {"arn:aws:ec2:us-east-1:123456789012:instance/i-0e100000000000000", account, "us-east-1", "ec2:instance", "web-000", `{"Name":"web-000","env":"prod","team":"storefront"}`},
		"instance, no Name":      {"arn:aws:ec2:us-east-1:123456789012:instance/i-0e100000000000003", account, "us-east-1", "ec2:instance", "i-0e100000000000003", `{"env":"prod","team":"storefront"}`},
		"last page of us-east-1": {"arn:aws:ec2:us-east-1:123456789012:instance/i-0e100000000000077", account, "us-east-1", "ec2:instance", "i-0e100000000000077", `{"env":"prod","team":"data"}`},
		"bucket in us-east-1":    {"arn:aws:s3:::acme-use1-bucket-07", "", "us-east-1", "s3:bucket", "acme-use1-bucket-07", `{"team":"data"}`},
		"bucket in eu-west-1":    {"arn:aws:s3:::acme-euw1-lake-39", "", "eu-west-1", "s3:bucket", "Lake 39", `{"Name":"Lake 39","team":"data"}`},
		"lambda":                 {"arn:aws:lambda:us-east-1:123456789012:function:ingest-19", account, "us-east-1", "lambda:function", "ingest-19", `{"cost-center":"cc-200","team":"data"}`},
		"rds, empty tag value":   {"arn:aws:rds:eu-west-1:123456789012:db:orders-149", account, "eu-west-1", "rds:db", "orders-149", `{"owner":"","team":"payments"}`},
		"cloudfront":             {"arn:aws:cloudfront::123456789012:distribution/E2ABCDEF000004", account, "us-east-1", "cloudfront:distribution", "E2ABCDEF000004", `{"team":"storefront"}`},
		"iam, both regions":      {"arn:aws:iam::123456789012:role/ci-deployer-2", account, "", "iam:role", "ci-deployer-2", `{"team":"platform"}`},
		"log group, no tags":     {"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn-3", account, "eu-west-1", "logs:log-group", "fn-3", `null`},
		"load balancer":          {"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web-4/50dc6c495c0c9104", account, "eu-west-1", "elasticloadbalancing:loadbalancer", "50dc6c495c0c9104", `{"team":"storefront"}`},
		"api gateway":            {"arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5", "", "eu-west-1", "apigateway:restapis", "a1b2c3d4e5", `{"team":"payments"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := inv[tc.id]
			if !ok {
				t.Fatalf("no resource %s", tc.id)
			}
			tags, _ := json.Marshal(r.Tags)
			got := []string{r.Provider, r.AccountID, r.Region, r.Type, r.Name, string(tags), r.Source}
			want := []string{"AWS", tc.account, tc.region, tc.typ, tc.name, tc.tags, "tags"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			if !r.FirstSeen.Equal(day1) || !r.LastSeen.Equal(day1) {
				t.Errorf("first/last seen %v %v, want %v", r.FirstSeen, r.LastSeen, day1)
			}
		})
	}
	byType := map[string]int{}
	for _, r := range inv {
		byType[r.Type]++
	}
	wantTypes := map[string]int{"ec2:instance": 120, "s3:bucket": 70, "lambda:function": 20, "cloudfront:distribution": 5,
		"iam:role": 5, "rds:db": 150, "logs:log-group": 10, "elasticloadbalancing:loadbalancer": 10, "apigateway:restapis": 1}
	if !reflect.DeepEqual(byType, wantTypes) {
		t.Errorf("types %v\nwant  %v", byType, wantTypes)
	}

	// The same data again the same day: the store is not written.
	gen := st.Info().Generation
	peer.reset()
	sum, err = collectAt(t, context.Background(), st, day1.Add(2*time.Hour), NewTagging(taggingSpec(peer.URL, "eu-west-1", "us-east-1")))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 0 || sum.Unchanged != 1 || st.Info().Generation != gen {
		t.Fatalf("second run wrote the store: %s; generation %d → %d", sum.String(), gen, st.Info().Generation)
	}
	if n := len(peer.requests()); n != 5 {
		t.Fatalf("second run made %d requests, want 5 (it must list again)", n)
	}
	if !reflect.DeepEqual(resources(t, st), inv) {
		t.Fatal("the inventory changed on a no-op run")
	}

	// Closed and reopened, the store holds the same inventory.
	dir := st.Info().Dir
	st.Close()
	st2, err := store.Open(dir, store.Options{ReadOnly: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if !reflect.DeepEqual(resources(t, st2), inv) {
		t.Fatal("the inventory differs after reopening the store")
	}
}

// TestTaggingThrottled: a throttled page is retried by the SDK and the
// listing completes.
func TestTaggingThrottled(t *testing.T) {
	taggingEnv(t, tagSecret)
	peer := startTagPeer(t, fleet())
	peer.fail("eu-west-1", 2, fault{Status: 400, Code: "ThrottlingException", Msg: "Rate exceeded", Times: 1})
	st := openStore(t)
	sum, err := collectAt(t, context.Background(), st, day1, NewTagging(taggingSpec(peer.URL, "us-east-1", "eu-west-1")))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resources != 391 {
		t.Fatalf("%s", sum.String())
	}
	var throttled, retried *peerRequest
	reqs := peer.requests()
	for i, r := range reqs {
		if r.Status == 400 {
			throttled = &reqs[i]
		} else if throttled != nil && r.Region == "eu-west-1" && retried == nil {
			retried = &reqs[i]
		}
	}
	if throttled == nil || retried == nil {
		t.Fatalf("no throttled request and retry: %+v", reqs)
	}
	if throttled.Token != "eu-west-1|100" || retried.Token != throttled.Token || !strings.Contains(retried.Attempt, "attempt=2") {
		t.Fatalf("throttled %+v, then %+v: want the same page again as attempt 2", *throttled, *retried)
	}
	if got := pagesBy(t, reqs); got["eu-west-1"] != 3 {
		t.Fatalf("pages %v", got)
	}
}

// TestTaggingFailureKeepsInventory: a region that fails for good (access
// denied, a bad signature) leaves the stored inventory exactly as it
// was, and the error names the region and the fix.
func TestTaggingFailureKeepsInventory(t *testing.T) {
	tests := map[string]struct {
		secret string
		fault  *fault
		want   []string
		reqs   int // requests to eu-west-1 that failed
	}{
		"access denied": {
			secret: tagSecret,
			fault:  &fault{Status: 400, Code: "AccessDeniedException", Msg: "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: tag:GetResources", Times: 100},
			want:   []string{"list resources in eu-west-1 (page 2)", "AccessDeniedException", "is not authorized to perform: tag:GetResources", "the credentials need the IAM permission tag:GetResources"},
			reqs:   1,
		},
		"bad signature": {
			secret: "not-the-secret",
			want:   []string{"list resources in", "InvalidSignatureException", "signature does not match", "AWS rejected the credentials in"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			taggingEnv(t, tagSecret)
			data := fleet()
			peer := startTagPeer(t, data)
			st := openStore(t)
			if _, err := collectAt(t, context.Background(), st, day1, NewTagging(taggingSpec(peer.URL, "us-east-1", "eu-west-1"))); err != nil {
				t.Fatal(err)
			}
			before := resources(t, st)
			gen := st.Info().Generation

			// A day later: a new instance, and eu-west-1 fails.
			data["us-east-1"] = append(data["us-east-1"], tagged{ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-0newnewnewnew0001"})
			peer.setData(data)
			peer.reset()
			if tc.fault != nil {
				peer.fail("eu-west-1", 2, *tc.fault)
			}
			taggingEnv(t, tc.secret)
			sum, err := collectAt(t, context.Background(), st, day1.AddDate(0, 0, 1), NewTagging(taggingSpec(peer.URL, "us-east-1", "eu-west-1")))
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if len(sum.Errors) != 1 || sum.Loaded != 0 || sum.Resources != 0 {
				t.Errorf("%s: %v", sum.String(), sum.Errors)
			}
			var re *RegionError
			if !errors.As(err, &re) {
				t.Errorf("error %T is not a *RegionError", err)
			}
			if st.Info().Generation != gen {
				t.Errorf("generation %d → %d: the store was written", gen, st.Info().Generation)
			}
			if after := resources(t, st); !reflect.DeepEqual(after, before) {
				t.Errorf("the inventory changed: %d resources before, %d after", len(before), len(after))
			}
			if tc.fault != nil {
				n := 0
				for _, r := range peer.requests() {
					if r.Status == 400 {
						n++
					}
				}
				if n != tc.reqs {
					t.Errorf("%d failed requests, want %d (access denied is not retried)", n, tc.reqs)
				}
			} else if peer.badSignatures() == 0 {
				t.Error("the peer saw no bad signature")
			}
		})
	}
}

// TestTaggingCanceled: a canceled context stops the listing and writes
// nothing.
func TestTaggingCanceled(t *testing.T) {
	taggingEnv(t, tagSecret)
	peer := startTagPeer(t, fleet())
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	peer.hook = func(*http.Request) { once.Do(cancel) }
	_, err := collectAt(t, ctx, st, day1, NewTagging(taggingSpec(peer.URL, "us-east-1", "eu-west-1")))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := st.Info().Resources; n != 0 {
		t.Fatalf("%d resources stored", n)
	}
	if n := len(peer.requests()); n > 2 {
		t.Fatalf("%d requests after the cancel", n)
	}
}

func TestTaggingCheck(t *testing.T) {
	tests := map[string]struct {
		spec  collector.Spec
		field string // "" is valid
	}{
		"regions":           {collector.Spec{Regions: []string{"us-east-1", "eu-west-1"}}, ""},
		"region":            {collector.Spec{Region: "us-gov-west-1"}, ""},
		"endpoint":          {collector.Spec{Regions: []string{"us-east-1"}, Endpoint: "http://127.0.0.1:4566", Profile: "audit"}, ""},
		"no region":         {collector.Spec{}, "regions"},
		"both":              {collector.Spec{Region: "us-east-1", Regions: []string{"us-east-1"}}, "region"},
		"bad region":        {collector.Spec{Regions: []string{"us-east-1", "US East"}}, "regions[1]"},
		"bad single region": {collector.Spec{Region: "useast1"}, "region"},
		"duplicate":         {collector.Spec{Regions: []string{"us-east-1", "us-east-1"}}, "regions[1]"},
		"bad endpoint":      {collector.Spec{Regions: []string{"us-east-1"}, Endpoint: "127.0.0.1:4566"}, "endpoint"},
		"path":              {collector.Spec{Regions: []string{"us-east-1"}, Path: "x"}, "path"},
		"format":            {collector.Spec{Regions: []string{"us-east-1"}, Format: "csv"}, "format"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.spec.Name, tc.spec.Type = "tags", TaggingType
			err := TaggingFactory.Check(tc.spec)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *collector.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
}

func TestTaggingARN(t *testing.T) {
	tests := map[string]struct {
		arn                        string
		tags                       map[string]string
		account, region, typ, name string
		ok                         bool
	}{
		"ec2 volume":       {"arn:aws:ec2:eu-central-1:111111111111:volume/vol-0abc", nil, "111111111111", "eu-central-1", "ec2:volume", "vol-0abc", true},
		"lambda alias":     {"arn:aws:lambda:us-east-1:111111111111:function:api:prod", nil, "111111111111", "us-east-1", "lambda:function", "prod", true},
		"rds cluster":      {"arn:aws:rds:us-east-1:111111111111:cluster:orders", map[string]string{"Name": "Orders"}, "111111111111", "us-east-1", "rds:cluster", "Orders", true},
		"s3 bucket":        {"arn:aws:s3:::my-bucket", nil, "", "", "s3:bucket", "my-bucket", true},
		"sns topic":        {"arn:aws:sns:us-east-1:111111111111:alerts", nil, "111111111111", "us-east-1", "sns:topic", "alerts", true},
		"sqs queue":        {"arn:aws:sqs:us-east-1:111111111111:jobs", nil, "111111111111", "us-east-1", "sqs:queue", "jobs", true},
		"dynamodb table":   {"arn:aws:dynamodb:us-east-1:111111111111:table/Orders", nil, "111111111111", "us-east-1", "dynamodb:table", "Orders", true},
		"ecs service":      {"arn:aws:ecs:us-east-1:111111111111:service/prod/web", nil, "111111111111", "us-east-1", "ecs:service", "web", true},
		"china partition":  {"arn:aws-cn:ec2:cn-north-1:111111111111:instance/i-1", nil, "111111111111", "cn-north-1", "ec2:instance", "i-1", true},
		"other bare":       {"arn:aws:codecommit:us-east-1:111111111111:repo", nil, "111111111111", "us-east-1", "codecommit", "repo", true},
		"empty Name tag":   {"arn:aws:ec2:us-east-1:111111111111:instance/i-2", map[string]string{"Name": ""}, "111111111111", "us-east-1", "ec2:instance", "i-2", true},
		"not an ARN":       {"i-0abc", nil, "", "", "", "i-0abc", false},
		"too few sections": {"arn:aws:ec2:us-east-1", nil, "", "", "", "arn:aws:ec2:us-east-1", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var tags []types.Tag
			for k, v := range tc.tags {
				tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			r, ok := resourceOf(tc.arn, tags)
			got := []string{r.Provider, r.ID, r.AccountID, r.Region, r.Type, r.Name, strconv.FormatBool(ok)}
			want := []string{"AWS", tc.arn, tc.account, tc.region, tc.typ, tc.name, strconv.FormatBool(tc.ok)}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// TestTaggingHash: the content hash depends on the resources, not on the
// order the regions or pages returned them in.
func TestTaggingHash(t *testing.T) {
	mappings := func(ts []tagged) []types.ResourceTagMapping {
		var out []types.ResourceTagMapping
		for _, x := range ts {
			m := types.ResourceTagMapping{ResourceARN: aws.String(x.ARN)}
			keys := make([]string, 0, len(x.Tags))
			for k := range x.Tags {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				m.Tags = append(m.Tags, types.Tag{Key: aws.String(k), Value: aws.String(x.Tags[k])})
			}
			out = append(out, m)
		}
		return out
	}
	f := fleet()
	use1, euw1 := mappings(f["us-east-1"]), mappings(f["eu-west-1"])
	a := contentHash(mapResources([]string{"eu-west-1", "us-east-1"}, [][]types.ResourceTagMapping{euw1, use1}, quiet()))
	reversed := append([]types.ResourceTagMapping(nil), use1...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	b := contentHash(mapResources([]string{"eu-west-1", "us-east-1"}, [][]types.ResourceTagMapping{euw1, reversed}, quiet()))
	if a != b {
		t.Fatal("the hash depends on the listing order")
	}
	use1[0].Tags[0].Value = aws.String("changed")
	if c := contentHash(mapResources([]string{"eu-west-1", "us-east-1"}, [][]types.ResourceTagMapping{euw1, use1}, quiet())); c == a {
		t.Fatal("a changed tag value keeps the hash")
	}
}

// TestTaggingNoCredentials: without credentials nothing is requested and
// the error says where credentials come from.
func TestTaggingNoCredentials(t *testing.T) {
	taggingEnv(t, tagSecret)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	peer := startTagPeer(t, fleet())
	st := openStore(t)
	_, err := collectAt(t, context.Background(), st, day1, NewTagging(taggingSpec(peer.URL, "us-east-1")))
	if err == nil || !strings.Contains(err.Error(), "get AWS credentials") || !strings.Contains(err.Error(), "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("error %v", err)
	}
	if n := len(peer.requests()); n != 0 || st.Info().Resources != 0 {
		t.Fatalf("%d requests, %d resources", n, st.Info().Resources)
	}
}
