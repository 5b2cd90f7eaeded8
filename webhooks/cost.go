package webhooks

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/costgate/costgate"
)

// costRow is one answer row: keys in group_by order, exact values.
type costRow struct {
	Keys   []string `json:"keys"`
	Values []string `json:"values"`
	Count  int64    `json:"count"`
}

// handleCost answers GET /v1/cost from the cost store:
//
//	measure=EffectiveCost[,BilledCost...]  (default EffectiveCost)
//	group_by=ServiceName,tag:team           (FOCUS columns, tag:KEY, day, month)
//	month=2026-10 | from=2026-10-01&to=2026-11-01
//	filter=ServiceName=AmazonEC2,AmazonS3   (repeatable; column=v1,v2; !column=... negates)
//	order_by=-EffectiveCost                 (a measure or group_by column; - descending)
//	limit=20
func (s *Server) handleCost(w http.ResponseWriter, r *http.Request) {
	if s.opts.CostReader == nil {
		writeError(w, http.StatusNotImplemented, "no cost store is configured (config key store)")
		return
	}
	q, err := parseCostQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	start := time.Now()
	res, err := s.opts.CostReader.Query(r.Context(), q)
	s.metrics.costQuerySeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		// The store's errors name the bad column or measure.
		writeError(w, http.StatusBadRequest, "cost query: "+err.Error())
		return
	}
	rows := make([]costRow, 0, len(res.Rows))
	for _, row := range res.Rows {
		vals := make([]string, len(row.Values))
		for i, v := range row.Values {
			vals[i] = v.String()
		}
		keys := row.Keys
		if keys == nil {
			keys = []string{}
		}
		rows = append(rows, costRow{Keys: keys, Values: vals, Count: row.Count})
	}
	groupBy := res.GroupBy
	if groupBy == nil {
		groupBy = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"generation": res.Generation, "group_by": groupBy, "measures": res.Measures, "rows": rows,
	})
}

func parseCostQuery(v map[string][]string) (costgate.CostQuery, error) {
	var q costgate.CostQuery
	var from, to time.Time
	for key, vals := range v {
		if key != "filter" && len(vals) != 1 {
			return q, &paramError{"query parameter " + key + ": give it once"}
		}
		val := vals[0]
		switch key {
		case "measure":
			for _, m := range splitList(val) {
				mm, err := costgate.ParseMeasure(m)
				if err != nil {
					return q, &paramError{"measure: " + err.Error()}
				}
				q.Measures = append(q.Measures, mm)
			}
		case "group_by":
			q.GroupBy = splitList(val)
		case "month":
			m, err := costgate.ParseMonth(val)
			if err != nil {
				return q, &paramError{"month: " + err.Error()}
			}
			from, to = m.Start(), m.End()
		case "from", "to":
			t, err := time.Parse(time.DateOnly, val)
			if err != nil {
				if t, err = time.Parse(time.RFC3339, val); err != nil {
					return q, &paramError{key + ": use YYYY-MM-DD or RFC 3339"}
				}
			}
			if key == "from" {
				from = t
			} else {
				to = t
			}
		case "filter":
			for _, f := range vals {
				col, values, ok := strings.Cut(f, "=")
				neg := strings.HasPrefix(col, "!")
				col = strings.TrimPrefix(col, "!")
				if !ok || col == "" || values == "" {
					return q, &paramError{"filter " + strconv.Quote(f) + ": use column=value[,value...] (prefix ! to negate)"}
				}
				q.Filters = append(q.Filters, costgate.CostFilter{Op: costgate.FilterIn, Negate: neg, Column: col, Values: splitList(values)})
			}
		case "order_by":
			for _, o := range splitList(val) {
				desc := strings.HasPrefix(o, "-")
				q.OrderBy = append(q.OrderBy, costgate.CostOrder{By: strings.TrimPrefix(o, "-"), Desc: desc})
			}
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return q, &paramError{"limit: a non-negative integer"}
			}
			q.Limit = n
		default:
			return q, &paramError{"unknown query parameter " + strconv.Quote(key) + " (use measure, group_by, month, from, to, filter, order_by, limit)"}
		}
	}
	if len(q.Measures) == 0 {
		q.Measures = []costgate.Measure{costgate.MeasureEffectiveCost}
	}
	if !from.IsZero() || !to.IsZero() {
		q.Filters = append(q.Filters, costgate.CostFilter{Op: costgate.FilterTimeRange, From: from, To: to})
	}
	return q, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
