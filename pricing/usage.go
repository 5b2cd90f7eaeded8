package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/costgate/costgate"
)

// UsageFile gives usage for usage-based resources (requests, data
// processed, storage used), in Infracost's usage-file format:
//
//	version: 0.1
//	resource_type_default_usage:      # applies to every resource of a type
//	  aws_cloudwatch_log_group:
//	    monthly_data_ingested_gb: 1000
//	resource_usage:
//	  aws_lambda_function.hello_world:  # one resource
//	    monthly_requests: 100000000
//	    request_duration_ms: 250
//	  aws_nat_gateway.egress[*]:        # every instance of a counted resource
//	    monthly_data_processed_gb: 10
//	  aws_s3_bucket.logs:
//	    standard:                       # nested keys are read as "standard.storage_gb"
//	      storage_gb: 500
//
// Values merge key by key: the type default, then the [*] entry, then the
// resource's own entry. The keys each type reads are listed in
// pricing/usage_keys.md.
type UsageFile struct {
	Name         string
	Version      string
	TypeDefaults map[string]map[string]any
	Resources    map[string]map[string]any
}

// LoadUsageFile reads a usage file.
func LoadUsageFile(path string) (*UsageFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read usage file %s: %w", path, err)
	}
	return ParseUsageFile(b, path)
}

// ParseUsageFile parses a usage file (YAML or JSON).
func ParseUsageFile(data []byte, name string) (*UsageFile, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var doc struct {
		Version      any                       `json:"version"`
		TypeDefaults map[string]map[string]any `json:"resource_type_default_usage"`
		Resources    map[string]map[string]any `json:"resource_usage"`
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v (a usage file has version, resource_type_default_usage and resource_usage)", name, err)
	}
	u := &UsageFile{Name: name, TypeDefaults: doc.TypeDefaults, Resources: doc.Resources}
	if v, ok := str(doc.Version); ok {
		u.Version = v
	}
	for addr, vals := range u.Resources {
		if err := checkUsageValues(vals); err != nil {
			return nil, fmt.Errorf("%s: resource_usage.%s: %w", name, addr, err)
		}
	}
	for typ, vals := range u.TypeDefaults {
		if err := checkUsageValues(vals); err != nil {
			return nil, fmt.Errorf("%s: resource_type_default_usage.%s: %w", name, typ, err)
		}
	}
	return u, nil
}

func checkUsageValues(m map[string]any) error {
	for k, v := range m {
		switch x := v.(type) {
		case json.Number:
			if r, err := costgate.ParseRate(x.String()); err != nil || r.Sign() < 0 {
				return fmt.Errorf("%s: %s is not a non-negative number", k, x)
			}
		case map[string]any:
			if err := checkUsageValues(x); err != nil {
				return fmt.Errorf("%s.%w", k, err)
			}
		case string, bool, nil:
		default:
			return fmt.Errorf("%s: expected a number, a string or a mapping", k)
		}
	}
	return nil
}

// Usage is the usage known for one resource.
type Usage struct {
	values map[string]any
	// Source says where the values came from ("usage file x.yml").
	Source string
}

// For returns the usage of a resource: type defaults, then the [*]
// entry, then its own entry.
func (u *UsageFile) For(r *costgate.PlannedResource) Usage {
	if u == nil {
		return Usage{}
	}
	out := Usage{values: map[string]any{}, Source: "usage file " + u.Name}
	merge := func(m map[string]any) {
		for k, v := range m {
			flattenUsage(out.values, k, v)
		}
	}
	merge(u.TypeDefaults[r.Type])
	if i := strings.LastIndexByte(r.Address, '['); i > 0 && strings.HasSuffix(r.Address, "]") {
		merge(u.Resources[r.Address[:i]+"[*]"])
	}
	merge(u.Resources[r.Address])
	if len(out.values) == 0 {
		return Usage{}
	}
	return out
}

func flattenUsage(dst map[string]any, key string, v any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			flattenUsage(dst, key+"."+k, x)
		}
		return
	}
	if v == nil {
		return
	}
	dst[key] = v
}

// Has reports whether any usage is known.
func (u Usage) Has() bool { return len(u.values) > 0 }

// Quantity returns a numeric usage value ("monthly_requests",
// "standard.storage_gb") as an exact quantity.
func (u Usage) Quantity(key string) (*costgate.Quantity, bool) {
	r, ok := decimal(u.values[key])
	if !ok {
		return nil, false
	}
	q, err := costgate.QuantityOf(r)
	if err != nil {
		return nil, false
	}
	return &q, true
}

// Rate returns a numeric usage value as an exact Rate.
func (u Usage) Rate(key string) (costgate.Rate, bool) { return decimal(u.values[key]) }

// String returns a string usage value.
func (u Usage) String(key string) (string, bool) { return str(u.values[key]) }

// Keys lists the keys set, sorted.
func (u Usage) Keys() []string {
	keys := make([]string, 0, len(u.values))
	for k := range u.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
