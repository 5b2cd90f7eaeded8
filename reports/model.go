package reports

import (
	"time"

	"github.com/costgate/costgate"
)

// ReportVersion is the version of the report model (and of report.csv's
// columns).
const ReportVersion = 1

// Report is one month's cost report for the company or for one team. Every
// amount is an exact costgate.Sum computed by the store; floats appear
// only as display ratios (shares and percentages).
type Report struct {
	Version int            `json:"version"`
	Month   costgate.Month `json:"month"`
	// Team is the team of a team report; "" for the company report.
	Team    string `json:"team,omitempty"`
	TeamTag string `json:"team_tag"`
	EnvTag  string `json:"env_tag"`
	// Measure is the summed cost column (EffectiveCost by default).
	Measure costgate.Measure `json:"measure"`
	// Currencies are the billing currencies of the month's line items;
	// more than one means the totals add different currencies.
	Currencies []string `json:"currencies"`
	// GeneratedAt is the injected clock's time.
	GeneratedAt time.Time `json:"generated_at"`
	// Generation is the store generation read (0 when unknown).
	Generation uint64 `json:"generation"`

	// Open is true while the month is not over at GeneratedAt: Total is
	// month to date and comparisons use the same days of earlier months.
	Open bool `json:"open"`
	// DataThrough is the last day of the month that has line items (zero
	// when there are none).
	DataThrough time.Time `json:"data_through"`

	Total    costgate.Sum `json:"total"`
	Previous Comparison   `json:"previous"`
	YearAgo  Comparison   `json:"year_ago"`
	// Forecast is the month-end forecast of an open month (nil when the
	// month is closed or has no complete day yet).
	Forecast *Forecast `json:"forecast,omitempty"`

	// Daily is one point per day of the month; PrevDaily the previous
	// month's days for the chart's second line.
	Daily     []DayPoint `json:"daily"`
	PrevDaily []DayPoint `json:"prev_daily"`

	// Breakdowns, largest first, with the previous period and deltas.
	ByTeam    []Line `json:"by_team,omitempty"` // company report only
	ByAccount []Line `json:"by_account"`
	ByService []Line `json:"by_service"`
	ByEnv     []Line `json:"by_env"`

	ServiceMovers  Movers `json:"service_movers"`
	ResourceMovers Movers `json:"resource_movers"`
	// TopResources are the most expensive resources of the month.
	TopResources []Line `json:"top_resources"`

	Compliance Compliance   `json:"compliance"`
	Budgets    []BudgetLine `json:"budgets"`
	// Gate is nil when no decision source was given.
	Gate *GateActivity `json:"gate,omitempty"`

	// Notes are caveats shown at the end (mixed currencies, missing data).
	Notes []string `json:"notes,omitempty"`
}

// Period is a span of days [From, To) that a figure covers.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Days returns the number of days in p.
func (p Period) Days() int { return int(p.To.Sub(p.From).Hours() / 24) }

// Comparison is the total of an earlier period and the change to the
// report's total.
type Comparison struct {
	// Available is false when the earlier period has no line items.
	Available bool           `json:"available"`
	Month     costgate.Month `json:"month"`
	// Period is the compared span: the whole month, or for an open month
	// its first days.
	Period Period       `json:"period"`
	Total  costgate.Sum `json:"total"`
	Delta  costgate.Sum `json:"delta"`
	// Pct is Delta / Total in percent (display only); HasPct is false
	// when Total is zero.
	Pct    float64 `json:"pct"`
	HasPct bool    `json:"has_pct"`
}

// Forecast is the month-end projection of an open month: the complete
// days so far plus the run rate of the last (up to seven) complete days
// for the days left.
type Forecast struct {
	Total costgate.Sum `json:"total"`
	// CompleteDays are the days counted as complete (data through the day
	// before GeneratedAt); RateDays how many of them give the run rate.
	CompleteDays int          `json:"complete_days"`
	RateDays     int          `json:"rate_days"`
	DaysInMonth  int          `json:"days_in_month"`
	DailyRate    costgate.Sum `json:"daily_rate"`
}

// DayPoint is one day's spend.
type DayPoint struct {
	Day   time.Time    `json:"day"`
	Total costgate.Sum `json:"total"`
	// HasData is false for days with no line items.
	HasData bool `json:"has_data"`
}

// Line is one row of a breakdown: a key (team, account, service,
// environment or resource), its spend in the report's period and the
// previous one.
type Line struct {
	// Key is the grouped value as stored ("" for untagged or none).
	Key string `json:"key"`
	// Label is what the report shows ("(untagged)", "123456789012
	// prod-core", a resource's name and id).
	Label string `json:"label"`
	// Detail is secondary text: a resource's service, type and account.
	Detail   string       `json:"detail,omitempty"`
	Current  costgate.Sum `json:"current"`
	Previous costgate.Sum `json:"previous"`
	Delta    costgate.Sum `json:"delta"`
	// Pct is Delta / Previous in percent; HasPct is false when Previous
	// is zero (new).
	Pct    float64 `json:"pct"`
	HasPct bool    `json:"has_pct"`
	// Share is Current / the report's total (0..1, display only).
	Share float64 `json:"share"`
}

// Movers are the largest increases and decreases, by delta.
type Movers struct {
	Increases []Line `json:"increases"`
	Decreases []Line `json:"decreases"`
}

// Compliance is tag compliance: spend that lacks a tag.
type Compliance struct {
	// Key is the tag the details below are about: the team tag in the
	// company report, the environment tag in a team report.
	Key string `json:"key"`
	// Untagged is the spend without Key, Share its part of the total.
	Untagged costgate.Sum `json:"untagged"`
	Share    float64      `json:"share"`
	// Keys has the untagged spend of every tag checked (Key first).
	Keys []TagStat `json:"keys"`
	// Largest are the largest resources without Key (line items without a
	// resource, such as fees and credits, are left out).
	Largest []Line `json:"largest"`
	// ByAccount is each account's spend with and without Key.
	ByAccount []AccountCompliance `json:"by_account"`
}

// TagStat is the untagged spend of one tag key.
type TagStat struct {
	Key      string       `json:"key"`
	Untagged costgate.Sum `json:"untagged"`
	Share    float64      `json:"share"`
}

// AccountCompliance is one account's tag compliance.
type AccountCompliance struct {
	Account  string       `json:"account"`
	Label    string       `json:"label"`
	Total    costgate.Sum `json:"total"`
	Untagged costgate.Sum `json:"untagged"`
	// Compliance is the tagged share of Total in percent (100 when Total
	// is zero).
	Compliance float64 `json:"compliance"`
}

// Budget statuses.
const (
	BudgetOK     = "ok"      // forecast within budget
	BudgetAtRisk = "at risk" // forecast over budget, actual within
	BudgetOver   = "over"    // actual over budget
)

// BudgetLine is one team's budget against its spend.
type BudgetLine struct {
	Team   string         `json:"team"`
	Budget costgate.Money `json:"budget"`
	Actual costgate.Sum   `json:"actual"`
	// Forecast is the month-end forecast (Actual for a closed month).
	Forecast costgate.Sum `json:"forecast"`
	// ActualPct and ForecastPct are percentages of Budget (display only).
	ActualPct   float64 `json:"actual_pct"`
	ForecastPct float64 `json:"forecast_pct"`
	Status      string  `json:"status"`
}
