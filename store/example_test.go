package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "costgate-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	st, err := store.Open(dir, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	oct := costgate.Month{Year: 2026, Month: time.October}
	item := func(day int, service, team, cost string) costgate.LineItem {
		start := time.Date(2026, 10, day, 0, 0, 0, 0, time.UTC)
		li := costgate.LineItem{
			ChargePeriodStart: start, ChargePeriodEnd: start.AddDate(0, 0, 1),
			BillingPeriodStart: oct.Start(), BillingPeriodEnd: oct.End(),
			BillingAccountID: "111122223333", ProviderName: "AWS", ServiceName: service,
			ChargeCategory: "Usage", BillingCurrency: "USD",
			EffectiveCost: costgate.MustMoney(cost), BilledCost: costgate.MustMoney(cost),
		}
		if team != "" {
			li.Tags = map[string]string{"team": team}
		}
		return li
	}
	rows := []costgate.LineItem{
		item(1, "Amazon EC2", "checkout", "10.000000001"),
		item(1, "Amazon S3", "checkout", "0.25"),
		item(2, "Amazon EC2", "search", "7.5"),
		item(3, "Amazon RDS", "", "3.1"),
	}
	p := costgate.Partition{Source: "aws-cur", BillingAccountID: "111122223333", BillingPeriod: oct}
	ctx := context.Background()
	if _, err := st.Replace(ctx, p, rows, "export-1", "sha256:abc"); err != nil {
		log.Fatal(err)
	}
	// The same export again changes nothing.
	changed, err := st.Replace(ctx, p, rows, "export-1", "sha256:abc")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("changed:", changed)

	res, err := st.Query(ctx, store.Query{
		Filters: []store.Filter{store.Eq("month", "2026-10")},
		GroupBy: []string{"tag:team"},
		OrderBy: []store.Order{{By: "EffectiveCost", Desc: true}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Rows {
		team := r.Keys[0]
		if team == "" {
			team = "(untagged)"
		}
		fmt.Printf("%-10s %s\n", team, r.Values[0])
	}
	// Output:
	// changed: false
	// checkout   10.250000001
	// search     7.5
	// (untagged) 3.1
}
