package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
)

// PricingConfig is the pricing: section, used by `costgate estimate`
// (and the gate's cost estimate).
//
//	pricing:
//	  snapshot: prices.json     # price snapshot file or directory; default: the embedded one
//	  usage_file: usage.yml     # usage for usage-based resources (Infracost format)
//	  currency: USD             # must be the snapshot's currency
//	  calibrate: true           # scale list prices by the store's effective/list ratios (default true)
type PricingConfig struct {
	Snapshot  string `json:"snapshot,omitempty"`
	UsageFile string `json:"usage_file,omitempty"`
	Currency  string `json:"currency,omitempty"`
	Calibrate *bool  `json:"calibrate,omitempty"`
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// validate names the first bad pricing.* field.
func (p PricingConfig) validate(file string) error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{File: file, Field: "pricing." + field, Msg: fmt.Sprintf(format, args...)}
	}
	for field, path := range map[string]string{"snapshot": p.Snapshot, "usage_file": p.UsageFile} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return bad(field, "%s does not exist", path)
			}
			return bad(field, "%v", err)
		}
	}
	if p.Currency != "" && !currencyRE.MatchString(p.Currency) {
		return bad("currency", "%q is not an ISO 4217 code such as USD", p.Currency)
	}
	return nil
}

// calibrate reports whether list prices are to be calibrated to the bill.
func (p PricingConfig) calibrate() bool { return p.Calibrate == nil || *p.Calibrate }
