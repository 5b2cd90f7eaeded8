package google

import (
	"strings"

	"github.com/costgate/costgate/pricing"
)

// sqlInstanceSide maps google_sql_database_instance (usage:
// backup_storage_gb). SQL Server and Enterprise Plus licences are not
// included.
func sqlInstanceSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	st, ok := s.Block("settings")
	if !ok {
		return nil, pricing.Unpriced("settings is not known")
	}
	tier, err := st.Need("tier")
	if err != nil {
		return nil, err
	}
	in, err := ParseSQLTier(tier)
	if err != nil {
		return nil, err
	}
	res := &pricing.Result{}
	in.Regional = st.StrOr("availability_type", "ZONAL") == "REGIONAL"
	in.DiskType = st.StrOr("disk_type", "PD_SSD")
	if in.DiskType != "PD_SSD" && in.DiskType != "PD_HDD" {
		res.Assumptions = append(res.Assumptions, "disk_type "+in.DiskType+" is not known: priced as PD_SSD")
		in.DiskType = "PD_SSD"
	}
	in.DiskGB = 10
	if n, ok := st.Int("disk_size"); ok && n > 0 {
		in.DiskGB = n
	}
	if v := s.StrOr("database_version", ""); strings.HasPrefix(v, "SQLSERVER") {
		res.Assumptions = append(res.Assumptions, "the SQL Server licence is not included")
	}
	in.BackupGB, _ = env.Usage.Quantity("backup_storage_gb")
	in.UsageSource = env.Usage.Source
	res.Components, err = sqlComponents(env.Pricer, region, in)
	return res, err
}
