package reports

import (
	"fmt"
	"math"
	"strconv"

	"github.com/go-analyze/charts"

	"github.com/costgate/costgate"
)

// Chart is one rendered PNG chart. HTML refers to it as cid:CID in mail
// and as Name in the --out directory.
type Chart struct {
	Name string // file name, e.g. "trend.png"
	CID  string // Content-ID without angle brackets
	Alt  string
	PNG  []byte
	// Width and Height are the image's size in pixels.
	Width, Height int
}

// Chart size: one email column.
const (
	chartWidth  = 640
	chartHeight = 280
)

// Colours shared by the charts and the HTML.
var (
	colorCurrent  = charts.Color{R: 37, G: 99, B: 235, A: 255}   // blue
	colorPrevious = charts.Color{R: 156, G: 163, B: 175, A: 255} // grey
	colorForecast = charts.Color{R: 245, G: 158, B: 11, A: 255}  // amber
	colorBudget   = charts.Color{R: 16, G: 185, B: 129, A: 255}  // green
)

func chartTheme(series ...charts.Color) charts.ColorPalette {
	return charts.GetTheme(charts.ThemeLight).WithSeriesColors(series)
}

// renderCharts draws the report's charts in the order the HTML shows
// them: the daily trend, the budget bars (when there are budgets) and the
// service breakdown.
func renderCharts(r *Report, cidDomain string) ([]Chart, error) {
	var out []Chart
	add := func(name, alt string, h int, draw func(p *charts.Painter) error) error {
		p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputPNG, Width: chartWidth, Height: h})
		if err := draw(p); err != nil {
			return fmt.Errorf("chart %s: %w", name, err)
		}
		b, err := p.Bytes()
		if err != nil {
			return fmt.Errorf("chart %s: %w", name, err)
		}
		out = append(out, Chart{Name: name, CID: name + "@" + cidDomain, Alt: alt, PNG: b, Width: chartWidth, Height: h})
		return nil
	}
	if err := add("trend.png", "Daily spend in "+r.Month.String()+" against "+r.Month.Prev().String(), chartHeight, func(p *charts.Painter) error {
		return p.LineChart(trendOption(r))
	}); err != nil {
		return nil, err
	}
	if len(r.Budgets) > 0 {
		h := 80 + 46*len(r.Budgets)
		if err := add("budgets.png", "Spend and forecast against budget by team", h, func(p *charts.Painter) error {
			return p.BarChart(budgetOption(r))
		}); err != nil {
			return nil, err
		}
	}
	if svc := topLines(r.ByService, 8); len(svc) > 0 {
		h := 60 + 34*len(svc)
		if err := add("services.png", "Spend by service", h, func(p *charts.Painter) error {
			return p.BarChart(servicesOption(svc, r.Month))
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// axisMoney formats an axis value compactly ("12k", "1.5M").
func axisMoney(f float64) string {
	a := math.Abs(f)
	switch {
	case a >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', -1, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(math.Round(f/100)/10, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(math.Round(f), 'f', -1, 64)
}

func trendOption(r *Report) charts.LineChartOption {
	n := len(r.Daily)
	cur := make([]float64, n)
	prev := make([]float64, n)
	fc := make([]float64, n)
	labels := make([]string, n)
	hasFC := r.Forecast != nil
	for i := 0; i < n; i++ {
		labels[i] = strconv.Itoa(i + 1)
		cur[i], prev[i], fc[i] = charts.GetNullValue(), charts.GetNullValue(), charts.GetNullValue()
		if p := r.Daily[i]; p.HasData && (!hasFC || i < r.Forecast.CompleteDays) {
			cur[i] = p.Total.Float64()
		}
		if i < len(r.PrevDaily) && r.PrevDaily[i].HasData {
			prev[i] = r.PrevDaily[i].Total.Float64()
		}
		if hasFC && i >= r.Forecast.CompleteDays-1 {
			fc[i] = r.Forecast.DailyRate.Float64()
			if i == r.Forecast.CompleteDays-1 {
				fc[i] = cur[i] // join the forecast to the last complete day
			}
		}
	}
	series := [][]float64{cur, prev}
	names := []string{r.Month.String(), r.Month.Prev().String()}
	colors := []charts.Color{colorCurrent, colorPrevious}
	if hasFC {
		series = append(series, fc)
		names = append(names, "run rate")
		colors = append(colors, colorForecast)
	}
	opt := charts.NewLineChartOptionWithData(series)
	opt.Theme = chartTheme(colors...)
	opt.XAxis.Labels = labels
	opt.XAxis.LabelCount = 11
	opt.Legend.SeriesNames = names
	opt.Legend.Align = charts.AlignRight
	opt.Legend.Symbol = charts.SymbolSquare
	opt.Symbol = charts.Symbol{Shape: charts.SymbolNone}
	opt.LineStrokeWidth = 2
	opt.Padding = charts.Box{Top: 16, Right: 24, Bottom: 12, Left: 12}
	opt.YAxis = []charts.YAxisOption{{Min: charts.Ptr(0.0), ValueFormatter: axisMoney}}
	opt.Title.Text = "Daily spend"
	opt.Title.FontStyle.FontSize = 13
	return opt
}

// topLines returns the n largest lines by current spend and one "other"
// line for the rest (exact sums; floats only for the bars).
func topLines(lines []Line, n int) []Line {
	var pos []Line
	for _, l := range lines {
		if l.Current.Sign() > 0 {
			pos = append(pos, l)
		}
	}
	if len(pos) <= n {
		return pos
	}
	out := append([]Line(nil), pos[:n-1]...)
	other := Line{Label: fmt.Sprintf("%d others", len(pos)-(n-1))}
	for _, l := range pos[n-1:] {
		other.Current.AddSum(l.Current)
		other.Previous.AddSum(l.Previous)
	}
	return append(out, other)
}

func servicesOption(svc []Line, m costgate.Month) charts.BarChartOption {
	cur := make([]float64, len(svc))
	prev := make([]float64, len(svc))
	labels := make([]string, len(svc))
	// Horizontal bars draw the first category at the bottom: reverse so
	// the largest is on top.
	for i, l := range svc {
		j := len(svc) - 1 - i
		cur[j], prev[j] = l.Current.Float64(), l.Previous.Float64()
		labels[j] = shorten(l.Label, 30)
	}
	opt := charts.NewBarChartOptionWithData([][]float64{cur, prev})
	opt.Horizontal = true
	opt.Theme = chartTheme(colorCurrent, colorPrevious)
	opt.CategoryAxis.Labels = labels
	opt.ValueAxis = []charts.ValueAxisOption{{Min: charts.Ptr(0.0), ValueFormatter: axisMoney}}
	opt.Legend.SeriesNames = []string{m.String(), m.Prev().String()}
	opt.Legend.Align = charts.AlignRight
	opt.Legend.Symbol = charts.SymbolSquare
	opt.Padding = charts.Box{Top: 16, Right: 24, Bottom: 12, Left: 12}
	opt.Title.Text = "Spend by service"
	opt.Title.FontStyle.FontSize = 13
	opt.BarSize = 11
	opt.BarMargin = charts.Ptr(2.0)
	return opt
}

func budgetOption(r *Report) charts.BarChartOption {
	n := len(r.Budgets)
	actual := make([]float64, n)
	forecast := make([]float64, n)
	budget := make([]float64, n)
	labels := make([]string, n)
	for i, b := range r.Budgets {
		j := n - 1 - i
		actual[j], forecast[j], budget[j] = b.Actual.Float64(), b.Forecast.Float64(), b.Budget.Float64()
		labels[j] = shorten(b.Team, 24)
	}
	// A closed month's forecast is its actual: no third bar then.
	data := [][]float64{actual, forecast, budget}
	names := []string{"actual", "forecast", "budget"}
	colors := []charts.Color{colorCurrent, colorForecast, colorBudget}
	if !r.Open {
		data = [][]float64{actual, budget}
		names = []string{"actual", "budget"}
		colors = []charts.Color{colorCurrent, colorBudget}
	}
	opt := charts.NewBarChartOptionWithData(data)
	opt.Horizontal = true
	opt.Theme = chartTheme(colors...)
	opt.CategoryAxis.Labels = labels
	opt.ValueAxis = []charts.ValueAxisOption{{Min: charts.Ptr(0.0), ValueFormatter: axisMoney}}
	opt.Legend.SeriesNames = names
	opt.Legend.Align = charts.AlignRight
	opt.Legend.Symbol = charts.SymbolSquare
	opt.Padding = charts.Box{Top: 16, Right: 24, Bottom: 12, Left: 12}
	opt.Title.Text = "Budgets"
	opt.Title.FontStyle.FontSize = 13
	opt.BarSize = 11
	opt.BarMargin = charts.Ptr(2.0)
	return opt
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
