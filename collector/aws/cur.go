// Package aws collects AWS billing data: the Cost and Usage Report, both
// the legacy CUR (gzip CSV parts listed by the report's manifest JSON,
// lineItem/UnblendedCost-style headers, resourceTags/user:team columns)
// and CUR 2.0 from AWS Data Exports (Parquet or CSV under
// BILLING_PERIOD=YYYY-MM folders, snake_case columns, resource_tags as a
// map), read from S3 with aws-sdk-go-v2 or from a local copy.
//
// Rows are mapped to FOCUS following the FinOps Foundation converter's
// rules (focus_converters, conversion_rules_export/csv/aws-cur.csv; a copy
// is in testdata/billing/aws-cur/): BilledCost is the net unblended cost
// when present, else the unblended cost; EffectiveCost amortises Savings
// Plans and Reserved Instances (covered usage at its effective cost, the
// recurring fee as its unused commitment, negations and upfront fees at
// 0, RI usage at the reservation's effective cost, the RI fee as its
// unused amortised upfront and recurring fee); ListCost is the public
// on-demand rate times the usage (exactly), else the public on-demand
// cost; tax, credit and refund rows keep their amounts. Where this
// package departs from the table, on purpose:
//   - Credit and Refund rows are ChargeCategory Credit (FOCUS 1.0 added
//     that category after the table was written; it says Adjustment), and
//     refunds are ChargeClass Correction.
//   - ChargeFrequency is Usage-Based for usage rows, Recurring for RI and
//     Savings Plan recurring fees, One-Time for upfront fees; only the
//     other rows follow the bill type (the table maps every row of an
//     Anniversary bill to Recurring).
//   - ResourceName is the ARN's resource part as written (the table
//     title-cases it), and ARNs of the form type/name split too.
//   - ContractedCost, which the table leaves out, is the unblended cost.
//   - ServiceCategory uses a table of common product codes; the others are
//     Other.
//
// Export identity: a legacy report period is one export, its version the
// manifest's assemblyId; a Data Exports period is one export, the files
// its manifest's dataFiles list (metadata/BILLING_PERIOD=YYYY-MM/
// <export>-Manifest.json), versioned by its executionId, or without a
// manifest the period folder's latest delivery, versioned by its files'
// ETags; any other file stands alone.
package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/blob"
	"github.com/costgate/costgate/collector/tabular"
)

// CURType is the config type name of the Cost and Usage Report.
const CURType = "aws_cur"

// curSchema versions the mapping; changing it re-reads every export.
const curSchema = "aws_cur/1"

// CURSource reads a Cost and Usage Report.
type CURSource struct {
	collector.Files
}

// CURFactory registers aws_cur.
var CURFactory = collector.Factory{
	Check: collector.RequireLocation,
	New: func(s collector.Spec, _ collector.Env) (collector.Source, error) {
		return NewCUR(s), nil
	},
}

// NewCUR returns a CUR source for spec (uri: s3://bucket/prefix/report,
// or path: a local copy, a directory, a glob or single files).
func NewCUR(s collector.Spec) *CURSource {
	return &CURSource{collector.FilesOf(s)}
}

// Type returns "aws_cur".
func (s *CURSource) Type() string { return CURType }

// Collect loads every changed report period.
func (s *CURSource) Collect(ctx context.Context, sink collector.Sink) error {
	b, objs, err := s.Find(ctx)
	if err != nil {
		return err
	}
	exports := legacyExports(ctx, b, objs, s.Format(), sink)
	exports = append(exports, dataExports(ctx, b, objs, s.Format(), sink)...)
	claimed := map[string]bool{}
	for _, e := range exports {
		claimed[e.dir] = true
	}
	var rest []blob.Object
	for _, o := range objs {
		if !underAny(o.Key, claimed) && !dataManifestRE.MatchString(o.Key) {
			rest = append(rest, o)
		}
	}
	var all []collector.Export
	for _, e := range exports {
		all = append(all, e.Export)
	}
	for _, batch := range blob.Batches(rest) {
		all = append(all, batchExport(b, batch, s.Format(), sink))
	}
	return collector.LoadExports(ctx, sink, curSchema, all)
}

func underAny(key string, dirs map[string]bool) bool {
	for d := range dirs {
		if strings.HasPrefix(key, d) {
			return true
		}
	}
	return false
}

// manifestRE matches a legacy report's top-level manifest for a billing
// period: <prefix>/<report>/20231101-20231201/<report>-Manifest.json.
var manifestRE = regexp.MustCompile(`(^|[/\\])(\d{8}-\d{8})[/\\]([^/\\]+)-Manifest\.json$`)

// manifest is the part of a legacy CUR manifest the collector reads.
type manifest struct {
	AssemblyID    string   `json:"assemblyId"`
	ReportKeys    []string `json:"reportKeys"`
	ReportName    string   `json:"reportName"`
	Bucket        string   `json:"bucket"`
	ContentType   string   `json:"contentType"`
	Compression   string   `json:"compression"`
	BillingPeriod struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"billingPeriod"`
}

type legacyExport struct {
	collector.Export
	dir string // the period folder's key prefix, with separator
}

// legacyExports reads each period's manifest (a small object) for its
// assembly id.
func legacyExports(ctx context.Context, b blob.Bucket, objs []blob.Object, format string, sink collector.Sink) []legacyExport {
	byKey := map[string]blob.Object{}
	for _, o := range objs {
		byKey[o.Key] = o
	}
	var out []legacyExport
	for _, o := range objs {
		m := manifestRE.FindStringSubmatchIndex(o.Key)
		if m == nil {
			continue
		}
		period := o.Key[m[4]:m[5]]
		dir := o.Key[:m[5]+1] // through the separator after the period
		key := b.URI(dir)
		man, err := readJSON[manifest](ctx, b, o, "manifest")
		e := legacyExport{dir: dir, Export: collector.Export{Key: key, Files: 1}}
		if err != nil {
			e.Version = "unreadable"
			e.Read = func(context.Context, *collector.Rows) (string, error) { return "", err }
			out = append(out, e)
			continue
		}
		e.Version = man.AssemblyID
		if e.Version == "" {
			e.Version = o.Version()
		}
		parts := make([]blob.Object, 0, len(man.ReportKeys))
		for _, rk := range man.ReportKeys {
			p := resolveReportKey(b, dir, period, rk)
			obj, ok := byKey[p]
			if !ok {
				obj = blob.Object{Key: p}
			}
			parts = append(parts, obj)
			e.Size += obj.Size
		}
		e.Files = len(parts)
		e.Read = func(ctx context.Context, rows *collector.Rows) (string, error) {
			if len(parts) == 0 {
				return "", fmt.Errorf("%s: the manifest lists no reportKeys", b.URI(o.Key))
			}
			return readFiles(ctx, b, parts, format, sink, rows)
		}
		out = append(out, e)
	}
	return out
}

// dataManifestRE matches an AWS Data Exports manifest (CUR 2.0):
// <prefix>/<export>/metadata/BILLING_PERIOD=2023-11/<export>-Manifest.json,
// whose data files are under <prefix>/<export>/data/BILLING_PERIOD=2023-11/.
var dataManifestRE = regexp.MustCompile(`(^|[/\\])metadata([/\\])(BILLING_PERIOD=\d{4}-\d{2})[/\\][^/\\]+-Manifest\.json$`)

// dataManifest is the part of a Data Exports manifest the collector
// reads: the execution that delivered the period, and its data files as
// s3:// URIs (AWS's documented way to tell which files to ingest; an
// export set to "create new export file" keeps older executions' files
// beside them).
type dataManifest struct {
	ExecutionID string   `json:"executionId"`
	ExportARN   string   `json:"exportArn"`
	DataFiles   []string `json:"dataFiles"`
}

// dataExports makes one export per Data Exports period that has a
// manifest: the files its dataFiles list, versioned by its executionId.
// A period without a manifest is read from its folder (blob.Batches),
// and so is one whose manifest has no dataFiles field (logged).
func dataExports(ctx context.Context, b blob.Bucket, objs []blob.Object, format string, sink collector.Sink) []legacyExport {
	byKey := map[string]blob.Object{}
	for _, o := range objs {
		byKey[o.Key] = o
	}
	var out []legacyExport
	for _, o := range objs {
		m := dataManifestRE.FindStringSubmatchIndex(o.Key)
		if m == nil {
			continue
		}
		sep := o.Key[m[4]:m[5]]
		period := o.Key[m[6]:m[7]]
		dir := o.Key[:m[3]] + "data" + sep + period + sep
		e := legacyExport{dir: dir, Export: collector.Export{Key: b.URI(dir), Files: 1}}
		man, err := readJSON[dataManifest](ctx, b, o, "Data Exports manifest")
		if err == nil && man.DataFiles == nil {
			sink.Logger().Warn("Data Exports manifest lists no dataFiles; reading its period folder instead", "manifest", b.URI(o.Key))
			continue
		}
		var files []blob.Object
		if err == nil {
			for _, df := range man.DataFiles {
				key, ok := dataFileKey(b, dir, period, df)
				obj, found := byKey[key]
				if !ok || !found {
					err = fmt.Errorf("%s lists data file %s, which is not under %s: copy the export's data folder with its metadata folder, or point the source at the bucket the export delivers to", b.URI(o.Key), df, b.URI(dir))
					break
				}
				files = append(files, obj)
				e.Size += obj.Size
			}
		}
		if err != nil {
			e.Version = "unreadable"
			e.Read = func(context.Context, *collector.Rows) (string, error) { return "", err }
			out = append(out, e)
			continue
		}
		e.Version = man.ExecutionID
		if e.Version == "" {
			e.Version = o.Version()
		}
		e.Files = len(files)
		e.Read = func(ctx context.Context, rows *collector.Rows) (string, error) {
			return readFiles(ctx, b, files, format, sink, rows)
		}
		out = append(out, e)
	}
	return out
}

// dataFileKey finds a manifest's data file (an s3:// URI) in the bucket:
// the key itself when the URI names this bucket, else (a local copy, or
// another bucket) the part after the period folder, below dir.
func dataFileKey(b blob.Bucket, dir, period, uri string) (string, bool) {
	if _, local := b.(blob.Local); !local {
		if k, ok := strings.CutPrefix(uri, b.URI("")); ok {
			return k, strings.HasPrefix(k, dir)
		}
	}
	i := strings.Index(uri, "/"+period+"/")
	if i < 0 {
		return "", false
	}
	rel := uri[i+len(period)+2:]
	if _, local := b.(blob.Local); local {
		return filepath.Join(dir, filepath.FromSlash(rel)), true
	}
	return dir + rel, true
}

// readJSON reads a manifest (at most 64 MiB) into a T; what names it
// in errors.
func readJSON[T any](ctx context.Context, b blob.Bucket, o blob.Object, what string) (*T, error) {
	rc, err := b.Open(ctx, o.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", b.URI(o.Key), what, err)
	}
	var m T
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", b.URI(o.Key), what, err)
	}
	return &m, nil
}

// resolveReportKey finds a manifest's report key in the bucket. In S3 it
// is the key itself; in a local copy the part after the period folder is
// taken below the local period folder.
func resolveReportKey(b blob.Bucket, dir, period, rk string) string {
	if _, local := b.(blob.Local); !local {
		return rk
	}
	rel := path.Base(rk)
	if i := strings.Index(rk, "/"+period+"/"); i >= 0 {
		rel = rk[i+len(period)+2:]
	} else if strings.HasPrefix(rk, period+"/") {
		rel = rk[len(period)+1:]
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

func batchExport(b blob.Bucket, batch blob.Batch, format string, sink collector.Sink) collector.Export {
	var size int64
	for _, o := range batch.Objects {
		size += o.Size
	}
	return collector.Export{
		Key: b.URI(batch.Key), Version: blob.VersionOf(batch.Objects), Files: len(batch.Objects), Size: size,
		Read: func(ctx context.Context, rows *collector.Rows) (string, error) {
			return readFiles(ctx, b, batch.Objects, format, sink, rows)
		},
	}
}

func readFiles(ctx context.Context, b blob.Bucket, objs []blob.Object, format string, sink collector.Sink, rows *collector.Rows) (string, error) {
	h := sha256.New()
	for _, o := range objs {
		fh, err := readFile(ctx, b, o, format, sink, rows)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n", fh)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readFile decodes one CUR file (CSV, CSV.gz or Parquet).
func readFile(ctx context.Context, b blob.Bucket, o blob.Object, format string, sink collector.Sink, rows *collector.Rows) (string, error) {
	prog := sink.Progress()
	f, err := tabular.Open(ctx, b, o, format, prog.AddBytes, wantColumn)
	if err != nil {
		return "", err
	}
	defer f.Close()
	dec, err := newDecoder(f.Name, f.Columns())
	if err != nil {
		return "", err
	}
	var li costgate.LineItem
	n := 0
	for f.Next() {
		if err := dec.decode(f, &li); err != nil {
			return "", err
		}
		if err := rows.Add(&li); err != nil {
			return "", &tabular.FieldError{File: f.Name, Where: f.Where(), Err: err}
		}
		n++
		if n&4095 == 0 {
			prog.AddRows(4096)
			if err := ctx.Err(); err != nil {
				return "", err
			}
		}
	}
	prog.AddRows(n & 4095)
	if err := f.Err(); err != nil {
		return "", err
	}
	prog.FileDone()
	return f.Hash(), nil
}

// wantColumn skips decoding the Parquet columns the mapping never reads
// (CUR 2.0 has over a hundred).
func wantColumn(col string) bool {
	name, _, isTag, ok := canonical(col)
	if !ok {
		return false
	}
	if isTag {
		return true
	}
	_, used := usedColumns[name]
	return used
}

var usedColumns = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, c := range []string{
		colPayerAccountID, colPayerAccountName, colBillingPeriodStart, colBillingPeriodEnd, colBillType,
		colInvoicingEntity, colInvoiceID, colUsageAccountID, colUsageAccountName, colLineItemType, colUsageStart,
		colUsageEnd, colProductCode, colUsageType, colOperation, colAvailabilityZone, colUsageAmount, colCurrency,
		colUnblendedCost, colNetUnblendedCost, colDescription, colLegalEntity, colResourceID, colRegion,
		colRegionCode, colLocation, colSku, colPurchaseOption, colProduct, colPricingUnit, colOnDemandRate,
		colOnDemandCost, colRateCode, colRateID, colTerm, colReservationARN, colReservationEffective,
		colRIUnusedUpfront, colRIUnusedRecurring, colRITotalUnits, colSavingsPlanARN, colSPEffective,
		colSPCommitmentToDate, colSPUsedCommitment, colResourceTags,
	} {
		m[c] = struct{}{}
	}
	return m
}()
