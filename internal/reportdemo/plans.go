package reportdemo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/costgate/costgate"
)

// DemoInventory is what one inventory source reports.
type DemoInventory struct {
	Source    string
	Resources []costgate.Resource
}

// Inventory source names of the demo.
const (
	StateSource   = "terraform-state"
	TaggingSource = "aws-tagging"
)

// terraformTypes maps a demo service (by id prefix) to the Terraform type
// that creates its resources.
var terraformTypes = map[string]string{
	"i-": "aws_instance", "db-": "aws_db_instance", "s3-": "aws_s3_bucket", "eks-": "aws_eks_cluster",
	"fn-": "aws_lambda_function", "cf-": "aws_cloudfront_distribution", "ddb-": "aws_dynamodb_table",
	"ec-": "aws_elasticache_cluster", "elb-": "aws_lb", "cw-": "aws_cloudwatch_log_group", "os-": "aws_opensearch_domain",
	"sqs-": "aws_sqs_queue", "vol-": "aws_ebs_volume", "kms-": "aws_kms_key", "rs-": "aws_redshift_cluster", "kin-": "aws_kinesis_stream",
}

// arnTypes are the services whose billing ResourceId is the id inside
// the ARN (EC2 instances and EBS volumes), so that the demo's plans and
// inventories name them by ARN.
var arnTypes = map[string]string{"i-": "instance", "vol-": "volume"}

const demoProvider = "registry.terraform.io/hashicorp/aws"

// PlanDecisions generates the priced plans the gate judged in month m,
// one per team early in the month, each with per-resource estimates of
// some of the team's resources billed in m, and the inventories that
// match them with billing:
//
//   - updates and no-ops that know the resource's id (EC2 instances and
//     volumes by ARN, as a plan does);
//   - replacements, whose new id the Terraform state inventory gives by
//     address;
//   - creates that are not in the state inventory, which the tagging
//     inventory finds by their unique Name tag;
//   - one canary per team that never shows up in billing.
//
// Estimates are the resource's expected cost in m off by a deterministic
// -20% to +25%. The same Params and month always give the same result;
// a month outside p gives nothing.
func (p Params) PlanDecisions(m costgate.Month) ([]DemoDecision, []DemoInventory) {
	mi := -1
	for i, x := range p.MonthList() {
		if x == m {
			mi = i
		}
	}
	if mi < 0 {
		return nil, nil
	}
	r := rand.New(rand.NewPCG(p.Seed, 0xe571))
	seen := m.End().Add(6 * time.Hour) // the collect run after the month
	state := DemoInventory{Source: StateSource}
	tagging := DemoInventory{Source: TaggingSource}
	byTeam := map[string][]costgate.EstimatedResource{}
	picked := 0
	for a, rs := range p.resources() {
		for _, x := range rs {
			tfType := terraformTypes[x.svc.prefix]
			team := x.tags["team"]
			if mi < x.start || mi > x.end || tfType == "" || team == "" {
				continue
			}
			addr := fmt.Sprintf("module.%s.%s.%s_%s", team, tfType, strings.ToLower(x.svc.resType), x.name[strings.LastIndexByte(x.name, '-')+1:])
			id := x.id
			if t := arnTypes[x.svc.prefix]; t != "" {
				id = fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", x.region, accountID(a), t, x.id)
			}
			tags := map[string]string{"Name": x.name}
			for k, v := range x.tags {
				tags[k] = v
			}
			res := costgate.Resource{Provider: "AWS", AccountID: accountID(a), Region: x.region, ID: id, Type: tfType, Name: addr,
				Tags: tags, FirstSeen: p.From.Start().AddDate(0, 0, x.start*30), LastSeen: seen}
			pick := r.IntN(5) == 0
			kind := picked % 4
			if !pick || kind != 3 {
				state.Resources = append(state.Resources, res)
			}
			tr := res
			tr.Type, tr.Name = x.svc.resType, x.name
			tagging.Resources = append(tagging.Resources, tr)
			if !pick {
				continue
			}
			picked++
			e := costgate.EstimatedResource{Address: addr, Type: tfType, Provider: demoProvider, Region: x.region, Account: accountID(a),
				Monthly: demoEstimate(p.expectedCost(x, mi, m), 0.8+0.45*r.Float64()), Tags: tags}
			switch kind {
			case 0:
				e.Action, e.IDs = costgate.ActionUpdate, knownIDs(id, x.id)
			case 1:
				e.Action, e.IDs = costgate.ActionNoOp, knownIDs(id, x.id)
			case 2:
				e.Action = costgate.ActionReplace
			case 3:
				e.Action = costgate.ActionCreate
			}
			byTeam[team] = append(byTeam[team], e)
		}
	}
	teams := make([]string, 0, len(byTeam))
	for t := range byTeam {
		teams = append(teams, t)
	}
	sort.Strings(teams)
	var out []DemoDecision
	for ti, team := range teams {
		es := append(byTeam[team], costgate.EstimatedResource{Address: fmt.Sprintf("module.%s.aws_instance.canary", team), Type: "aws_instance",
			Action: costgate.ActionCreate, Provider: demoProvider, Monthly: demoEstimate(50+20*float64(ti), 1)})
		var after, delta costgate.Money
		for _, e := range es {
			after += e.Monthly
			if e.Action == costgate.ActionCreate {
				delta += e.Monthly
			}
		}
		d := costgate.Decision{Version: costgate.DecisionVersion, Decision: costgate.OutcomeAllow, Findings: []costgate.Finding{},
			Cost:           &costgate.CostTotals{Currency: p.Currency, MonthlyBefore: after - delta, MonthlyAfter: after, MonthlyDelta: delta, Unpriced: []string{}},
			PolicyRevision: "sha256:demo", InputSHA256: fmt.Sprintf("%064x", 0x91a0+ti)}
		out = append(out, DemoDecision{Time: m.Start().Add(time.Duration(6+ti) * time.Hour), Team: team, Decision: d,
			Context:   map[string]string{"team": team, "repository": "acme/infra", "workspace": team + "-prod"},
			Resources: es})
	}
	return out, []DemoInventory{state, tagging}
}

// expectedCost is what resource x should cost in month m (index mi): its
// daily cost at that month, weekends discounted, over the month's days.
func (p Params) expectedCost(x resource, mi int, m costgate.Month) float64 {
	monthly := x.daily * math.Pow(x.drift, float64(mi)) * math.Pow(x.growth, float64(max(0, mi-x.change+1)))
	total := 0.0
	for t := m.Start(); t.Before(m.End()); t = t.AddDate(0, 0, 1) {
		f := 1.0
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			f = x.weekend
		}
		total += monthly * f
	}
	return total
}

// demoEstimate is cost × factor in whole cents.
func demoEstimate(cost, factor float64) costgate.Money {
	return costgate.Money(int64(math.Round(cost*factor*100)) * (costgate.NanosPerUnit / 100))
}

// knownIDs lists the ids a plan shows for a resource: its ARN (or id) and
// its id.
func knownIDs(id, short string) []string {
	if id == short {
		return []string{id}
	}
	return []string{id, short}
}
