package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Output file names in an --out directory.
const (
	FileHTML = "report.html"
	FileText = "report.txt"
	FileCSV  = "report.csv"
)

// DefaultCIDDomain is the right-hand side of the charts' Content-IDs.
const DefaultCIDDomain = "report.costgate"

// Rendered is a report in every output form.
type Rendered struct {
	Report  *Report
	Subject string
	// MailHTML refers to the charts as cid:CID; FileHTML by file name,
	// for a browser opening the --out directory.
	MailHTML []byte
	FileHTML []byte
	Text     []byte
	CSV      []byte
	Charts   []Chart
}

// htmlTemplate is parsed when a report is first rendered, not when the
// binary starts: every costgate command paid 2.5 ms for it.
var htmlTemplate = sync.OnceValue(func() *template.Template { return parseHTMLTemplate() })

func parseHTMLTemplate() *template.Template {
	return template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"money":       money,
		"moneyM":      moneyM,
		"signed":      signed,
		"pct":         pctText,
		"share":       shareText,
		"percent":     percentText,
		"errorPct":    errorText,
		"monthTitle":  monthTitle,
		"date":        func(t time.Time) string { return t.Format(time.DateOnly) },
		"datetime":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"dcolor":      deltaStyle,
		"statusColor": statusColor,
		"statusStyle": func(s string) template.CSS { return template.CSS("color:" + string(statusColor(s)) + ";") },
		"complianceStyle": func(p float64) template.CSS {
			switch {
			case p < 80:
				return "color:#b91c1c;"
			case p < 95:
				return "color:#b45309;"
			}
			return "color:#047857;"
		},
		"barWidth": func(p float64) int { return int(math.Round(math.Min(math.Max(p, 0), 100))) },
		"barRest":  func(p float64) int { return 100 - int(math.Round(math.Min(math.Max(p, 0), 100))) },
		"forecastLabel": func(r *Report) string {
			if r.Open {
				return "Forecast"
			}
			return "Month end"
		},
		"head": func(l []Line, n int) []Line { return l[:min(n, len(l))] },
		"more": func(l []Line, n int) int { return max(0, len(l)-n) },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"outcome": func(m map[costgate.Outcome]int, o string) int { return m[costgate.Outcome(o)] },
	}).ParseFS(templateFS, "templates/report.html.tmpl"))
}

// deltaStyle colours a change: more spend red, less green.
func deltaStyle(d costgate.Sum) template.CSS {
	switch d.Sign() {
	case 1:
		return "color:#b91c1c;"
	case -1:
		return "color:#047857;"
	}
	return "color:#4b5563;"
}

func statusColor(s string) template.CSS {
	switch s {
	case BudgetOver:
		return "#dc2626"
	case BudgetAtRisk:
		return "#f59e0b"
	}
	return "#10b981"
}

// htmlView is the template's data.
type htmlView struct {
	R        *Report
	Currency string
	Charts   []Chart
	mail     bool
}

// Chart returns the named chart, or nil when it was not drawn.
func (v htmlView) Chart(name string) *Chart {
	for i := range v.Charts {
		if v.Charts[i].Name == name {
			return &v.Charts[i]
		}
	}
	return nil
}

// Src is an image's src: cid:CID in mail, the file name on disk.
func (v htmlView) Src(c *Chart) template.URL {
	if v.mail {
		return template.URL("cid:" + c.CID)
	}
	return template.URL(c.Name)
}

// DailyAverage is the closed month's total over its days.
func (v htmlView) DailyAverage() costgate.Sum {
	avg, _ := mulDiv(v.R.Total, 1, int64(max(1, len(v.R.Daily))))
	return avg
}

// Render renders r as HTML (mail and file forms), text and CSV, with its
// charts.
func Render(r *Report) (*Rendered, error) {
	charts, err := renderCharts(r, DefaultCIDDomain)
	if err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	out := &Rendered{Report: r, Subject: r.Subject(), Charts: charts}
	cur := r.currency()
	if cur == "" {
		cur = "mixed currencies"
	}
	for _, mail := range []bool{true, false} {
		var buf bytes.Buffer
		if err := htmlTemplate().Execute(&buf, htmlView{R: r, Currency: cur, Charts: charts, mail: mail}); err != nil {
			return nil, fmt.Errorf("render report html: %w", err)
		}
		if mail {
			out.MailHTML = buf.Bytes()
		} else {
			out.FileHTML = buf.Bytes()
		}
	}
	if out.Text, err = renderText(r); err != nil {
		return nil, fmt.Errorf("render report text: %w", err)
	}
	if out.CSV, err = renderCSV(r); err != nil {
		return nil, fmt.Errorf("render report csv: %w", err)
	}
	return out, nil
}

// WriteDir writes report.html, report.txt, report.csv and the chart PNGs
// into dir (created when missing). Each file is written to a temporary
// name and renamed, so a reader never sees half a file.
func (x *Rendered) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	files := []struct {
		name string
		data []byte
	}{{FileHTML, x.FileHTML}, {FileText, x.Text}, {FileCSV, x.CSV}}
	for _, c := range x.Charts {
		files = append(files, struct {
			name string
			data []byte
		}{c.Name, c.PNG})
	}
	for _, f := range files {
		if err := writeAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return nil
}

// Files lists the names WriteDir writes.
func (x *Rendered) Files() []string {
	names := []string{FileHTML, FileText, FileCSV}
	for _, c := range x.Charts {
		names = append(names, c.Name)
	}
	return names
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
