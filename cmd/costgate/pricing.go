package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/spf13/cobra"
	cloudbilling "google.golang.org/api/cloudbilling/v1"
	"google.golang.org/api/option"

	"github.com/costgate/costgate/pricing"
)

func newPricingCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pricing",
		Short: "Refresh and inspect the price catalog",
		Long: `The price catalog is a snapshot of public list unit prices keyed by provider,
service, region and product attributes. costgate embeds a small one; refresh
builds a current one from the providers' price APIs, to self-host and name in
the config (pricing.snapshot).`,
	}
	cmd.AddCommand(newPricingRefreshCmd(a), newPricingShowCmd(a))
	return cmd
}

// pricingRefreshParams are the flags of `costgate pricing refresh`.
type pricingRefreshParams struct {
	out            string
	id             string
	providers      []string
	services       []string
	regions        []string
	awsEndpoint    string
	googleEndpoint string
}

var (
	awsRegionRE    = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$`)
	googleRegionRE = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
)

func newPricingRefreshCmd(a *app) *cobra.Command {
	p := &pricingRefreshParams{}
	cmd := &cobra.Command{
		Use:   "refresh --out FILE",
		Short: "Build a price snapshot from the AWS and Google Cloud price APIs",
		Long: `refresh reads on-demand list prices with the providers' own clients:

  aws     AWS Price List Query API (GetProducts, paginated, filtered by service,
          region and product family), credentials from the usual AWS chain
  google  Cloud Billing Catalog API (services/skus) for Compute Engine (with
          Persistent Disk), Cloud SQL and Kubernetes Engine; an API key from
          GOOGLE_API_KEY, else Application Default Credentials

--services takes AWS service codes (AmazonEC2, ...) and Google service names
("Compute Engine", ...); --regions takes AWS and Google region codes. Each
provider gets the ones of its own form, or its defaults.`,
		Example: `  costgate pricing refresh --out prices.json --regions us-east-1,eu-west-1,us-central1
  costgate pricing refresh --provider aws --services AmazonEC2,AmazonRDS --regions us-east-1 --out ec2-rds.json`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if p.out == "" {
				return usageErr("--out is required")
			}
			for _, pr := range p.providers {
				if pr != "aws" && pr != "google" {
					return usageErr("--provider %q: use aws or google", pr)
				}
			}
			for _, r := range p.regions {
				if !awsRegionRE.MatchString(r) && !googleRegionRE.MatchString(r) {
					return usageErr("--regions %q: not an AWS (us-east-1) or Google (us-central1) region code", r)
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPricingRefresh(cmd.Context(), a, p)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&p.out, "out", "o", "", "snapshot file to write (required)")
	f.StringVar(&p.id, "id", "", "snapshot id (default costgate-refresh-YYYY-MM-DD)")
	f.StringSliceVar(&p.providers, "provider", []string{"aws", "google"}, "providers to refresh: aws, google")
	f.StringSliceVar(&p.services, "services", nil, "services to refresh (default: the ones costgate prices)")
	f.StringSliceVar(&p.regions, "regions", nil, "regions (default us-east-1 for AWS, us-central1 for Google)")
	f.StringVar(&p.awsEndpoint, "aws-endpoint", "", "Price List API endpoint URL (default: AWS's, us-east-1)")
	f.StringVar(&p.googleEndpoint, "google-endpoint", "", "Cloud Billing API endpoint URL (default: Google's)")
	return cmd
}

func runPricingRefresh(ctx context.Context, a *app, p *pricingRefreshParams) error {
	var awsRegions, gRegions, awsSvcs, gSvcs []string
	for _, r := range p.regions {
		if awsRegionRE.MatchString(r) {
			awsRegions = append(awsRegions, r)
		} else {
			gRegions = append(gRegions, r)
		}
	}
	for _, s := range p.services {
		if strings.HasPrefix(s, "Amazon") || strings.HasPrefix(s, "AWS") {
			awsSvcs = append(awsSvcs, s)
		} else {
			gSvcs = append(gSvcs, s)
		}
	}
	if len(awsRegions) == 0 {
		awsRegions = []string{"us-east-1"}
	}
	if len(gRegions) == 0 {
		gRegions = []string{"us-central1"}
	}
	now := time.Now().UTC()
	snap := &pricing.Snapshot{
		ID: orDefault(p.id, "costgate-refresh-"+now.Format(time.DateOnly)), Created: now.Truncate(time.Second), Currency: "USD",
		Description: "Refreshed by `costgate pricing refresh` from the providers' price APIs.",
		Sources:     map[string]string{},
	}
	for _, pr := range p.providers {
		switch pr {
		case "aws":
			if len(p.services) > 0 && len(awsSvcs) == 0 {
				continue
			}
			cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
			if err != nil {
				return fmt.Errorf("aws config: %w", err)
			}
			client := awspricing.NewFromConfig(cfg, func(o *awspricing.Options) {
				if p.awsEndpoint != "" {
					o.BaseEndpoint = &p.awsEndpoint
				}
			})
			ps, err := pricing.RefreshAWS(ctx, client, awsSvcs, awsRegions)
			if err != nil {
				return err
			}
			snap.Sources["aws-price-list"] = "AWS Price List Query API (pricing GetProducts, on-demand terms), read " + now.Format(time.RFC3339)
			snap.Prices = append(snap.Prices, ps...)
			fmt.Fprintf(a.stderr, "aws: %d prices (%s in %s)\n", len(ps), strings.Join(orAll(awsSvcs, pricing.AWSServices), ", "), strings.Join(awsRegions, ", "))
		case "google":
			if len(p.services) > 0 && len(gSvcs) == 0 {
				continue
			}
			var opts []option.ClientOption
			if key := os.Getenv("GOOGLE_API_KEY"); key != "" {
				opts = append(opts, option.WithAPIKey(key))
			} else if p.googleEndpoint != "" {
				opts = append(opts, option.WithoutAuthentication())
			}
			if p.googleEndpoint != "" {
				opts = append(opts, option.WithEndpoint(p.googleEndpoint))
			}
			svc, err := cloudbilling.NewService(ctx, opts...)
			if err != nil {
				return fmt.Errorf("google billing client: %w", err)
			}
			ps, err := pricing.RefreshGoogle(ctx, svc, gSvcs, gRegions)
			if err != nil {
				return err
			}
			snap.Sources["gcp-billing-catalog"] = "Google Cloud Billing Catalog API (services.skus.list, USD), read " + now.Format(time.RFC3339)
			snap.Prices = append(snap.Prices, ps...)
			fmt.Fprintf(a.stderr, "google: %d prices (%s in %s)\n", len(ps), strings.Join(orAll(gSvcs, pricing.GoogleServices), ", "), strings.Join(gRegions, ", "))
		}
	}
	var buf bytes.Buffer
	if err := snap.Write(&buf); err != nil {
		return err
	}
	if err := writeFileAtomic(p.out, buf.Bytes()); err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("--out: %w", err)}
	}
	fmt.Fprintf(a.stdout, "wrote %s: %d prices, id %s\n", p.out, len(snap.Prices), snap.ID)
	return nil
}

func orAll(list, all []string) []string {
	if len(list) == 0 {
		return all
	}
	return list
}

// pricingShowParams are the flags of `costgate pricing show`.
type pricingShowParams struct {
	snapshot string
	provider string
	service  string
	region   string
	format   string
}

func newPricingShowCmd(a *app) *cobra.Command {
	p := &pricingShowParams{}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the price catalog: its identity, coverage and prices",
		Long: `show prints the snapshot in use (--snapshot, else pricing.snapshot, else the
embedded one): its id, the number of prices per provider, service and region
and, when filtered by --provider, --service or --region, the prices with
where each came from.`,
		Example: `  costgate pricing show
  costgate pricing show --service AmazonEC2 --region us-east-1
  costgate pricing show --format json --snapshot prices.json`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if p.format != "table" && p.format != "json" {
				return usageErr("--format %q: use table or json", p.format)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPricingShow(a, p)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.snapshot, "snapshot", "", "price snapshot file or directory (default: pricing.snapshot, else the embedded one)")
	f.StringVar(&p.provider, "provider", "", "only this provider (aws, google, azure)")
	f.StringVar(&p.service, "service", "", "only this service (AmazonEC2, Compute Engine, ...)")
	f.StringVar(&p.region, "region", "", "only this region")
	f.StringVarP(&p.format, "format", "f", "table", "output format: table, json")
	return cmd
}

func runPricingShow(a *app, p *pricingShowParams) error {
	cfg, err := loadConfig(a.configPath, nil)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	cat := pricing.Default()
	if snap := orDefault(p.snapshot, cfg.Pricing.Snapshot); snap != "" {
		if cat, err = pricing.Load(snap); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	}
	s := cat.Snapshot()
	var sel []pricing.Price
	for _, pr := range s.Prices {
		if (p.provider == "" || pr.Provider == p.provider) && (p.service == "" || strings.EqualFold(pr.Service, p.service)) && (p.region == "" || pr.Region == p.region) {
			sel = append(sel, pr)
		}
	}
	if p.format == "json" {
		out := *s
		out.Prices = sel
		doc := struct {
			CatalogID string `json:"catalog_id"`
			*pricing.Snapshot
		}{cat.ID(), &out}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	return writePricingTable(a.stdout, cat, sel, p.provider != "" || p.service != "" || p.region != "")
}

func writePricingTable(w io.Writer, cat *pricing.Catalog, sel []pricing.Price, list bool) error {
	s := cat.Snapshot()
	fmt.Fprintf(w, "catalog %s (%s, created %s): %d prices\n\n", cat.ID(), s.Currency, s.Created.Format(time.DateOnly), cat.Len())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !list {
		counts := map[string]int{}
		for _, p := range sel {
			counts[p.Provider+"\t"+p.Service+"\t"+p.Region]++
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(tw, "PROVIDER\tSERVICE\tREGION\tPRICES")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%d\n", k, counts[k])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nSources:")
		keys = keys[:0]
		for k := range s.Sources {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %s\n", k, s.Sources[k])
		}
		return nil
	}
	fmt.Fprintln(tw, "PROVIDER\tSERVICE\tREGION\tATTRIBUTES\tUNIT\tPRICE\tSOURCE")
	for _, p := range sel {
		keys := make([]string, 0, len(p.Attributes))
		for k := range p.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+"="+p.Attributes[k])
		}
		unit := p.Unit
		if p.TierStart != nil {
			unit += " (from " + p.TierStart.String() + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Provider, p.Service, p.Region, strings.Join(parts, " "), unit, p.Price, p.Source)
	}
	return tw.Flush()
}
