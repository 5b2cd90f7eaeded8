package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/costgate/costgate/store"
)

// taggingPeer serves GetResources of the Resource Groups Tagging API
// (AWS JSON 1.1) with resources per region, the region taken from the
// SigV4 credential scope; it rejects requests that are not signed for
// the tagging service with the test's access key.
func taggingPeer(tb testing.TB, keyID string, data map[string][]string) (url string, regions func() map[string]int) {
	tb.Helper()
	var mu sync.Mutex
	pages := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(status int, code, msg string) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
		}
		if r.Method != http.MethodPost || r.URL.Path != "/" ||
			r.Header.Get("X-Amz-Target") != "ResourceGroupsTaggingAPI_20170126.GetResources" ||
			r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			tb.Errorf("peer: %s %s target %q type %q", r.Method, r.URL.Path, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"))
			fail(400, "UnknownOperationException", "not GetResources")
			return
		}
		// AWS4-HMAC-SHA256 Credential=KEY/20261001/us-east-1/tagging/aws4_request, SignedHeaders=..., Signature=...
		auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=")
		cred, rest, _ := strings.Cut(auth, ",")
		scope := strings.Split(cred, "/")
		if !ok || len(scope) != 5 || scope[0] != keyID || scope[3] != "tagging" || scope[4] != "aws4_request" ||
			!strings.Contains(rest, "SignedHeaders=") || !strings.Contains(rest, "x-amz-target") || !strings.Contains(rest, "Signature=") {
			tb.Errorf("peer: not SigV4 for tagging: %q", r.Header.Get("Authorization"))
			fail(403, "InvalidSignatureException", "bad Authorization")
			return
		}
		region := scope[2]
		var in struct {
			PaginationToken  string
			ResourcesPerPage int
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &in); err != nil || in.ResourcesPerPage != 100 {
			tb.Errorf("peer: body %s: %v", body, err)
			fail(400, "InvalidParameterException", "bad body")
			return
		}
		offset := 0
		if in.PaginationToken != "" {
			offset, _ = strconv.Atoi(strings.TrimPrefix(in.PaginationToken, region+":"))
		}
		arns := data[region]
		end := min(offset+in.ResourcesPerPage, len(arns))
		type tag struct{ Key, Value string }
		type mapping struct {
			ResourceARN string
			Tags        []tag
		}
		var out struct {
			PaginationToken        string
			ResourceTagMappingList []mapping
		}
		for i, arn := range arns[offset:end] {
			out.ResourceTagMappingList = append(out.ResourceTagMappingList, mapping{arn, []tag{
				{"team", []string{"storefront", "data"}[(offset+i)%2]}, {"Name", fmt.Sprintf("%s-%d", region, offset+i)},
			}})
		}
		if end < len(arns) {
			out.PaginationToken = region + ":" + strconv.Itoa(end)
		}
		mu.Lock()
		pages[region]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(out)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range pages {
			out[k] = v
		}
		return out
	}
}

// TestCollectTagging runs `costgate collect` on an aws_tagging source
// the way a user configures it, credentials from the environment.
func TestCollectTagging(t *testing.T) {
	const keyID = "AKIDCOSTGATECLI0001"
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "costgate-cli-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	data := map[string][]string{}
	for i := range 130 {
		data["us-east-1"] = append(data["us-east-1"], fmt.Sprintf("arn:aws:ec2:us-east-1:123456789012:instance/i-%017d", i))
	}
	data["eu-west-1"] = []string{
		"arn:aws:s3:::acme-eu-logs",
		"arn:aws:rds:eu-west-1:123456789012:db:orders",
		"arn:aws:lambda:eu-west-1:123456789012:function:resize",
	}
	url, pages := taggingPeer(t, keyID, data)

	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	cfg := writeFile(t, dir, "costgate.yaml", "store: "+storeDir+"\nsources:\n  - {name: tags, type: aws_tagging, regions: [us-east-1, eu-west-1], endpoint: '"+url+"'}\n")
	code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{
		"tags (aws_tagging): 1 partitions loaded, 0 unchanged; 0 rows, 133 resources; read 2 files, 0 B, 133 rows",
		"store " + storeDir + ": generation 1, 1 partitions, 0 line items, 133 resources",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if got := pages(); got["us-east-1"] != 2 || got["eu-west-1"] != 1 {
		t.Errorf("pages per region %v, want us-east-1:2 eu-west-1:1", got)
	}
	if !strings.Contains(stderr, `msg="region listed"`) || !strings.Contains(stderr, "region=eu-west-1 resources=3 pages=1") {
		t.Errorf("no progress log per region:\n%s", stderr)
	}

	// Again: listed again, nothing written.
	code, stdout, _ = runCLI(t, "", "collect", "--config", cfg, "--log-level", "error")
	if code != 0 || !strings.Contains(stdout, "tags (aws_tagging): 0 partitions loaded, 1 unchanged") || !strings.Contains(stdout, "generation 1,") {
		t.Fatalf("exit %d: %s", code, stdout)
	}
	if got := pages(); got["us-east-1"] != 4 {
		t.Errorf("second run did not list again: %v", got)
	}

	st, err := store.Open(storeDir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := st.Resources(context.Background(), store.Eq("Source", "tags"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rs {
		got[r.ID] = strings.Join([]string{r.Provider, r.AccountID, r.Region, r.Type, r.Name, r.Tags["team"]}, "|")
	}
	if len(got) != 133 {
		t.Fatalf("%d resources in the store, want 133", len(got))
	}
	for id, want := range map[string]string{
		"arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000129": "AWS|123456789012|us-east-1|ec2:instance|us-east-1-129|data",
		"arn:aws:s3:::acme-eu-logs":                                       "AWS||eu-west-1|s3:bucket|eu-west-1-0|storefront",
		"arn:aws:rds:eu-west-1:123456789012:db:orders":                    "AWS|123456789012|eu-west-1|rds:db|eu-west-1-1|data",
		"arn:aws:lambda:eu-west-1:123456789012:function:resize":           "AWS|123456789012|eu-west-1|lambda:function|eu-west-1-2|storefront",
	} {
		if got[id] != want {
			t.Errorf("%s: got %q, want %q", id, got[id], want)
		}
	}
}

// TestCollectTaggingConfig: the aws_tagging keys are checked before
// anything runs.
func TestCollectTaggingConfig(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		config string
		want   string
	}{
		"no regions":   {"sources:\n  - {name: tags, type: aws_tagging}\n", "sources[0].regions: required"},
		"bad region":   {"sources:\n  - {name: tags, type: aws_tagging, regions: [us-east-1, eu-west]}\n", `sources[0].regions[1]: "eu-west" is not a region name`},
		"bad endpoint": {"sources:\n  - {name: tags, type: aws_tagging, region: us-east-1, endpoint: 'localhost:4566'}\n", "sources[0].endpoint:"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := writeFile(t, dir, strings.ReplaceAll(name, " ", "_")+".yaml", tc.config)
			code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg, "--store", filepath.Join(dir, "store"))
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want 2 and %q\nstdout: %s\nstderr: %s", code, tc.want, stdout, stderr)
			}
		})
	}
}
