package pricing

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

// SnapshotFormat is the format tag of a snapshot file.
const SnapshotFormat = "costgate.prices/v1"

// Snapshot is a price catalog file. The format (JSON, one object):
//
//	{
//	  "format": "costgate.prices/v1",
//	  "id": "costgate-default-2026-11",      // names the catalog version
//	  "created": "2026-11-20T00:00:00Z",
//	  "description": "...",
//	  "currency": "USD",                     // default for every price
//	  "sources": {                           // provenance keys used by prices[].source
//	    "aws-price-list": "AWS Price List Query API, GetProducts, ..."
//	  },
//	  "prices": [
//	    {
//	      "provider": "aws",                 // aws | google | azure
//	      "service": "AmazonEC2",            // AWS service code, Google service, Azure service name
//	      "region": "us-east-1",             // provider region code; "global" where prices are not regional
//	      "attributes": {"instanceType": "m5.large", "operatingSystem": "Linux", "tenancy": "Shared"},
//	      "unit": "hour",                    // see Units
//	      "price": "0.096",                  // exact decimal string, per one unit
//	      "currency": "USD",                 // optional, default the snapshot's
//	      "tier_start": "0",                 // optional: first unit of a usage tier
//	      "sku": "...",                      // optional provider SKU / rate code
//	      "effective_date": "2024-05-01",    // optional
//	      "source": "aws-price-list"         // required: a sources key, optionally "key: detail"
//	    }
//	  ]
//	}
//
// A snapshot may be split over several files with the same id (a
// directory of *.json); they are merged in name order.
//
// Every decision records the catalog's ID (the id plus a digest of the
// files), so a decision can be replayed against the same prices.
type Snapshot struct {
	Format      string            `json:"format"`
	ID          string            `json:"id"`
	Created     time.Time         `json:"created"`
	Description string            `json:"description,omitempty"`
	Currency    string            `json:"currency"`
	Sources     map[string]string `json:"sources"`
	Prices      []Price           `json:"prices"`
}

// Price is one unit price of a snapshot.
type Price struct {
	Provider      string            `json:"provider"`
	Service       string            `json:"service"`
	Region        string            `json:"region"`
	Attributes    map[string]string `json:"attributes"`
	Unit          string            `json:"unit"`
	Price         costgate.Rate     `json:"price"`
	Currency      string            `json:"currency,omitempty"`
	TierStart     *costgate.Rate    `json:"tier_start,omitempty"`
	SKU           string            `json:"sku,omitempty"`
	EffectiveDate string            `json:"effective_date,omitempty"`
	Source        string            `json:"source"`

	id string // PriceID, set when loaded into a catalog
}

// Units are the canonical price units of a snapshot. Refreshers convert
// the providers' units to these ("Hrs" and "h" to hour, "GB-Mo" and
// "GiBy.mo" to GB-month, ...).
var Units = []string{
	"hour", "GB-month", "IOPS-month", "MiBps-month", "request", "GB-second",
	"GB", "vCPU-hour", "GB-hour", "LCU-hour", "RCU-hour", "WCU-hour", "month",
	"scale-unit-hour", "10K-operations",
}

// digestID is the snapshot's identity for decision records: its id and the
// first 12 hex digits of the SHA-256 of its files' bytes.
func (s *Snapshot) digestID(raw [][]byte) string {
	h := sha256.New()
	for _, b := range raw {
		h.Write(b)
	}
	return s.ID + "@sha256:" + hex.EncodeToString(h.Sum(nil))[:12]
}

// ErrSnapshot marks a snapshot file that is not valid.
var ErrSnapshot = errors.New("invalid price snapshot")

// decodeSnapshot strictly decodes and validates one snapshot file.
func decodeSnapshot(data []byte, name string) (*Snapshot, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrSnapshot, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: %w: unexpected data after the snapshot object", name, ErrSnapshot)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrSnapshot, err)
	}
	return &s, nil
}

func (s *Snapshot) validate() error {
	if s.Format != SnapshotFormat {
		return fmt.Errorf("format: want %q, got %q", SnapshotFormat, s.Format)
	}
	if strings.TrimSpace(s.ID) == "" {
		return errors.New("id: required (a name for this catalog version)")
	}
	if s.Currency == "" {
		return errors.New("currency: required (ISO 4217 code, e.g. USD)")
	}
	units := map[string]bool{}
	for _, u := range Units {
		units[u] = true
	}
	for i, p := range s.Prices {
		field := func(f string) string { return fmt.Sprintf("prices[%d].%s", i, f) }
		switch {
		case p.Provider == "":
			return fmt.Errorf("%s: required (aws, google or azure)", field("provider"))
		case p.Service == "":
			return fmt.Errorf("%s: required", field("service"))
		case p.Region == "":
			return fmt.Errorf("%s: required (a region code, or \"global\")", field("region"))
		case !units[p.Unit]:
			return fmt.Errorf("%s: %q is not a known unit (use one of %s)", field("unit"), p.Unit, strings.Join(Units, ", "))
		case p.Price.Sign() < 0:
			return fmt.Errorf("%s: negative price %s", field("price"), p.Price)
		case p.Source == "":
			return fmt.Errorf("%s: required (where the price came from)", field("source"))
		}
		key, _, _ := strings.Cut(p.Source, ":")
		if _, ok := s.Sources[key]; !ok {
			return fmt.Errorf("%s: %q is not a key of sources", field("source"), key)
		}
	}
	return nil
}

//go:embed snapshot/*.json
var embedded embed.FS

// Default returns the catalog embedded in the binary: the list prices
// the demo, the tests and the Infracost comparison need (see
// snapshot/README.md for where each came from). It is loaded once and
// shared; a Catalog is safe for concurrent use.
func Default() *Catalog {
	defaultOnce.Do(func() {
		c, err := loadFS(embedded, "snapshot", "embedded snapshot")
		if err != nil {
			panic(err) // the embedded files are checked by the tests
		}
		defaultCatalog = c
	})
	return defaultCatalog
}

var (
	defaultOnce    sync.Once
	defaultCatalog *Catalog
)

// Load reads a snapshot file, or a directory of snapshot files with the
// same id.
func Load(path string) (*Catalog, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load price snapshot %s: %w", path, err)
	}
	if fi.IsDir() {
		return loadFS(os.DirFS(path), ".", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load price snapshot %s: %w", path, err)
	}
	return Parse(data, path)
}

// Parse builds a catalog from one snapshot file's bytes.
func Parse(data []byte, name string) (*Catalog, error) {
	s, err := decodeSnapshot(data, name)
	if err != nil {
		return nil, err
	}
	return newCatalog(s, s.digestID([][]byte{data})), nil
}

func loadFS(fsys fs.FS, dir, name string) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load price snapshot %s: %w", name, err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("load price snapshot %s: %w: no *.json files", name, ErrSnapshot)
	}
	var merged *Snapshot
	var raw [][]byte
	for _, f := range files {
		data, err := fs.ReadFile(fsys, filepath.ToSlash(filepath.Join(dir, f)))
		if err != nil {
			return nil, fmt.Errorf("load price snapshot %s: %w", name, err)
		}
		s, err := decodeSnapshot(data, filepath.Join(name, f))
		if err != nil {
			return nil, err
		}
		raw = append(raw, data)
		if merged == nil {
			merged = s
			continue
		}
		if s.ID != merged.ID || s.Currency != merged.Currency {
			return nil, fmt.Errorf("%s: %w: id %q / currency %s differ from %s's %q / %s",
				filepath.Join(name, f), ErrSnapshot, s.ID, s.Currency, files[0], merged.ID, merged.Currency)
		}
		for k, v := range s.Sources {
			if merged.Sources == nil {
				merged.Sources = map[string]string{}
			}
			merged.Sources[k] = v
		}
		merged.Prices = append(merged.Prices, s.Prices...)
		if s.Created.After(merged.Created) {
			merged.Created = s.Created
		}
	}
	return newCatalog(merged, merged.digestID(raw)), nil
}

// Write writes s as indented JSON, prices in a stable order.
func (s *Snapshot) Write(w io.Writer) error {
	s.Format = SnapshotFormat
	sort.SliceStable(s.Prices, func(i, j int) bool { return s.Prices[i].sortKey() < s.Prices[j].sortKey() })
	if err := s.validate(); err != nil {
		return fmt.Errorf("write price snapshot: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write price snapshot: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

func (p Price) sortKey() string {
	var b strings.Builder
	b.WriteString(p.Provider + "|" + p.Service + "|" + p.Region + "|")
	keys := make([]string, 0, len(p.Attributes))
	for k := range p.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + p.Attributes[k] + ";")
	}
	b.WriteString("|" + p.Unit)
	if p.TierStart != nil {
		b.WriteString("|" + fmt.Sprintf("%030s", p.TierStart.Format(9)))
	}
	return b.String()
}
