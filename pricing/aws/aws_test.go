package aws

import (
	"testing"
	"time"

	"github.com/costgate/costgate/pricing"
)

// The pricing files take typed attributes: no plan values here.
func TestInstanceAndVolumeMath(t *testing.T) {
	p := pricing.NewPricer(pricing.Default())
	cs, err := instanceComponents(p, "us-east-1", Instance{Type: "m5.4xlarge", OS: "Linux", Tenancy: "Shared", Count: 2,
		Volumes: []Volume{{Subresource: "root", Type: "io1", SizeGB: 100, IOPS: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1121.28", "25", "130"} // 2 × 730 × 0.768; 2 × 100 × 0.125; 2 × 1000 × 0.065
	if len(cs) != len(want) {
		t.Fatalf("%d components", len(cs))
	}
	for i, c := range cs {
		if c.ListMonthly.String() != want[i] {
			t.Errorf("%s = %s, want %s", c.Name, c.ListMonthly, want[i])
		}
	}
	if _, err := instanceComponents(p, "us-east-1", Instance{Type: "m5.large", OS: "Linux", Tenancy: "Shared", Count: 2, Spot: 1}); err == nil {
		t.Error("spot priced")
	}
	if _, err := volumeComponents(p, "us-east-1", Volume{Type: "gp9", SizeGB: 1}); err == nil {
		t.Error("unknown volume type priced")
	}
}

func TestExtendedSupport(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	cases := []struct {
		engine, version, now, want string
		ok                         bool
	}{
		{"MySQL", "5.7.19", "2024-02-29", "", false},
		{"MySQL", "5.7.19", "2024-03-01", "1-2", true},
		{"MySQL", "5.7", "2026-02-28", "1-2", true},
		{"MySQL", "5.7", "2026-03-01", "3", true},
		{"MySQL", "8.0.36", "2025-06-01", "", false},
		{"MySQL", "8.0.36", "2026-08-01", "1-2", true},
		{"PostgreSQL", "11.22", "2025-06-01", "1-2", true},
		{"PostgreSQL", "16.3", "2026-11-20", "", false},
		{"MariaDB", "10.4", "2026-11-20", "", false},
	}
	for _, c := range cases {
		got, ok := extendedSupportYear(c.engine, c.version, day(c.now))
		if got != c.want || ok != c.ok {
			t.Errorf("%s %s on %s = %q %v, want %q %v", c.engine, c.version, c.now, got, ok, c.want, c.ok)
		}
	}
	for class, want := range map[string]int{"db.t3.micro": 2, "db.t2.micro": 1, "db.m5.large": 2, "db.r5.xlarge": 4, "db.m5.4xlarge": 16, "db.x": 0} {
		if got := classVCPUs(class); got != want {
			t.Errorf("classVCPUs(%s) = %d, want %d", class, got, want)
		}
	}
}
