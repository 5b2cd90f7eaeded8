package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/big"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/costgate/costgate"
)

// DuckDB, in memory, in the same process. Two tables hold the same rows:
//
//   - li_int: every dimension integer-coded (the generator's codes), money
//     as BIGINT nano-units; SUM gives an exact HUGEINT;
//   - li_focus: FOCUS column names, VARCHAR dimensions, TIMESTAMP charge
//     and billing periods, money as DECIMAL(18,9); SUM gives an exact
//     DECIMAL(38,9). The team and env tags are flattened into VARCHAR
//     columns x_tag_team / x_tag_env (NULL when absent) rather than a
//     MAP/JSON Tags column, which favours DuckDB.
//
// Both are loaded through the Appender API, rows in the generator's order.

const ddlInt = `CREATE TABLE li_int (
	day_id USMALLINT, month_id UTINYINT, account_id UTINYINT, service_id UTINYINT,
	category_id UTINYINT, region_id UTINYINT, resource_id UINTEGER, rtype_id UTINYINT,
	sku_id USMALLINT, charge_cat UTINYINT, pricing_cat UTINYINT, team_id UTINYINT, env_id UTINYINT,
	qty BIGINT, billed BIGINT, effective BIGINT, list BIGINT)`

const ddlFocus = `CREATE TABLE li_focus (
	"ChargePeriodStart" TIMESTAMP, "ChargePeriodEnd" TIMESTAMP,
	"BillingPeriodStart" TIMESTAMP, "BillingPeriodEnd" TIMESTAMP,
	"BillingAccountId" VARCHAR, "BillingAccountName" VARCHAR, "SubAccountId" VARCHAR,
	"ProviderName" VARCHAR, "ServiceName" VARCHAR, "ServiceCategory" VARCHAR, "RegionId" VARCHAR,
	"ResourceId" VARCHAR, "ResourceType" VARCHAR, "SkuId" VARCHAR, "ChargeCategory" VARCHAR,
	"PricingCategory" VARCHAR, "BillingCurrency" VARCHAR,
	"ConsumedQuantity" DECIMAL(18,9), "BilledCost" DECIMAL(18,9), "EffectiveCost" DECIMAL(18,9),
	"ListCost" DECIMAL(18,9), "x_tag_team" VARCHAR, "x_tag_env" VARCHAR)`

type duckDB struct {
	connector *duckdb.Connector
	db        *sql.DB
	compress  bool
}

// openDuck opens an in-memory database. DuckDB keeps in-memory tables
// uncompressed by default; with compress the tables live in a database
// attached as ':memory:' (COMPRESS) instead, compressed at CHECKPOINT.
func openDuck(ctx context.Context, threads int, compress bool) (*duckDB, error) {
	var init func(driver.ExecerContext) error
	if compress {
		init = func(ex driver.ExecerContext) error {
			for _, s := range []string{"ATTACH IF NOT EXISTS ':memory:' AS cm (COMPRESS)", "USE cm"} {
				if _, err := ex.ExecContext(ctx, s, nil); err != nil {
					return fmt.Errorf("%s: %w", s, err)
				}
			}
			return nil
		}
	}
	c, err := duckdb.NewConnector("", init)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	for _, s := range []string{fmt.Sprintf("SET threads = %d", threads), ddlInt, ddlFocus} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			c.Close()
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	return &duckDB{connector: c, db: db, compress: compress}, nil
}

func (x *duckDB) Close() {
	x.db.Close()
	x.connector.Close()
}

// appendAll appends rows [0, n) of width columns, filled by row(i, vals),
// through one Appender; the timing covers the appender's life, Close (its
// final flush) included.
func (x *duckDB) appendAll(ctx context.Context, table string, width, n int, row func(i int, vals []driver.Value)) (ingestStats, error) {
	st := ingestStats{rows: n}
	conn, err := x.connector.Connect(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	u0, s0 := cpuTimes()
	t0 := time.Now()
	app, err := duckdb.NewAppenderFromConn(conn, "", table)
	if err != nil {
		return st, err
	}
	vals := make([]driver.Value, width)
	for i := range n {
		row(i, vals)
		if err := app.AppendRow(vals...); err != nil {
			app.Close()
			return st, fmt.Errorf("append %s row %d: %w", table, i, err)
		}
	}
	if err := app.Close(); err != nil {
		return st, err
	}
	if x.compress {
		// Compression happens at checkpoint: part of the load.
		if _, err := x.db.ExecContext(ctx, "CHECKPOINT cm"); err != nil {
			return st, err
		}
	}
	u1, s1 := cpuTimes()
	st.wall, st.cpu, st.sys = time.Since(t0), u1-u0+s1-s0, s1-s0
	return st, nil
}

func (x *duckDB) ingestInt(ctx context.Context, d *Data) (ingestStats, error) {
	return x.appendAll(ctx, "li_int", 17, d.N, func(i int, v []driver.Value) {
		v[0], v[1], v[2], v[3] = uint16(d.Day[i]), d.D.MonthOfDay[d.Day[i]], d.Account[i], d.Service[i]
		v[4], v[5], v[6], v[7] = d.Service[i], d.Region[i], d.Resource[i], d.ResType[i]
		v[8], v[9], v[10], v[11], v[12] = d.SKU[i], d.ChargeCat[i], d.PriceCat[i], d.Team[i], d.Env[i]
		v[13], v[14], v[15], v[16] = d.Qty[i], d.Billed[i], d.Effective[i], d.List[i]
	})
}

func (x *duckDB) ingestFocus(ctx context.Context, d *Data) (ingestStats, error) {
	dc := d.D
	return x.appendAll(ctx, "li_focus", 23, d.N, func(i int, v []driver.Value) {
		day, m := d.Day[i], dc.MonthOfDay[d.Day[i]]
		a, s := d.Account[i], d.Service[i]
		v[0], v[1] = dc.DayTimes[day], dc.DayTimes[day+1]
		v[2], v[3] = dc.DayTimes[monthStartDay[m]], dc.DayTimes[monthStartDay[m+1]]
		v[4], v[5], v[6] = dc.Accounts[a], dc.AccountNames[a], dc.Accounts[a]
		v[7], v[8], v[9], v[10] = "AWS", dc.Services[s], dc.Categories[s], dc.Regions[d.Region[i]]
		v[11], v[12], v[13] = dc.Resources[d.Resource[i]], dc.ResTypes[d.ResType[i]], dc.SKUs[d.SKU[i]]
		v[14], v[15], v[16] = dc.ChargeCats[d.ChargeCat[i]], dc.PricingCats[d.PriceCat[i]], "USD"
		// DECIMAL(18,9) is an int64 of 1e-9 units inside DuckDB: the
		// appender stores an int64 as the unscaled value, exactly.
		v[17], v[18], v[19], v[20] = d.Qty[i], d.Billed[i], d.Effective[i], d.List[i]
		v[21], v[22] = nil, nil
		if t := d.Team[i]; t != 0 {
			v[21] = dc.Teams[t]
		}
		if e := d.Env[i]; e != 0 {
			v[22] = dc.Envs[e]
		}
	})
}

// memory reports DuckDB's own accounting: the sum of duckdb_memory() and
// PRAGMA database_size's memory_usage.
func (x *duckDB) memory(ctx context.Context) (int64, string, error) {
	var used int64
	if err := x.db.QueryRowContext(ctx, `SELECT CAST(SUM(memory_usage_bytes) AS BIGINT) FROM duckdb_memory()`).Scan(&used); err != nil {
		return 0, "", err
	}
	var dbSize string
	if err := x.db.QueryRowContext(ctx, `SELECT memory_usage FROM pragma_database_size()`).Scan(&dbSize); err != nil {
		return used, "", err
	}
	return used, dbSize, nil
}

// checkTotals compares a table's sums per (account, month) with the
// generator's.
func (x *duckDB) checkTotals(ctx context.Context, d *Data, focus bool) error {
	q := `SELECT account_id, month_id, SUM(effective), SUM(billed), SUM(list), SUM(qty), COUNT(*) FROM li_int GROUP BY ALL`
	if focus {
		q = `SELECT "BillingAccountId", strftime("BillingPeriodStart", '%Y-%m'), SUM("EffectiveCost"), SUM("BilledCost"),
			SUM("ListCost"), SUM("ConsumedQuantity"), COUNT(*) FROM li_focus GROUP BY ALL`
	}
	rows, err := x.db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	got := map[string][5]costgate.Sum{}
	for rows.Next() {
		vals := make([]any, 7)
		ptrs := make([]any, 7)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		var key string
		if focus {
			key = vals[0].(string) + "/" + vals[1].(string)
		} else {
			key = d.D.Accounts[toInt(vals[0])] + "/" + monthNames[toInt(vals[1])]
		}
		var s [5]costgate.Sum
		for i := range 4 {
			if s[i], err = toSum(vals[2+i]); err != nil {
				return err
			}
		}
		s[4] = costgate.SumUnits(int64(toInt(vals[6])))
		got[key] = s
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(got) != len(d.Parts) {
		return fmt.Errorf("%d (account, month) groups, generator %d", len(got), len(d.Parts))
	}
	for _, p := range d.Parts {
		var want [5]costgate.Sum
		for i := p.Lo; i < p.Hi; i++ {
			want[0].Add(costgate.Money(d.Effective[i]))
			want[1].Add(costgate.Money(d.Billed[i]))
			want[2].Add(costgate.Money(d.List[i]))
			want[3].Add(costgate.Money(d.Qty[i]))
		}
		want[4] = costgate.SumUnits(int64(p.Hi - p.Lo))
		key := d.D.Accounts[p.Account] + "/" + monthNames[p.Month]
		if got[key] != want {
			return fmt.Errorf("partition %s: got %v, generator %v", key, got[key], want)
		}
	}
	return nil
}

// duckEngine runs the queries on one table through prepared statements.
type duckEngine struct {
	name  string
	focus bool
	db    *sql.DB
	stmts map[*QuerySpec]*sql.Stmt
}

func newDuckEngine(ctx context.Context, x *duckDB, focus bool, qs []*QuerySpec) (*duckEngine, error) {
	e := &duckEngine{name: "DuckDB int", focus: focus, db: x.db, stmts: map[*QuerySpec]*sql.Stmt{}}
	if focus {
		e.name = "DuckDB FOCUS"
	}
	for _, q := range qs {
		sqlText := q.DuckInt
		if focus {
			sqlText = q.DuckFocus
		}
		st, err := x.db.PrepareContext(ctx, sqlText)
		if err != nil {
			return nil, fmt.Errorf("prepare %s: %w", sqlText, err)
		}
		e.stmts[q] = st
	}
	return e, nil
}

type duckResult struct {
	cols []string
	rows [][]any
}

// Run executes the statement and fetches every row into Go values.
func (e *duckEngine) Run(ctx context.Context, q *QuerySpec) (any, error) {
	rows, err := e.stmts[q].QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &duckResult{cols: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		res.rows = append(res.rows, vals)
	}
	return res, rows.Err()
}

// decodeDuck maps codes (li_int) or SQL values (li_focus) to the string
// keys costgate returns; the last two columns are the sum and the count.
func decodeDuck(d *Dicts, raw any) (Result, error) {
	res := raw.(*duckResult)
	nk := len(res.cols) - 2
	out := make(Result, 0, len(res.rows))
	for _, vals := range res.rows {
		r := Row{Keys: make([]string, nk)}
		for k := range nk {
			key, err := duckKey(d, res.cols[k], vals[k])
			if err != nil {
				return nil, err
			}
			r.Keys[k] = key
		}
		var err error
		if r.Sum, err = toSum(vals[nk]); err != nil {
			return nil, err
		}
		r.Count = int64(toInt(vals[nk+1]))
		out = append(out, r)
	}
	return out, nil
}

func duckKey(d *Dicts, col string, v any) (string, error) {
	if v == nil {
		return "", nil // NULL tag: untagged groups under ""
	}
	switch col {
	case "service_id":
		return d.Services[toInt(v)], nil
	case "resource_id":
		return d.Resources[toInt(v)], nil
	case "month_id":
		return monthNames[toInt(v)], nil
	case "account_id":
		return d.Accounts[toInt(v)], nil
	case "day_id":
		return d.Days[toInt(v)], nil
	case "team_id":
		return d.Teams[toInt(v)], nil
	case "m":
		return v.(time.Time).UTC().Format("2006-01"), nil
	case "d":
		return v.(time.Time).UTC().Format(time.DateOnly), nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("column %s: unexpected %T", col, v)
}

func toInt(v any) int {
	switch x := v.(type) {
	case uint8:
		return int(x)
	case uint16:
		return int(x)
	case uint32:
		return int(x)
	case int64:
		return int(x)
	case int32:
		return int(x)
	case uint64:
		return int(x)
	}
	panic(fmt.Sprintf("unexpected integer type %T", v))
}

// toSum converts an exact DuckDB sum (HUGEINT of nano-units, or DECIMAL
// with scale 9) to a costgate.Sum. Never through a float.
func toSum(v any) (costgate.Sum, error) {
	switch x := v.(type) {
	case *big.Int:
		return bigToSum(x)
	case duckdb.Decimal:
		if x.Scale != 9 {
			return costgate.Sum{}, fmt.Errorf("DECIMAL scale %d, want 9", x.Scale)
		}
		return bigToSum(x.Value)
	case int64:
		return bigToSum(big.NewInt(x))
	}
	return costgate.Sum{}, fmt.Errorf("sum of unexpected type %T", v)
}
