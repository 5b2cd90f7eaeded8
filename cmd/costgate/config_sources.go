package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/aws"
	"github.com/costgate/costgate/collector/focus"
	"github.com/costgate/costgate/collector/gcp"
	"github.com/costgate/costgate/collector/tfstate"
)

// SourceConfig is one entry of the config's sources: list, the fixed
// shape users rely on:
//
//	sources:
//	  - {name: focus-sample, type: focus, path: testdata/billing/focus.csv}
//	  - {name: aws-cur, type: aws_cur, uri: s3://bucket/prefix/report-name, region: us-east-1}
//	  - {name: gcp, type: gcp_bigquery, project: p, dataset: billing, table: gcp_billing_export_v1_XXXX}
//	  - {name: tags, type: aws_tagging, regions: [us-east-1]}
//	  - {name: state, type: tfstate, path: infra/terraform.tfstate}
//
// Every file-based type takes path (a file, directory, glob or
// s3://bucket/prefix) or uri; endpoint points an SDK at an S3-compatible
// store.
type SourceConfig struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Path      string   `json:"path,omitempty"`
	URI       string   `json:"uri,omitempty"`
	Region    string   `json:"region,omitempty"`
	Regions   []string `json:"regions,omitempty"`
	Endpoint  string   `json:"endpoint,omitempty"`
	Profile   string   `json:"profile,omitempty"`
	PathStyle bool     `json:"path_style,omitempty"`
	Format    string   `json:"format,omitempty"`
	Project   string   `json:"project,omitempty"`
	Dataset   string   `json:"dataset,omitempty"`
	Table     string   `json:"table,omitempty"`
	Location  string   `json:"location,omitempty"`
	// Months and PartitionColumn are gcp_bigquery keys: the invoice
	// months a collect reads (default 3) and the table's partitioning
	// column (default: read off the table's metadata; none: no filter).
	Months          int    `json:"months,omitempty"`
	PartitionColumn string `json:"partition_column,omitempty"`
}

// spec converts the entry for the collector.
func (s SourceConfig) spec() collector.Spec {
	return collector.Spec{
		Name: s.Name, Type: s.Type, Path: s.Path, URI: s.URI, Region: s.Region, Regions: s.Regions,
		Endpoint: s.Endpoint, Profile: s.Profile, PathStyle: s.PathStyle, Format: s.Format,
		Project: s.Project, Dataset: s.Dataset, Table: s.Table, Location: s.Location,
		Months: s.Months, PartitionColumn: s.PartitionColumn,
	}
}

// sourceRegistry lists the source types this build can collect.
func sourceRegistry() *collector.Registry {
	r := collector.NewRegistry()
	r.Register(focus.Type, focus.Factory)
	r.Register(aws.CURType, aws.CURFactory)
	r.Register(aws.TaggingType, aws.TaggingFactory)
	r.Register(gcp.Type, gcp.Factory)
	r.Register(tfstate.Type, tfstate.Factory)
	return r
}

var sourceNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validateSources checks the sources: list and names the first bad
// field, e.g. "sources[2].path".
func validateSources(file string, srcs []SourceConfig, reg *collector.Registry) error {
	bad := func(i int, field, format string, args ...any) error {
		return &ConfigError{File: file, Field: fmt.Sprintf("sources[%d].%s", i, field), Msg: fmt.Sprintf(format, args...)}
	}
	seen := map[string]int{}
	for i, s := range srcs {
		switch {
		case s.Name == "":
			return bad(i, "name", "required: a short name such as aws-cur; it names the source's data in the store")
		case !sourceNameRE.MatchString(s.Name):
			return bad(i, "name", "%q: use letters, digits, '.', '_' and '-' (no '/' or spaces)", s.Name)
		}
		if j, dup := seen[s.Name]; dup {
			return bad(i, "name", "%q is also the name of sources[%d]: names must be unique", s.Name, j)
		}
		seen[s.Name] = i
		if s.Type == "" {
			return bad(i, "type", "required: one of %s", strings.Join(reg.Types(), ", "))
		}
		if err := reg.Check(s.spec()); err != nil {
			fe, ok := err.(*collector.FieldError)
			if !ok {
				return bad(i, "type", "%v", err)
			}
			if fe.Field == "type" {
				return bad(i, "type", "unknown type %q: use one of %s", s.Type, strings.Join(reg.Types(), ", "))
			}
			return bad(i, fe.Field, "%s", fe.Msg)
		}
	}
	return nil
}
