// Package tfstate reads Terraform state files (format version 4, written
// by Terraform 0.12 and later and by OpenTofu) from a local file,
// directory or glob, or an s3:// prefix (the S3 backend's bucket), into
// the store's inventory: one resource per managed resource instance, with
// its tags and the first and last time a collect saw it.
//
// Only identity and tags are kept: the id (the ARN where there is one, so
// that it matches the AWS tagging API and CUR resource ids), type,
// address, provider, account and region. State files hold secrets; no
// other attribute is read into memory beyond decoding, logged or stored.
package tfstate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/blob"
)

// Type is the config type name.
const Type = "tfstate"

// MaxStateSize bounds one state file.
const MaxStateSize = 512 << 20

// Source reads Terraform state files.
type Source struct {
	name string
	loc  string
	s3   blob.S3Options
	// Bucket, when set, replaces the bucket resolved from the location.
	Bucket blob.Bucket
}

// Factory registers tfstate.
var Factory = collector.Factory{
	Check: func(s collector.Spec) error {
		if err := collector.RequireLocation(s); err != nil {
			return err
		}
		if s.Format != "" {
			return &collector.FieldError{Field: "format", Msg: "tfstate files are JSON; leave format out"}
		}
		return nil
	},
	New: func(s collector.Spec, _ collector.Env) (collector.Source, error) { return New(s), nil },
}

// New returns a source for spec.
func New(s collector.Spec) *Source {
	return &Source{name: s.Name, loc: s.Where(),
		s3: blob.S3Options{Region: s.Region, Endpoint: s.Endpoint, PathStyle: s.PathStyle, Profile: s.Profile}}
}

// Name returns the configured name.
func (s *Source) Name() string { return s.name }

// Type returns "tfstate".
func (s *Source) Type() string { return Type }

// Collect reads every state file and replaces the source's inventory. A
// bad file fails the whole inventory, which then stays as it was.
func (s *Source) Collect(ctx context.Context, sink collector.Sink) error {
	var b blob.Bucket
	var objs []blob.Object
	var err error
	if s.Bucket != nil {
		b = s.Bucket
		objs, err = blob.FindIn(ctx, b, s.loc)
	} else {
		b, objs, err = blob.Find(ctx, s.loc, s.s3)
	}
	if err != nil {
		return err
	}
	if len(objs) > 1 {
		var states []blob.Object
		for _, o := range objs {
			if strings.HasSuffix(o.Key, ".tfstate") {
				states = append(states, o)
			}
		}
		objs = states
		if len(objs) == 0 {
			return fmt.Errorf("%s: no *.tfstate files", s.loc)
		}
	}
	prog := sink.Progress()
	var size int64
	for _, o := range objs {
		size += o.Size
	}
	prog.Plan(len(objs), size)
	var all []costgate.Resource
	var ids []string
	h := sha256.New()
	fmt.Fprintf(h, "tfstate/1\n")
	for _, o := range objs {
		st, data, err := readState(ctx, b, o, prog)
		if err != nil {
			sink.Fail(err)
			return nil
		}
		rs := st.resources()
		all = append(all, rs...)
		prog.AddRows(len(rs))
		prog.FileDone()
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%s\x00%x\n", o.Key, sum)
		ids = append(ids, fmt.Sprintf("%s@%s:%d", b.URI(o.Key), st.Lineage, st.Serial))
	}
	sort.Strings(ids)
	return sink.Inventory(ctx, all, strings.Join(ids, "\n"), hex.EncodeToString(h.Sum(nil)))
}

func readState(ctx context.Context, b blob.Bucket, o blob.Object, prog *collector.Progress) (*State, []byte, error) {
	name := b.URI(o.Key)
	rc, err := b.Open(ctx, o.Key)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxStateSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read: %w", name, err)
	}
	prog.AddBytes(int64(len(data)))
	if len(data) > MaxStateSize {
		return nil, nil, fmt.Errorf("%s: larger than %d MiB", name, MaxStateSize>>20)
	}
	st, err := Parse(name, data)
	return st, data, err
}

// State is the part of a Terraform state the inventory needs.
type State struct {
	Version          int        `json:"version"`
	TerraformVersion string     `json:"terraform_version"`
	Serial           int64      `json:"serial"`
	Lineage          string     `json:"lineage"`
	Resources        []Resource `json:"resources"`
}

// Resource is one resource block of a state.
type Resource struct {
	Module    string     `json:"module"`
	Mode      string     `json:"mode"`
	Type      string     `json:"type"`
	Name      string     `json:"name"`
	Provider  string     `json:"provider"`
	Instances []Instance `json:"instances"`
}

// Instance is one instance of a resource (count / for_each).
type Instance struct {
	IndexKey   any                        `json:"index_key"`
	Attributes map[string]json.RawMessage `json:"attributes"`
}

// ErrNotState reports a file that is not a version 4 state.
var ErrNotState = errors.New("not a Terraform state (format version 4)")

// Parse decodes a state file; errors name the file and the line and
// column of bad JSON.
func Parse(name string, data []byte) (*State, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := position(data, se.Offset)
			return nil, fmt.Errorf("%s:%d:%d: %w", name, line, col, err)
		case errors.As(err, &te):
			line, col := position(data, te.Offset)
			return nil, fmt.Errorf("%s:%d:%d: %s: want %s, got %s", name, line, col, te.Field, te.Type, te.Value)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if st.Version != 4 {
		hint := ""
		if st.Version == 3 {
			hint = " (written by Terraform before 0.12: run terraform 0.12+ once to upgrade it)"
		}
		return nil, fmt.Errorf("%s: version %d: %w%s", name, st.Version, ErrNotState, hint)
	}
	return &st, nil
}

func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off > 0 {
		off-- // the offset is just past the offending byte
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// utility providers whose resources are not cloud resources.
var utility = map[string]bool{
	"random": true, "null": true, "local": true, "tls": true, "time": true, "terraform": true,
	"external": true, "http": true, "template": true, "archive": true, "cloudinit": true,
}

// resources lists the inventory entries of the managed resources.
func (st *State) resources() []costgate.Resource {
	var out []costgate.Resource
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		prov := providerType(r.Provider)
		if utility[prov] {
			continue
		}
		for _, inst := range r.Instances {
			res := costgate.Resource{Provider: providerName(prov), Type: r.Type, Name: address(r, inst)}
			a := attrs(inst.Attributes)
			arn := a.str("arn")
			res.ID = firstOf(arn, a.str("id"), a.str("self_link"))
			if res.ID == "" {
				continue
			}
			switch prov {
			case "aws":
				if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
					res.Region, res.AccountID = parts[3], parts[4]
				}
				res.AccountID = firstOf(res.AccountID, a.str("owner_id"), a.str("account_id"))
				if res.Region == "" {
					res.Region = firstOf(a.str("region"), zoneRegion(a.str("availability_zone")))
				}
				res.Tags = firstMap(a.strMap("tags_all"), a.strMap("tags"))
			case "google", "google-beta":
				res.AccountID = a.str("project")
				res.Region = firstOf(a.str("region"), zoneRegion(a.str("zone")), strings.ToLower(a.str("location")))
				res.Tags = firstMap(a.strMap("effective_labels"), a.strMap("labels"))
			case "azurerm", "azapi":
				if sub, ok := strings.CutPrefix(strings.ToLower(a.str("id")), "/subscriptions/"); ok {
					res.AccountID, _, _ = strings.Cut(sub, "/")
				}
				res.Region = a.str("location")
				res.Tags = a.strMap("tags")
			default:
				res.Region = firstOf(a.str("region"), a.str("location"))
				res.Tags = firstMap(a.strMap("tags_all"), a.strMap("tags"), a.strMap("labels"))
			}
			out = append(out, res)
		}
	}
	return out
}

// providerType extracts "aws" from provider["registry.terraform.io/hashicorp/aws"]
// (or the legacy provider.aws and module-scoped forms).
func providerType(p string) string {
	if i := strings.Index(p, `["`); i >= 0 {
		p = strings.TrimSuffix(p[i+2:], `"]`)
		if j := strings.LastIndexByte(p, '"'); j >= 0 {
			p = p[:j]
		}
		p = p[strings.LastIndexByte(p, '/')+1:]
	} else {
		p = p[strings.LastIndexByte(p, '.')+1:]
	}
	if i := strings.IndexByte(p, '.'); i >= 0 { // an alias: aws.west
		p = p[:i]
	}
	return p
}

// providerName is the FOCUS ProviderName of a Terraform provider, so
// inventory and line items group together.
func providerName(t string) string {
	switch t {
	case "aws":
		return "AWS"
	case "google", "google-beta":
		return "Google Cloud"
	case "azurerm", "azapi":
		return "Microsoft"
	}
	return t
}

func address(r Resource, inst Instance) string {
	var b strings.Builder
	if r.Module != "" {
		b.WriteString(r.Module)
		b.WriteByte('.')
	}
	b.WriteString(r.Type)
	b.WriteByte('.')
	b.WriteString(r.Name)
	switch k := inst.IndexKey.(type) {
	case float64:
		b.WriteString("[" + strconv.FormatFloat(k, 'f', -1, 64) + "]")
	case string:
		b.WriteString("[" + strconv.Quote(k) + "]")
	}
	return b.String()
}

func zoneRegion(z string) string {
	if z == "" {
		return ""
	}
	if i := strings.LastIndexByte(z, '-'); i > 0 && len(z)-i == 2 { // europe-west1-b
		return z[:i]
	}
	if n := len(z); n > 1 && z[n-1] >= 'a' && z[n-1] <= 'z' && z[n-2] >= '0' && z[n-2] <= '9' { // us-east-1a
		return z[:n-1]
	}
	return z
}

type attrs map[string]json.RawMessage

func (a attrs) str(k string) string {
	raw, ok := a[k]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// strMap reads a map of strings, skipping values of other types.
func (a attrs) strMap(k string) map[string]string {
	raw, ok := a[k]
	if !ok {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func firstMap(ms ...map[string]string) map[string]string {
	for _, m := range ms {
		if len(m) > 0 {
			return m
		}
	}
	return nil
}
