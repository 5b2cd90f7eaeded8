// Command bqdemo serves a generated Cloud Billing export (the detailed
// usage cost table) over the BigQuery REST API on 127.0.0.1, for make
// demo: `costgate collect` reads it with the real BigQuery client, as it
// would read the export in Google Cloud. It prints its URL on the first
// line of stdout and serves until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/costgate/costgate/internal/bqtest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	seed := flag.Uint64("seed", 1, "random seed of the generated rows")
	months := flag.Int("months", 3, "invoice months up to the current one")
	project := flag.String("project", "acme-billing", "project of the export dataset")
	dataset := flag.String("dataset", "billing_export", "dataset")
	table := flag.String("table", "gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9", "export table")
	flag.Parse()
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1-*months, 0)
	last := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	rows := bqtest.BillingRows(*seed, []string{"01A2B3-C4D5E6-F7A8B9"}, first, last, true, now)
	s := bqtest.New()
	s.PageSize = 1000
	s.Put(*project, *dataset, *table, &bqtest.Table{Schema: bqtest.BillingSchema(true), Rows: rows, PartitionTime: bqtest.PartitionByExportDay})
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", l.Addr())
	fmt.Fprintf(os.Stderr, "bqdemo: %d export rows of %s.%s.%s\n", len(rows), *project, *dataset, *table)
	log.Fatal(http.Serve(l, s.Handler()))
}
