package aws

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/pricing"
)

// DBInstance is an RDS DB instance (or Aurora cluster instance) in typed
// attributes.
type DBInstance struct {
	Class string
	// Engine is the price list's name: MySQL, PostgreSQL, MariaDB,
	// Aurora MySQL, Aurora PostgreSQL, Oracle, SQL Server.
	Engine        string
	EngineVersion string
	MultiAZ       bool
	// Storage: the API type (gp2, gp3, io1, io2, standard); none for
	// Aurora, whose storage is billed on the cluster.
	StorageType string
	StorageGB   int64
	IOPS        int64
}

var rdsStorage = map[string]struct{ volumeType, label string }{
	"gp2":      {"General Purpose", "general purpose SSD, gp2"},
	"gp3":      {"General Purpose-GP3", "general purpose SSD, gp3"},
	"io1":      {"Provisioned IOPS", "provisioned IOPS SSD, io1"},
	"io2":      {"Provisioned IOPS-IO2", "provisioned IOPS SSD, io2"},
	"standard": {"Magnetic", "magnetic"},
}

func deployment(multiAZ bool) string {
	if multiAZ {
		return "Multi-AZ"
	}
	return "Single-AZ"
}

// dbInstanceComponents prices instance hours, storage, provisioned IOPS
// and RDS Extended Support when the engine version is past its end of
// standard support on the given day.
func dbInstanceComponents(p pricing.Pricer, region string, db DBInstance, now time.Time) ([]costgate.CostComponent, []string, error) {
	var notes []string
	dep := deployment(db.MultiAZ)
	inst := pricing.Line{
		Name:     fmt.Sprintf("Database instance (on-demand, %s, %s)", dep, db.Class),
		Unit:     "hours",
		Quantity: pricing.Hours(1),
		Query:    q("AmazonRDS", region, "hour", map[string]string{"instanceType": db.Class, "databaseEngine": db.Engine, "deploymentOption": dep}),
	}
	c, err := p.Component(inst)
	if err != nil && db.MultiAZ && errors.Is(err, costgate.ErrUnpriced) {
		// A Multi-AZ instance with one standby costs twice the Single-AZ
		// one; use that when the catalog lacks the Multi-AZ price.
		single := inst
		single.Query = q("AmazonRDS", region, "hour", map[string]string{"instanceType": db.Class, "databaseEngine": db.Engine, "deploymentOption": "Single-AZ"})
		single.Quantity = pricing.Hours(2)
		if c, err = p.Component(single); err == nil {
			c.Name, c.MonthlyQuantity, c.ListUnitPrice, c.UnitPrice = inst.Name, pricing.Hours(1), c.ListUnitPrice.MulInt(2), c.UnitPrice.MulInt(2)
			notes = append(notes, "Multi-AZ instance priced at twice the Single-AZ price")
		}
	}
	if err != nil {
		return nil, nil, err
	}
	out := []costgate.CostComponent{c}
	if db.StorageType != "" {
		st, ok := rdsStorage[db.StorageType]
		if !ok {
			return nil, nil, pricing.Unpriced("RDS storage type %q is not known", db.StorageType)
		}
		c, err := p.Component(pricing.Line{
			Name: fmt.Sprintf("Storage (%s)", st.label), Unit: "GB", Quantity: pricing.Qty(db.StorageGB),
			Query: q("AmazonRDS", region, "GB-month", map[string]string{"productFamily": "Database Storage", "volumeType": st.volumeType, "deploymentOption": dep}),
		})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
		if (db.StorageType == "io1" || db.StorageType == "io2") && db.IOPS > 0 {
			c, err := p.Component(pricing.Line{
				Name: "Provisioned IOPS", Unit: "IOPS", Quantity: pricing.Qty(db.IOPS),
				Query: q("AmazonRDS", region, "IOPS-month", map[string]string{"productFamily": "Provisioned IOPS", "deploymentOption": dep}),
			})
			if err != nil {
				return nil, nil, err
			}
			out = append(out, c)
		}
	}
	if year, ok := extendedSupportYear(db.Engine, db.EngineVersion, now); ok {
		vcpus := classVCPUs(db.Class)
		if vcpus == 0 {
			return nil, nil, pricing.Unpriced("%s %s is in RDS Extended Support, but the vCPU count of %s is not known", db.Engine, db.EngineVersion, db.Class)
		}
		n := int64(vcpus)
		if db.MultiAZ {
			n *= 2
		}
		c, err := p.Component(pricing.Line{
			Name: fmt.Sprintf("Extended support (year %s)", year), Unit: "vCPU-hours", Quantity: pricing.Hours(n),
			Query: q("AmazonRDS", region, "vCPU-hour", map[string]string{"productFamily": "Extended Support", "databaseEngine": db.Engine, "supportYear": year}),
		})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
		notes = append(notes, fmt.Sprintf("%s %s is past its end of standard support: RDS Extended Support is charged", db.Engine, db.EngineVersion))
	}
	return out, notes, nil
}

// endOfStandardSupport lists the RDS major versions whose standard
// support has ended or is announced to end (AWS RDS documentation,
// "Amazon RDS Extended Support"). Extended Support bills from the next
// day: years 1-2 at one rate, year 3 at twice it. Aurora's Extended
// Support is not listed: the catalog has no price for it yet.
var endOfStandardSupport = map[string]string{
	"MySQL/5.7":     "2024-02-29",
	"MySQL/8.0":     "2026-07-31",
	"PostgreSQL/11": "2024-02-29",
	"PostgreSQL/12": "2025-02-28",
	"PostgreSQL/13": "2026-02-28",
}

// extendedSupportYear returns "1-2" or "3" when the engine version is in
// Extended Support on day now.
func extendedSupportYear(engine, version string, now time.Time) (string, bool) {
	major := majorVersion(engine, version)
	end, ok := endOfStandardSupport[engine+"/"+major]
	if !ok || end == "" {
		return "", false
	}
	t, err := time.Parse(time.DateOnly, end)
	if err != nil {
		return "", false
	}
	start := t.AddDate(0, 0, 1) // the first day of Extended Support
	if now.Before(start) {
		return "", false
	}
	if now.Before(start.AddDate(2, 0, 0)) {
		return "1-2", true
	}
	return "3", true
}

// majorVersion: MySQL "5.7.19" -> "5.7"; PostgreSQL "11.22" -> "11";
// Aurora MySQL "5.7.mysql_aurora.2.11.2" -> "5.7".
func majorVersion(engine, v string) string {
	parts := strings.Split(v, ".")
	if len(parts) == 0 || parts[0] == "" {
		return ""
	}
	if strings.Contains(engine, "PostgreSQL") {
		if n, err := strconv.Atoi(parts[0]); err == nil && n >= 10 {
			return parts[0]
		}
	}
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return parts[0]
}

// classVCPUs gives the vCPUs of a DB instance class from its size
// (db.t3.micro: 2, db.m5.xlarge: 4, db.r5.4xlarge: 16).
func classVCPUs(class string) int {
	parts := strings.Split(class, ".")
	if len(parts) != 3 {
		return 0
	}
	fam, size := parts[1], parts[2]
	switch size {
	case "micro", "small":
		if strings.HasPrefix(fam, "t2") {
			return 1
		}
		return 2
	case "medium", "large":
		return 2
	case "xlarge":
		return 4
	}
	if n, ok := strings.CutSuffix(size, "xlarge"); ok {
		if k, err := strconv.Atoi(n); err == nil {
			return 4 * k
		}
	}
	return 0
}
