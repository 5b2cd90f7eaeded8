package aws

import (
	"strings"

	"github.com/costgate/costgate/pricing"
)

// rdsEngine maps Terraform engine names to the price list's.
var rdsEngine = map[string]string{
	"mysql": "MySQL", "postgres": "PostgreSQL", "mariadb": "MariaDB",
	"aurora": "Aurora MySQL", "aurora-mysql": "Aurora MySQL", "aurora-postgresql": "Aurora PostgreSQL",
	"oracle-se2": "Oracle", "oracle-ee": "Oracle", "sqlserver-ex": "SQL Server", "sqlserver-web": "SQL Server",
	"sqlserver-se": "SQL Server", "sqlserver-ee": "SQL Server",
}

func engineName(e string) (string, error) {
	if n, ok := rdsEngine[strings.ToLower(e)]; ok {
		if n == "Oracle" || n == "SQL Server" {
			return "", pricing.Unpriced("engine %s needs edition and license model prices, which the catalog does not have", e)
		}
		return n, nil
	}
	return "", pricing.Unpriced("RDS engine %q is not known", e)
}

// dbInstanceSide maps aws_db_instance.
func dbInstanceSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	class, err := s.Need("instance_class")
	if err != nil {
		return nil, err
	}
	eng, err := s.Need("engine")
	if err != nil {
		return nil, err
	}
	db := DBInstance{Class: class, EngineVersion: s.StrOr("engine_version", "")}
	if db.Engine, err = engineName(eng); err != nil {
		return nil, err
	}
	db.MultiAZ, _ = s.Bool("multi_az")
	res := &pricing.Result{}
	db.StorageType = s.StrOr("storage_type", "")
	if db.StorageType == "" {
		db.StorageType = "gp2"
		res.Assumptions = append(res.Assumptions, "storage_type not known: priced as gp2")
	}
	if n, ok := s.Int("allocated_storage"); ok {
		db.StorageGB = n
	} else {
		return nil, pricing.Unpriced("allocated_storage is not known")
	}
	db.IOPS, _ = s.Int("iops")
	var notes []string
	res.Components, notes, err = dbInstanceComponents(env.Pricer, region, db, env.Now)
	res.Assumptions = append(res.Assumptions, notes...)
	return res, err
}

// rdsClusterInstanceSide maps aws_rds_cluster_instance: the instance
// only; Aurora storage and I/O are billed on the cluster.
func rdsClusterInstanceSide(env *pricing.Env, s pricing.Side) (*pricing.Result, error) {
	region, err := needRegion(s)
	if err != nil {
		return nil, err
	}
	class, err := s.Need("instance_class")
	if err != nil {
		return nil, err
	}
	db := DBInstance{Class: class, EngineVersion: s.StrOr("engine_version", "")}
	if db.Engine, err = engineName(s.StrOr("engine", "aurora-mysql")); err != nil {
		return nil, err
	}
	if db.Engine == "Aurora MySQL" || db.Engine == "Aurora PostgreSQL" {
		db.EngineVersion = "" // Aurora Extended Support is not in the catalog
	}
	res := &pricing.Result{}
	var notes []string
	res.Components, notes, err = dbInstanceComponents(env.Pricer, region, db, env.Now)
	res.Assumptions = append(res.Assumptions, notes...)
	return res, err
}
