// Package bqtest runs a loopback server that speaks the BigQuery REST API
// (v2) the cloud.google.com/go/bigquery client uses: tables.get,
// jobs.query, jobs.getQueryResults and jobs.get, with the real request and
// response shapes (google.golang.org/api/bigquery/v2 types), rows in the
// f/v encoding with nested RECORD and REPEATED values, int64-microsecond
// timestamps, page tokens, incomplete jobs that the client must poll, and
// Google's JSON error bodies.
//
// It is a stand-in for a cloud API that cannot run here, not a SQL
// engine: it evaluates the shape of query the collector sends — a SELECT
// list of column paths, CAST(NULL AS T), empty typed arrays and
// ARRAY(SELECT AS STRUCT ... FROM UNNEST(x)), WHERE as a conjunction of
// `path op @param`, COUNT(*)/MAX(x) with GROUP BY, FORMAT_TIMESTAMP('%Y%m',
// x) — and answers anything else with a 400 invalidQuery naming what it
// did not understand. A query naming a column the table lacks is a 400
// like BigQuery's "Unrecognized name". The real SQL engine is exercised by
// make e2e against goccy/bigquery-emulator.
package bqtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// Table is one table: a schema and rows. A row maps top-level column
// names to values: string, float64, int64, bool, time.Time, nil,
// map[string]any for a RECORD and []any for a REPEATED field.
type Table struct {
	Schema []*bq.TableFieldSchema
	Rows   []map[string]any
	// PartitionTime gives a row's _PARTITIONTIME (ingestion-time
	// partitioned tables); nil: the table has no such pseudo column.
	PartitionTime func(map[string]any) time.Time
	// PartitionField, when set, makes the table partitioned on that
	// column instead (its metadata says so).
	PartitionField string
}

// Server is a running fake BigQuery.
type Server struct {
	URL string

	mu     sync.Mutex
	tables map[string]*Table // "project.dataset.table"
	jobs   map[string]*job
	seq    int
	// PageSize caps rows per response page (default 100).
	PageSize int
	// Incomplete makes jobs.query answer jobComplete=false first, so the
	// client polls jobs.getQueryResults.
	Incomplete bool
	// FailNext answers the next n requests with 503 backendError.
	FailNext int
	// Queries records every SQL text received, in order.
	Queries []string
	// Params records the parameters of each query, by name.
	Params []map[string]string
	// RowsScanned counts table rows a query's partition filter let
	// through (what BigQuery would scan), per query.
	RowsScanned []int
}

type job struct {
	schema *bq.TableSchema
	rows   []*bq.TableRow
	polled bool
}

// New returns a server with no tables; serve it with Handler (the demo
// does) or use Start in tests.
func New() *Server {
	return &Server{tables: map[string]*Table{}, jobs: map[string]*job{}, PageSize: 100}
}

// Handler serves the REST API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Start runs a server on 127.0.0.1 until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := New()
	hs := httptest.NewServer(s.Handler())
	tb.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Put creates or replaces a table.
func (s *Server) Put(project, dataset, table string, t *Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[project+"."+dataset+"."+table] = t
}

// Update runs fn on a table under the server's lock.
func (s *Server) Update(project, dataset, table string, fn func(*Table)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.tables[project+"."+dataset+"."+table])
}

var (
	tablePath   = regexp.MustCompile(`^/(?:bigquery/v2/)?projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)$`)
	queryPath   = regexp.MustCompile(`^/(?:bigquery/v2/)?projects/([^/]+)/queries$`)
	resultsPath = regexp.MustCompile(`^/(?:bigquery/v2/)?projects/([^/]+)/queries/([^/]+)$`)
	jobPath     = regexp.MustCompile(`^/(?:bigquery/v2/)?projects/([^/]+)/jobs/([^/]+)$`)
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError writes Google's JSON error body.
func apiError(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"errors": []map[string]any{{"domain": "global", "reason": reason, "message": msg}},
		"status": map[int]string{400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 503: "UNAVAILABLE"}[code],
	}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.FailNext > 0 {
		s.FailNext--
		apiError(w, 503, "backendError", "Backend error. Please try again.")
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && tablePath.MatchString(p):
		m := tablePath.FindStringSubmatch(p)
		t := s.tables[m[1]+"."+m[2]+"."+m[3]]
		if t == nil {
			apiError(w, 404, "notFound", fmt.Sprintf("Not found: Table %s:%s.%s", m[1], m[2], m[3]))
			return
		}
		var tp *bq.TimePartitioning
		switch {
		case t.PartitionField != "":
			tp = &bq.TimePartitioning{Type: "DAY", Field: t.PartitionField}
		case t.PartitionTime != nil:
			tp = &bq.TimePartitioning{Type: "DAY"}
		}
		writeJSON(w, 200, &bq.Table{
			TimePartitioning: tp,
			Kind:             "bigquery#table",
			Id:               m[1] + ":" + m[2] + "." + m[3],
			TableReference:   &bq.TableReference{ProjectId: m[1], DatasetId: m[2], TableId: m[3]},
			Schema:           &bq.TableSchema{Fields: t.Schema},
			NumRows:          uint64(len(t.Rows)),
			Type:             "TABLE",
		})
	case r.Method == http.MethodPost && queryPath.MatchString(p):
		project := queryPath.FindStringSubmatch(p)[1]
		var req bq.QueryRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			apiError(w, 400, "parseError", "bad request body: "+err.Error())
			return
		}
		if req.UseLegacySql == nil || *req.UseLegacySql {
			apiError(w, 400, "invalidQuery", "this server speaks GoogleSQL only: set useLegacySql=false")
			return
		}
		schema, rows, err := s.run(req.Query, req.QueryParameters)
		if err != nil {
			apiError(w, 400, "invalidQuery", err.Error())
			return
		}
		s.seq++
		id := fmt.Sprintf("job_%d", s.seq)
		j := &job{schema: schema, rows: rows}
		s.jobs[id] = j
		resp := &bq.QueryResponse{Kind: "bigquery#queryResponse",
			JobReference: &bq.JobReference{ProjectId: project, JobId: id, Location: "US"}}
		if s.Incomplete {
			resp.JobComplete = false
			writeJSON(w, 200, resp)
			return
		}
		j.polled = true
		resp.JobComplete = true
		resp.Schema = schema
		resp.Rows, resp.PageToken = s.page(j, req.MaxResults, "")
		resp.TotalRows = uint64(len(rows))
		resp.ForceSendFields = []string{"JobComplete", "TotalRows"}
		writeJSON(w, 200, resp)
	case r.Method == http.MethodGet && resultsPath.MatchString(p):
		m := resultsPath.FindStringSubmatch(p)
		j := s.jobs[m[2]]
		if j == nil {
			apiError(w, 404, "notFound", "Not found: Job "+m[1]+":"+m[2])
			return
		}
		resp := &bq.GetQueryResultsResponse{Kind: "bigquery#getQueryResultsResponse",
			JobReference: &bq.JobReference{ProjectId: m[1], JobId: m[2], Location: "US"},
			JobComplete:  true, Schema: j.schema, TotalRows: uint64(len(j.rows)),
			ForceSendFields: []string{"JobComplete", "TotalRows"}}
		if !j.polled {
			// The first poll of an incomplete job: still running.
			j.polled = true
			resp.JobComplete = false
			resp.Schema = nil
			writeJSON(w, 200, resp)
			return
		}
		max, _ := strconv.ParseInt(r.URL.Query().Get("maxResults"), 10, 64)
		if r.URL.Query().Has("maxResults") && max == 0 {
			writeJSON(w, 200, resp)
			return
		}
		resp.Rows, resp.PageToken = s.page(j, max, r.URL.Query().Get("pageToken"))
		writeJSON(w, 200, resp)
	case r.Method == http.MethodGet && jobPath.MatchString(p):
		m := jobPath.FindStringSubmatch(p)
		if s.jobs[m[2]] == nil {
			apiError(w, 404, "notFound", "Not found: Job "+m[1]+":"+m[2])
			return
		}
		writeJSON(w, 200, &bq.Job{Kind: "bigquery#job",
			JobReference:  &bq.JobReference{ProjectId: m[1], JobId: m[2], Location: "US"},
			Configuration: &bq.JobConfiguration{Query: &bq.JobConfigurationQuery{}},
			Status:        &bq.JobStatus{State: "DONE"}})
	default:
		apiError(w, 404, "notFound", "no such method: "+r.Method+" "+p)
	}
}

// page returns rows from the offset in token.
func (s *Server) page(j *job, max int64, token string) ([]*bq.TableRow, string) {
	start := 0
	if token != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(token, "offset-"))
	}
	n := int64(s.PageSize)
	if max > 0 && max < n {
		n = max
	}
	end := min(start+int(n), len(j.rows))
	next := ""
	if end < len(j.rows) {
		next = fmt.Sprintf("offset-%d", end)
	}
	return j.rows[start:end], next
}

// ---- the query subset ----

type item struct {
	alias string
	eval  func(row map[string]any, pt time.Time) (any, error)
	typ   *bq.TableFieldSchema
	agg   string // "", "count", "max"
	key   bool
}

var (
	fromRE   = regexp.MustCompile("(?s)^SELECT\\s+(.*?)\\s+FROM\\s+`([^`]+)`\\s*(?:WHERE\\s+(.*?))?\\s*(GROUP BY .*)?$")
	asRE     = regexp.MustCompile(`(?s)^(.*)\s+AS\s+([A-Za-z_][A-Za-z0-9_]*)$`)
	castRE   = regexp.MustCompile(`^CAST\(NULL AS ([A-Z0-9]+)\)$`)
	arrRE    = regexp.MustCompile(`^ARRAY<(.*)>\[\]$`)
	unnestRE = regexp.MustCompile(`^ARRAY\(SELECT AS STRUCT (.*) FROM UNNEST\(([a-z_.]+)\) AS ([a-z]+)\)$`)
	fmtTSRE  = regexp.MustCompile(`^FORMAT_TIMESTAMP\('%Y%m', ([A-Za-z_.]+)\)$`)
	aggRE    = regexp.MustCompile(`^(COUNT|MAX)\((\*|[A-Za-z_.]+)\)$`)
	predRE   = regexp.MustCompile(`^([A-Za-z_.]+) (>=|<=|=|<|>) @([a-z_]+)$`)
	pathRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
)

// splitTop splits s at commas outside parentheses and angle brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(', '<':
			depth++
		case ')', '>':
			if depth > 0 && !(c == '>' && i > 0 && s[i-1] == '=') {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// field finds a dotted path in a schema.
func field(fs []*bq.TableFieldSchema, path string) *bq.TableFieldSchema {
	parts := strings.Split(path, ".")
	var f *bq.TableFieldSchema
	for i, p := range parts {
		f = nil
		for _, c := range fs {
			if strings.EqualFold(c.Name, p) {
				f = c
				break
			}
		}
		if f == nil {
			return nil
		}
		if i < len(parts)-1 {
			fs = f.Fields
		}
	}
	return f
}

// get reads a dotted path from a row.
func get(row map[string]any, path string) any {
	var v any = row
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func scalarType(t string) string {
	switch t {
	case "FLOAT64":
		return "FLOAT"
	case "INT64":
		return "INTEGER"
	case "BOOL":
		return "BOOLEAN"
	}
	return t
}

func (s *Server) run(sql string, params []*bq.QueryParameter) (*bq.TableSchema, []*bq.TableRow, error) {
	s.Queries = append(s.Queries, sql)
	pv := map[string]string{}
	for _, p := range params {
		if p.ParameterValue != nil {
			pv[p.Name] = p.ParameterValue.Value
		}
	}
	s.Params = append(s.Params, pv)
	m := fromRE.FindStringSubmatch(strings.TrimSpace(sql))
	if m == nil {
		return nil, nil, bqErrorf("Syntax error: this server understands SELECT ... FROM `p.d.t` [WHERE ...] [GROUP BY ...]; got %.80q", sql)
	}
	t := s.tables[m[2]]
	if t == nil {
		return nil, nil, bqErrorf("Not found: Table %s was not found in location US", m[2])
	}
	items, err := parseSelect(t, m[1])
	if err != nil {
		return nil, nil, err
	}
	preds, err := parseWhere(t, m[3], pv)
	if err != nil {
		return nil, nil, err
	}
	var hit []map[string]any
	var times []time.Time
	scanned := 0
	for _, row := range t.Rows {
		var pt time.Time
		if t.PartitionTime != nil {
			pt = t.PartitionTime(row)
		}
		ok := true
		for _, p := range preds {
			if !p.partition {
				continue
			}
			if !p.match(row, pt) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		scanned++
		for _, p := range preds {
			if !p.partition && !p.match(row, pt) {
				ok = false
				break
			}
		}
		if ok {
			hit = append(hit, row)
			times = append(times, pt)
		}
	}
	s.RowsScanned = append(s.RowsScanned, scanned)
	schema := &bq.TableSchema{}
	for _, it := range items {
		schema.Fields = append(schema.Fields, it.typ)
	}
	grouped := m[4] != ""
	var out [][]any
	if !grouped {
		for i, row := range hit {
			vals := make([]any, len(items))
			for k, it := range items {
				if it.agg != "" {
					return nil, nil, bqErrorf("SELECT list expression %s references aggregation without GROUP BY", it.alias)
				}
				v, err := it.eval(row, times[i])
				if err != nil {
					return nil, nil, err
				}
				vals[k] = v
			}
			out = append(out, vals)
		}
	} else {
		groups := map[string][]any{}
		var order []string
		for i, row := range hit {
			var key []string
			keyVals := make([]any, len(items))
			for k, it := range items {
				if it.agg == "" {
					v, err := it.eval(row, times[i])
					if err != nil {
						return nil, nil, err
					}
					keyVals[k] = v
					key = append(key, fmt.Sprint(v))
				}
			}
			ks := strings.Join(key, "\x00")
			g := groups[ks]
			if g == nil {
				g = keyVals
				groups[ks] = g
				order = append(order, ks)
			}
			for k, it := range items {
				switch it.agg {
				case "count":
					n, _ := g[k].(int64)
					g[k] = n + 1
				case "max":
					v, err := it.eval(row, times[i])
					if err != nil {
						return nil, nil, err
					}
					if less(g[k], v) {
						g[k] = v
					}
				}
			}
		}
		sort.Strings(order)
		for _, ks := range order {
			out = append(out, groups[ks])
		}
	}
	rows := make([]*bq.TableRow, len(out))
	for i, vals := range out {
		rows[i] = encodeRow(schema.Fields, vals)
	}
	return schema, rows, nil
}

func less(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b != nil
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Before(y)
	case string:
		y, ok := b.(string)
		return ok && x < y
	case float64:
		y, ok := b.(float64)
		return ok && x < y
	}
	return false
}

func parseSelect(t *Table, list string) ([]item, error) {
	var items []item
	if strings.TrimSpace(list) == "*" {
		for _, f := range t.Schema {
			name := f.Name
			items = append(items, item{alias: name, typ: f,
				eval: func(row map[string]any, _ time.Time) (any, error) { return row[name], nil }})
		}
		return items, nil
	}
	for _, part := range splitTop(list) {
		am := asRE.FindStringSubmatch(part)
		if am == nil {
			return nil, fmt.Errorf("this server needs every SELECT item aliased (expr AS name): %q", part)
		}
		expr, alias := strings.TrimSpace(am[1]), am[2]
		it := item{alias: alias}
		switch {
		case castRE.MatchString(expr):
			typ := scalarType(castRE.FindStringSubmatch(expr)[1])
			it.typ = &bq.TableFieldSchema{Name: alias, Type: typ, Mode: "NULLABLE"}
			it.eval = func(map[string]any, time.Time) (any, error) { return nil, nil }
		case arrRE.MatchString(expr):
			inner := arrRE.FindStringSubmatch(expr)[1]
			st := strings.TrimSuffix(strings.TrimPrefix(inner, "STRUCT<"), ">")
			var fs []*bq.TableFieldSchema
			for _, f := range splitTop(st) {
				nt := strings.Fields(f)
				if len(nt) != 2 {
					return nil, fmt.Errorf("bad STRUCT field %q", f)
				}
				fs = append(fs, &bq.TableFieldSchema{Name: nt[0], Type: scalarType(nt[1]), Mode: "NULLABLE"})
			}
			it.typ = &bq.TableFieldSchema{Name: alias, Type: "RECORD", Mode: "REPEATED", Fields: fs}
			it.eval = func(map[string]any, time.Time) (any, error) { return []any{}, nil }
		case unnestRE.MatchString(expr):
			um := unnestRE.FindStringSubmatch(expr)
			arr := field(t.Schema, um[2])
			if arr == nil || arr.Mode != "REPEATED" {
				return nil, bqErrorf("Unrecognized name: %s", um[2])
			}
			type sub struct {
				name string
				src  string // "" for NULL
			}
			var subs []sub
			var fs []*bq.TableFieldSchema
			for _, f := range splitTop(um[1]) {
				sm := asRE.FindStringSubmatch(f)
				if sm == nil {
					return nil, bqErrorf("UNNEST field needs AS: %q", f)
				}
				src := strings.TrimSpace(sm[1])
				if cm := castRE.FindStringSubmatch(src); cm != nil {
					subs = append(subs, sub{name: sm[2]})
					fs = append(fs, &bq.TableFieldSchema{Name: sm[2], Type: scalarType(cm[1]), Mode: "NULLABLE"})
					continue
				}
				src = strings.TrimPrefix(src, um[3]+".")
				sf := field(arr.Fields, src)
				if sf == nil {
					return nil, bqErrorf("Field name %s does not exist in STRUCT of %s", src, um[2])
				}
				subs = append(subs, sub{name: sm[2], src: src})
				fs = append(fs, &bq.TableFieldSchema{Name: sm[2], Type: sf.Type, Mode: "NULLABLE"})
			}
			it.typ = &bq.TableFieldSchema{Name: alias, Type: "RECORD", Mode: "REPEATED", Fields: fs}
			path := um[2]
			it.eval = func(row map[string]any, _ time.Time) (any, error) {
				elems, _ := get(row, path).([]any)
				out := make([]any, 0, len(elems))
				for _, e := range elems {
					em, _ := e.(map[string]any)
					rec := map[string]any{}
					for _, s := range subs {
						if s.src != "" {
							rec[s.name] = em[s.src]
						}
					}
					out = append(out, rec)
				}
				return out, nil
			}
		case fmtTSRE.MatchString(expr):
			path := fmtTSRE.FindStringSubmatch(expr)[1]
			if field(t.Schema, path) == nil {
				return nil, bqErrorf("Unrecognized name: %s", path)
			}
			it.typ = &bq.TableFieldSchema{Name: alias, Type: "STRING", Mode: "NULLABLE"}
			it.key = true
			it.eval = func(row map[string]any, _ time.Time) (any, error) {
				tm, ok := get(row, path).(time.Time)
				if !ok {
					return nil, nil
				}
				return tm.UTC().Format("200601"), nil
			}
		case aggRE.MatchString(expr):
			gm := aggRE.FindStringSubmatch(expr)
			if gm[1] == "COUNT" {
				it.agg = "count"
				it.typ = &bq.TableFieldSchema{Name: alias, Type: "INTEGER", Mode: "NULLABLE"}
				it.eval = func(map[string]any, time.Time) (any, error) { return nil, nil }
				break
			}
			f := field(t.Schema, gm[2])
			if f == nil {
				return nil, bqErrorf("Unrecognized name: %s", gm[2])
			}
			it.agg = "max"
			it.typ = &bq.TableFieldSchema{Name: alias, Type: f.Type, Mode: "NULLABLE"}
			path := gm[2]
			it.eval = func(row map[string]any, _ time.Time) (any, error) { return get(row, path), nil }
		case pathRE.MatchString(expr):
			f := field(t.Schema, expr)
			if f == nil {
				return nil, bqErrorf("Unrecognized name: %s", expr)
			}
			c := *f
			c.Name = alias
			it.typ = &c
			path := expr
			it.eval = func(row map[string]any, _ time.Time) (any, error) { return get(row, path), nil }
		default:
			return nil, fmt.Errorf("this server does not understand the expression %q", expr)
		}
		items = append(items, it)
	}
	return items, nil
}

type pred struct {
	path      string
	op        string
	val       any
	partition bool
}

func (p pred) match(row map[string]any, pt time.Time) bool {
	var v any
	if p.partition {
		v = pt
	} else {
		v = get(row, p.path)
	}
	if v == nil {
		return false
	}
	c := 0
	switch x := v.(type) {
	case time.Time:
		y := p.val.(time.Time)
		c = x.Compare(y)
	case string:
		c = strings.Compare(x, p.val.(string))
	default:
		return false
	}
	switch p.op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func parseWhere(t *Table, where string, pv map[string]string) ([]pred, error) {
	var out []pred
	if where == "" {
		return nil, nil
	}
	for _, c := range strings.Split(where, " AND ") {
		c = strings.TrimSpace(c)
		if c == "TRUE" {
			continue
		}
		m := predRE.FindStringSubmatch(c)
		if m == nil {
			return nil, fmt.Errorf("this server understands WHERE conditions of the form column op @param; got %q", c)
		}
		raw, ok := pv[m[3]]
		if !ok {
			return nil, bqErrorf("Query parameter '%s' not found", m[3])
		}
		p := pred{path: m[1], op: m[2]}
		var typ string
		if m[1] == "_PARTITIONTIME" {
			if t.PartitionTime == nil {
				return nil, bqErrorf("Unrecognized name: _PARTITIONTIME")
			}
			p.partition = true
			typ = "TIMESTAMP"
		} else {
			f := field(t.Schema, m[1])
			if f == nil {
				return nil, bqErrorf("Unrecognized name: %s", m[1])
			}
			typ = f.Type
		}
		if typ == "TIMESTAMP" {
			tm, err := parseTS(raw)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %v", m[3], err)
			}
			p.val = tm
		} else {
			p.val = raw
		}
		out = append(out, p)
	}
	return out, nil
}

func parseTS(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02 15:04:05.999999-07:00", "2006-01-02 15:04:05.999999Z07:00", time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q", s)
}

// encodeRow writes values in the f/v encoding of the REST API.
func encodeRow(fs []*bq.TableFieldSchema, vals []any) *bq.TableRow {
	r := &bq.TableRow{F: make([]*bq.TableCell, len(fs))}
	for i, f := range fs {
		r.F[i] = &bq.TableCell{V: encode(f, vals[i])}
	}
	return r
}

func encode(f *bq.TableFieldSchema, v any) any {
	if f.Mode == "REPEATED" {
		arr, _ := v.([]any)
		out := make([]any, 0, len(arr))
		one := *f
		one.Mode = "NULLABLE"
		for _, e := range arr {
			out = append(out, map[string]any{"v": encode(&one, e)})
		}
		return out
	}
	if v == nil {
		return nil
	}
	switch f.Type {
	case "RECORD", "STRUCT":
		m, _ := v.(map[string]any)
		vals := make([]any, len(f.Fields))
		for i, sf := range f.Fields {
			vals[i] = m[sf.Name]
		}
		return encodeRow(f.Fields, vals)
	case "TIMESTAMP":
		t := v.(time.Time)
		return strconv.FormatInt(t.UnixMicro(), 10)
	case "FLOAT", "FLOAT64":
		return strconv.FormatFloat(v.(float64), 'g', -1, 64)
	case "INTEGER", "INT64":
		return strconv.FormatInt(v.(int64), 10)
	case "BOOLEAN", "BOOL":
		return strconv.FormatBool(v.(bool))
	}
	return fmt.Sprint(v)
}

// queryError is an error in BigQuery's own words ("Unrecognized name:
// x"), capitalised as BigQuery writes them.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func bqErrorf(format string, args ...any) error {
	return &queryError{fmt.Sprintf(format, args...)}
}
