package tabular

import (
	"testing"
	"time"

	"github.com/costgate/costgate"
)

func TestParseNanos(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
		err  bool
	}{
		"integer":            {in: "12", want: "12"},
		"fraction":           {in: "0.00000080000", want: "0.0000008"},
		"eleven digits":      {in: "0.00001605991", want: "0.00001606"},
		"half away (neg)":    {in: "-0.0000000005", want: "-0.000000001"},
		"exponent":           {in: "1.2E-5", want: "0.000012"},
		"plus":               {in: "+3", want: "3"},
		"leading point":      {in: ".5", want: "0.5"},
		"spreadsheet":        {in: "$10,100.00 ", want: "10100"},
		"negative dollars":   {in: "-$1,234.5", want: "-1234.5"},
		"spaces":             {in: " 7 ", want: "7"},
		"bad comma":          {in: "12,5", err: true},
		"comma after point":  {in: "1.2,3", err: true},
		"letters":            {in: "abc", err: true},
		"lone minus":         {in: "-", err: true},
		"lone point":         {in: ".", err: true},
		"overflow":           {in: "99999999999999999999", err: true},
		"big but fits":       {in: "9223372036.854775807", want: "9223372036.854775807"},
		"semicolon":          {in: "12;5", err: true},
		"many leading zeros": {in: "0000000000000000000001.5", want: "1.5"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := ParseNanos([]byte(tc.in))
			if tc.err {
				if err == nil {
					t.Fatalf("%q: no error (got %d)", tc.in, v)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := costgate.Money(v).String(); got != tc.want {
				t.Fatalf("%q: %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzParseNanos: the fast path agrees with costgate.ParseMoney on every
// input ParseMoney takes.
func FuzzParseNanos(f *testing.F) {
	for _, s := range []string{"0", "-1.5", "0.00001605990", "1e-3", "123456789.123456789", "-0.0000000005", ".5", "5."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, merr := costgate.ParseMoney(s)
		fast, ok := fastNanos([]byte(s))
		if ok && (merr != nil || int64(m) != fast) {
			t.Fatalf("%q: fast path %d, ParseMoney %d %v", s, fast, m, merr)
		}
		if merr == nil {
			v, err := ParseNanos([]byte(s))
			if err != nil || v != int64(m) {
				t.Fatalf("%q: ParseNanos %d %v, ParseMoney %d", s, v, err, m)
			}
		}
	})
}

func TestParseTime(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"RFC 3339":        {"2024-09-01T00:00:00Z", "2024-09-01T00:00:00Z"},
		"millis":          {"2023-11-01T00:00:00.000Z", "2023-11-01T00:00:00Z"},
		"nanos":           {"2023-11-01T00:00:00.123456789Z", "2023-11-01T00:00:00.123456789Z"},
		"space, no zone":  {"2024-10-01 00:00:00", "2024-10-01T00:00:00Z"},
		"offset":          {"2024-10-01T02:00:00+02:00", "2024-10-01T00:00:00Z"},
		"offset no colon": {"2024-10-01T00:00:00-0130", "2024-10-01T01:30:00Z"},
		"space UTC":       {"2024-10-01 00:00:00 UTC", "2024-10-01T00:00:00Z"},
		"minutes only":    {"2024-10-01T05:06", "2024-10-01T05:06:00Z"},
		"date":            {"2024-10-01", "2024-10-01T00:00:00Z"},
		"CUR manifest":    {"20231101T000000.000Z", "2023-11-01T00:00:00Z"},
		"compact date":    {"20231101", "2023-11-01T00:00:00Z"},
		"US short":        {"4/1/25", "2025-04-01T00:00:00Z"},
		"US long, time":   {"12/31/2024 23:59:58", "2024-12-31T23:59:58Z"},
		"bad hour":        {"2023-02-01T30:00:00Z", ""},
		"bad day":         {"2024-02-30", ""},
		"bad month":       {"2024-13-01", ""},
		"text":            {"yesterday", ""},
		"US bad":          {"13/1/25", ""},
		"trailing junk":   {"2024-10-01T00:00:00Zx", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := ParseTime([]byte(tc.in))
			if tc.want == "" {
				if err == nil {
					t.Fatalf("%q: no error, got %v", tc.in, v)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Format(time.RFC3339Nano); got != tc.want {
				t.Fatalf("%q: %s, want %s", tc.in, got, tc.want)
			}
			if v.Location() != time.UTC {
				t.Fatalf("%q: location %v", tc.in, v.Location())
			}
		})
	}
}

func TestParseTags(t *testing.T) {
	m, err := ParseTags([]byte(`{"team": "web", "n": 3, "on": true, "x": null}`))
	if err != nil {
		t.Fatal(err)
	}
	if m["team"] != "web" || m["n"] != "3" || m["on"] != "true" || m["x"] != "" || len(m) != 4 {
		t.Fatalf("%v", m)
	}
	for _, bad := range []string{`[1]`, `{"a":`, `"x"`} {
		if _, err := ParseTags([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
