package tfstate

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/internal/s3test"
	"github.com/costgate/costgate/store"
)

var demo = filepath.Join("..", "..", "testdata", "tfstate", "demo.tfstate")

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func run(tb testing.TB, st *store.Store, now time.Time, src collector.Source) (collector.Summary, error) {
	tb.Helper()
	sums, err := collector.Run(context.Background(), collectstore.New(st), []collector.Source{src},
		collector.Options{Logger: quiet(), Now: func() time.Time { return now }})
	return sums[0], err
}

func inventory(tb testing.TB, st *store.Store) map[string]costgate.Resource {
	tb.Helper()
	rs, err := st.Resources(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]costgate.Resource{}
	for _, r := range rs {
		out[r.ID] = r
	}
	return out
}

func TestInventory(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	day1 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	sum, err := run(t, st, day1, New(collector.Spec{Name: "state", Type: Type, Path: demo}))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resources != 6 {
		t.Fatalf("%s", sum.String())
	}
	inv := inventory(t, st)
	tests := map[string]struct {
		id                             string
		provider, account, region, typ string
		name                           string
		tags                           string
	}{
		"instance, count, tags_all": {"arn:aws:ec2:eu-west-1:111111111111:instance/i-0a1b2c3d4e5f60001", "AWS", "111111111111", "eu-west-1", "aws_instance", "aws_instance.web[0]", `{"Name":"web-0","cost-center":"cc-100","env":"prod","team":"storefront"}`},
		"bucket, module, for_each":  {"arn:aws:s3:::acme-lake-raw", "AWS", "", "eu-west-1", "aws_s3_bucket", `module.data.aws_s3_bucket.lake["raw"]`, `{"cost-center":"cc-200","env":"prod","team":"data"}`},
		"rds":                       {"arn:aws:rds:eu-west-1:111111111111:db:orders", "AWS", "111111111111", "eu-west-1", "aws_db_instance", "aws_db_instance.orders", `{"env":"prod","team":"payments"}`},
		"google, effective labels":  {"projects/acme-analytics/zones/europe-west1-b/instances/batch-1", "Google Cloud", "acme-analytics", "europe-west1", "google_compute_instance", "google_compute_instance.batch", `{"env":"prod","team":"data"}`},
		"azure, subscription":       {"/subscriptions/0f0e0d0c-0000-4000-8000-000000000001/resourceGroups/ops/providers/Microsoft.Storage/storageAccounts/acmelogs", "Microsoft", "0f0e0d0c-0000-4000-8000-000000000001", "westeurope", "azurerm_storage_account", "azurerm_storage_account.logs", `{"team":"platform"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := inv[tc.id]
			if !ok {
				t.Fatalf("no resource %s", tc.id)
			}
			tags, _ := json.Marshal(r.Tags)
			got := []string{r.Provider, r.AccountID, r.Region, r.Type, r.Name, string(tags), r.Source}
			want := []string{tc.provider, tc.account, tc.region, tc.typ, tc.name, tc.tags, "state"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			if !r.FirstSeen.Equal(day1) || !r.LastSeen.Equal(day1) {
				t.Errorf("first/last seen %v %v", r.FirstSeen, r.LastSeen)
			}
		})
	}
	for _, r := range inv {
		if r.Type == "random_id" || r.Type == "aws_caller_identity" {
			t.Errorf("%s is not inventory", r.Type)
		}
	}

	// The same day again: nothing written.
	gen := st.Info().Generation
	if _, err := run(t, st, day1.Add(time.Hour), New(collector.Spec{Name: "state", Type: Type, Path: demo})); err != nil {
		t.Fatal(err)
	}
	if st.Info().Generation != gen {
		t.Fatal("a same-day run rewrote the inventory")
	}

	// Ten days later one instance is gone: the others keep FirstSeen and
	// get a new LastSeen; the gone one keeps its LastSeen.
	var doc map[string]any
	json.Unmarshal(mustRead(t, demo), &doc)
	res := doc["resources"].([]any)[1].(map[string]any)
	res["instances"] = res["instances"].([]any)[:1]
	doc["serial"] = 43
	changed := filepath.Join(t.TempDir(), "terraform.tfstate")
	b, _ := json.Marshal(doc)
	os.WriteFile(changed, b, 0o644)
	day11 := day1.AddDate(0, 0, 10)
	if _, err := run(t, st, day11, New(collector.Spec{Name: "state", Type: Type, Path: changed})); err != nil {
		t.Fatal(err)
	}
	inv = inventory(t, st)
	kept := inv["arn:aws:ec2:eu-west-1:111111111111:instance/i-0a1b2c3d4e5f60001"]
	gone := inv["arn:aws:ec2:eu-west-1:111111111111:instance/i-0a1b2c3d4e5f60002"]
	if !kept.FirstSeen.Equal(day1) || !kept.LastSeen.Equal(day11) || !gone.LastSeen.Equal(day1) {
		t.Fatalf("kept %v..%v, gone last seen %v", kept.FirstSeen, kept.LastSeen, gone.LastSeen)
	}

	// After the retention the gone one is dropped.
	if _, err := run(t, st, day1.Add(collector.InventoryRetention+48*time.Hour), New(collector.Spec{Name: "state", Type: Type, Path: changed})); err != nil {
		t.Fatal(err)
	}
	if _, ok := inventory(t, st)[gone.ID]; ok {
		t.Fatal("a resource gone for longer than the retention is still there")
	}
}

func mustRead(tb testing.TB, p string) []byte {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestNoSecrets: attributes other than identity and tags are not kept.
func TestNoSecrets(t *testing.T) {
	st, _ := Parse("demo", mustRead(t, demo))
	b, _ := json.Marshal(st.resources())
	for _, secret := range []string{"hunter2", "c2VjcmV0IHN0dWZm"} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("inventory holds %q", secret)
		}
	}
}

func TestBadState(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		content string
		want    string
	}{
		"syntax":    {"{\n  \"version\": 4,\n  \"resources\": [,]\n}", "bad.tfstate:3:17: invalid character ','"},
		"version 3": {`{"version": 3, "modules": []}`, "version 3: not a Terraform state (format version 4) (written by Terraform before 0.12"},
		"type":      {`{"version": 4, "serial": "x"}`, "bad.tfstate:1:28: serial: want int64, got string"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.tfstate")
			os.WriteFile(p, []byte(tc.content), 0o644)
			st, err := store.Open(t.TempDir(), store.Options{NoSync: true, Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			sum, err := run(t, st, time.Now(), New(collector.Spec{Name: "s", Type: Type, Path: p}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if sum.Resources != 0 {
				t.Fatalf("%s", sum.String())
			}
		})
	}
}

// TestS3Backend reads state files from an S3 bucket the way the S3
// backend stores them (one key per workspace).
func TestS3Backend(t *testing.T) {
	srv := s3test.Start(t, "tf-states")
	s3test.Env(t)
	srv.Put(t, "tf-states", "prod/network/terraform.tfstate", mustRead(t, demo))
	srv.Put(t, "tf-states", "env:/staging/prod/network/terraform.tfstate", []byte(`{"version":4,"serial":1,"lineage":"x","resources":[]}`))
	srv.Put(t, "tf-states", "prod/network/terraform.tfstate.backup", []byte("not read"))
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum, err := run(t, st, time.Now(), New(collector.Spec{Name: "states", Type: Type, Path: "s3://tf-states/", Endpoint: srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 2 || sum.Resources != 6 {
		t.Fatalf("%s", sum.String())
	}
}
