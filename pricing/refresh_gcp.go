package pricing

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	cloudbilling "google.golang.org/api/cloudbilling/v1"

	"github.com/costgate/costgate"
)

// GoogleServices are the Cloud Billing Catalog services RefreshGoogle
// reads by default (Persistent Disk SKUs are Compute Engine's).
var GoogleServices = []string{"Compute Engine", "Cloud SQL", "Kubernetes Engine"}

// RefreshGoogle lists the SKUs of the services (by display name) through
// the Cloud Billing Catalog API and returns the on-demand and preemptible
// prices the Google estimators use, in the regions, as snapshot prices
// with source "gcp-billing-catalog".
func RefreshGoogle(ctx context.Context, svc *cloudbilling.APIService, services, regions []string) ([]Price, error) {
	if len(services) == 0 {
		services = GoogleServices
	}
	want := map[string]string{} // display name -> service name
	for _, s := range services {
		want[s] = ""
	}
	err := svc.Services.List().PageSize(200).Pages(ctx, func(r *cloudbilling.ListServicesResponse) error {
		for _, s := range r.Services {
			if _, ok := want[s.DisplayName]; ok {
				want[s.DisplayName] = s.Name
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("google billing catalog: list services: %w", err)
	}
	inRegion := map[string]bool{}
	for _, r := range regions {
		inRegion[r] = true
	}
	var out []Price
	for _, display := range services {
		name := want[display]
		if name == "" {
			return nil, fmt.Errorf("google billing catalog: no service named %q", display)
		}
		err := svc.Services.Skus.List(name).CurrencyCode("USD").PageSize(5000).Pages(ctx, func(r *cloudbilling.ListSkusResponse) error {
			for _, sku := range r.Skus {
				out = append(out, googleSkuPrices(display, sku, regions, inRegion)...)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("google billing catalog: list %s SKUs: %w", display, err)
		}
	}
	return out, nil
}

var (
	gceCoreRE   = regexp.MustCompile(`^(?:Spot Preemptible )?(?:Preemptible )?([A-Z][A-Z0-9]*) (Custom )?(?:Predefined )?Instance (Core|Ram) running in`)
	cloudSQLRE  = regexp.MustCompile(`^Cloud SQL for (?:MySQL|PostgreSQL|SQL Server): (Zonal|Regional) - (vCPU|RAM|Standard storage|Low cost storage|Micro instance|Small instance|Backups)`)
	gcePDLabels = map[string][2]string{
		"Storage PD Capacity":      {"disk", "pd-standard"},
		"SSD backed PD Capacity":   {"disk", "pd-ssd"},
		"Balanced PD Capacity":     {"disk", "pd-balanced"},
		"Extreme PD Capacity":      {"disk", "pd-extreme"},
		"Extreme PD IOPS":          {"disk-iops", "pd-extreme"},
		"SSD backed Local Storage": {"local-ssd", ""},
	}
)

// googleSkuAttrs classifies a SKU by its description and category into
// the attributes the Google estimators query, and its snapshot unit.
func googleSkuAttrs(service string, sku *cloudbilling.Sku) (map[string]string, string, bool) {
	usage := ""
	if sku.Category != nil {
		usage = sku.Category.UsageType
	}
	if usage != "OnDemand" && usage != "Preemptible" {
		return nil, "", false
	}
	d := sku.Description
	switch service {
	case "Compute Engine":
		if m := gceCoreRE.FindStringSubmatch(d); m != nil && !strings.Contains(d, "Sole Tenancy") {
			a := map[string]string{"machineFamily": strings.ToLower(m[1]), "usageType": usage}
			if m[2] != "" {
				a["custom"] = "true"
			}
			if m[3] == "Core" {
				a["resource"] = "cpu"
				return a, "vCPU-hour", true
			}
			a["resource"] = "ram"
			return a, "GB-hour", true
		}
		switch {
		case strings.HasPrefix(d, "Micro Instance with burstable CPU"):
			return map[string]string{"machineType": "f1-micro", "usageType": usage}, "hour", true
		case strings.HasPrefix(d, "Small Instance with 1 VCPU"):
			return map[string]string{"machineType": "g1-small", "usageType": usage}, "hour", true
		}
		for prefix, l := range gcePDLabels {
			if strings.HasPrefix(d, prefix) && usage == "OnDemand" {
				a := map[string]string{"resource": l[0]}
				if l[1] != "" {
					a["diskType"] = l[1]
				}
				unit := "GB-month"
				if l[0] == "disk-iops" {
					unit = "IOPS-month"
				}
				return a, unit, true
			}
		}
	case "Kubernetes Engine":
		if (strings.HasPrefix(d, "Regional Kubernetes Clusters") || strings.HasPrefix(d, "Zonal Kubernetes Clusters")) && usage == "OnDemand" {
			return map[string]string{"resource": "cluster-management"}, "hour", true
		}
	case "Cloud SQL":
		if m := cloudSQLRE.FindStringSubmatch(d); m != nil && usage == "OnDemand" {
			av := strings.ToUpper(m[1])
			switch m[2] {
			case "vCPU":
				return map[string]string{"resource": "cpu", "availabilityType": av}, "vCPU-hour", true
			case "RAM":
				return map[string]string{"resource": "ram", "availabilityType": av}, "GB-hour", true
			case "Standard storage":
				return map[string]string{"resource": "storage", "diskType": "PD_SSD", "availabilityType": av}, "GB-month", true
			case "Low cost storage":
				return map[string]string{"resource": "storage", "diskType": "PD_HDD", "availabilityType": av}, "GB-month", true
			case "Micro instance":
				return map[string]string{"tier": "db-f1-micro", "availabilityType": av}, "hour", true
			case "Small instance":
				return map[string]string{"tier": "db-g1-small", "availabilityType": av}, "hour", true
			case "Backups":
				return map[string]string{"resource": "backup"}, "GB-month", true
			}
		}
	}
	return nil, "", false
}

func googleSkuPrices(service string, sku *cloudbilling.Sku, regions []string, inRegion map[string]bool) []Price {
	attrs, unit, ok := googleSkuAttrs(service, sku)
	if !ok || len(sku.PricingInfo) == 0 || sku.PricingInfo[0].PricingExpression == nil {
		return nil
	}
	expr := sku.PricingInfo[0].PricingExpression
	var where []string
	for _, r := range sku.ServiceRegions {
		if inRegion[r] {
			where = append(where, r)
		}
		if r == "global" {
			where = append(where, regions...)
		}
	}
	type tier struct {
		price costgate.Rate
		start float64
	}
	var paid []tier
	for i, t := range expr.TieredRates {
		if t.UnitPrice == nil {
			continue
		}
		price := costgate.RateOf(t.UnitPrice.Units, 1).Add(costgate.RateOf(t.UnitPrice.Nanos, costgate.NanosPerUnit))
		if i == 0 && len(expr.TieredRates) > 1 && price.IsZero() {
			continue // a free allowance; the estimators price from the first paid unit
		}
		paid = append(paid, tier{price, t.StartUsageAmount})
	}
	var out []Price
	for _, t := range paid {
		var start *costgate.Rate
		if len(paid) > 1 && t.start > 0 {
			if s, err := costgate.ParseRate(strconv.FormatFloat(t.start, 'f', -1, 64)); err == nil {
				start = &s
			}
		}
		for _, r := range where {
			out = append(out, Price{Provider: "google", Service: service, Region: r, Attributes: attrs, Unit: unit,
				Price: t.price, Currency: "USD", TierStart: start, SKU: sku.SkuId,
				EffectiveDate: shortDate(sku.PricingInfo[0].EffectiveTime),
				Source:        "gcp-billing-catalog: " + sku.Description + " (" + expr.UsageUnitDescription + ")"})
		}
	}
	return out
}
