package breakdown

import (
	"encoding/json"
	"io"

	"github.com/costgate/costgate"
)

// Version is the version of the JSON document.
const Version = 1

// Document is the stable JSON form of an estimate:
//
//	{"version":1, "currency":"USD", "price_snapshot":"...",
//	 "resources":[{"address","type","action","priced","free","usage_based",
//	   "monthly_before","monthly_after","monthly_delta",
//	   "list_monthly_before","list_monthly_after","list_monthly_delta",
//	   "reason","assumptions",
//	   "components":[{"name","subresource","unit","quantity","unit_price","monthly",
//	                  "list_unit_price","list_monthly","usage_based","price_id"}],
//	   "before_components":[...]}],
//	 "total":{"monthly_before","monthly_after","monthly_delta",
//	          "list_monthly_before","list_monthly_after","list_monthly_delta"},
//	 "unpriced":["address", ...]}
//
// Money and quantities are decimal strings; null where unpriced or
// unknown. monthly_* are effective (calibrated to the bill, equal to
// list_* without calibration).
type Document struct {
	Version       int        `json:"version"`
	Currency      string     `json:"currency"`
	PriceSnapshot string     `json:"price_snapshot"`
	Calibration   string     `json:"calibration,omitempty"`
	Resources     []Resource `json:"resources"`
	Total         Total      `json:"total"`
	Unpriced      []string   `json:"unpriced"`
}

// Resource is one resource of the document.
type Resource struct {
	Address           string          `json:"address"`
	Type              string          `json:"type"`
	Action            string          `json:"action"`
	Priced            bool            `json:"priced"`
	Free              bool            `json:"free"`
	UsageBased        bool            `json:"usage_based"`
	MonthlyBefore     *costgate.Money `json:"monthly_before"`
	MonthlyAfter      *costgate.Money `json:"monthly_after"`
	MonthlyDelta      *costgate.Money `json:"monthly_delta"`
	ListMonthlyBefore *costgate.Money `json:"list_monthly_before"`
	ListMonthlyAfter  *costgate.Money `json:"list_monthly_after"`
	ListMonthlyDelta  *costgate.Money `json:"list_monthly_delta"`
	Reason            string          `json:"reason,omitempty"`
	Assumptions       []string        `json:"assumptions,omitempty"`
	Components        []Component     `json:"components"`
	BeforeComponents  []Component     `json:"before_components,omitempty"`
}

// Component is one cost component of the document.
type Component struct {
	Name          string             `json:"name"`
	Subresource   string             `json:"subresource,omitempty"`
	Unit          string             `json:"unit"`
	Quantity      *costgate.Quantity `json:"quantity"`
	UnitPrice     costgate.Rate      `json:"unit_price"`
	Monthly       *costgate.Money    `json:"monthly"`
	ListUnitPrice costgate.Rate      `json:"list_unit_price"`
	ListMonthly   *costgate.Money    `json:"list_monthly"`
	UsageBased    bool               `json:"usage_based"`
	UsageSource   string             `json:"usage_source,omitempty"`
	PriceID       string             `json:"price_id,omitempty"`
}

// Total is the plan totals of the document.
type Total struct {
	MonthlyBefore     costgate.Money `json:"monthly_before"`
	MonthlyAfter      costgate.Money `json:"monthly_after"`
	MonthlyDelta      costgate.Money `json:"monthly_delta"`
	ListMonthlyBefore costgate.Money `json:"list_monthly_before"`
	ListMonthlyAfter  costgate.Money `json:"list_monthly_after"`
	ListMonthlyDelta  costgate.Money `json:"list_monthly_delta"`
}

// NewDocument converts an estimate to the JSON document.
func NewDocument(est *costgate.PlanEstimate) Document {
	d := Document{Version: Version, Currency: est.Currency, PriceSnapshot: est.PriceSnapshot, Calibration: est.Calibration,
		Resources: make([]Resource, 0, len(est.Resources)), Unpriced: est.Unpriced,
		Total: Total{est.MonthlyBefore, est.MonthlyAfter, est.MonthlyDelta, est.ListMonthlyBefore, est.ListMonthlyAfter, est.ListMonthlyDelta}}
	if d.Unpriced == nil {
		d.Unpriced = []string{}
	}
	for _, r := range est.Resources {
		d.Resources = append(d.Resources, Resource{
			Address: r.Address, Type: r.Type, Action: r.Action, Priced: r.Priced, Free: r.Free, UsageBased: r.UsageBased,
			MonthlyBefore: r.MonthlyBefore, MonthlyAfter: r.MonthlyAfter, MonthlyDelta: r.MonthlyDelta,
			ListMonthlyBefore: r.ListMonthlyBefore, ListMonthlyAfter: r.ListMonthlyAfter, ListMonthlyDelta: r.ListMonthlyDelta,
			Reason: r.Reason, Assumptions: r.Assumptions,
			Components: components(r.Components), BeforeComponents: components(r.BeforeComponents),
		})
	}
	return d
}

func components(cs []costgate.CostComponent) []Component {
	if cs == nil {
		return nil
	}
	out := make([]Component, 0, len(cs))
	for _, c := range cs {
		out = append(out, Component{Name: c.Name, Subresource: c.Subresource, Unit: c.Unit, Quantity: c.MonthlyQuantity,
			UnitPrice: c.UnitPrice, Monthly: c.Monthly, ListUnitPrice: c.ListUnitPrice, ListMonthly: c.ListMonthly,
			UsageBased: c.UsageBased, UsageSource: c.UsageSource, PriceID: c.PriceID})
	}
	return out
}

type jsonWriter struct{ w io.Writer }

func (j *jsonWriter) Write(est *costgate.PlanEstimate) error {
	enc := json.NewEncoder(j.w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewDocument(est))
}
