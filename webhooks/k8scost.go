package webhooks

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/costgate/costgate"
)

// HoursPerMonth is the month length used to turn hourly prices into
// monthly costs (365 × 24 / 12), as cloud price lists do.
const HoursPerMonth = 730

// KubernetesOptions are the admission settings (config kubernetes.*).
type KubernetesOptions struct {
	// Audit never denies: deny findings become warnings.
	Audit bool
	// Currency of the prices (default USD).
	Currency string
	// Prices are the unit prices the cost estimate uses.
	Prices KubernetesPrices
	// DaemonSetNodes is the number of nodes a DaemonSet is assumed to run
	// on (default 1).
	DaemonSetNodes int64
}

// KubernetesPrices are unit prices; a nil price leaves that component
// unpriced (the estimate says so rather than counting it as free).
type KubernetesPrices struct {
	CPUHour          *costgate.Money // one vCPU (1000m) for an hour
	MemoryGiBHour    *costgate.Money // one GiB (2^30 bytes) of memory for an hour
	GPUHour          *costgate.Money // one GPU (any */gpu resource) for an hour
	LoadBalancerHour *costgate.Money // one Service of type LoadBalancer for an hour
	// StorageGiBMonth prices a GiB-month of PersistentVolumeClaim storage
	// by storage class name; "*" prices every other class (and claims
	// with no class).
	StorageGiBMonth map[string]costgate.Money
}

// costComponent is one priced quantity of a workload.
type costComponent struct {
	Name     string         `json:"name"`
	Unit     string         `json:"unit"`
	Quantity string         `json:"quantity"`
	Monthly  costgate.Money `json:"monthly"`
	Priced   bool           `json:"priced"`
}

// workloadCost is the estimate of one object at its requested size.
type workloadCost struct {
	Hourly     costgate.Money
	Monthly    costgate.Money
	Priced     bool // every component had a price
	Components []costComponent
}

// workload is what admission judges about one object.
type workload struct {
	Kind      string
	Replicas  int64
	PodLabels map[string]string // the pod template's labels, when there is one
	Cost      workloadCost
	// Judged is false for objects costgate has nothing to say about
	// (a Service that is not a LoadBalancer).
	Judged bool
}

// kindKey is "group/Kind" ("" group for the core API).
type kindKey struct{ Group, Kind string }

// supportedKinds are the kinds admission judges.
var supportedKinds = map[kindKey]bool{
	{"", "Pod"}: true, {"", "Service"}: true, {"", "PersistentVolumeClaim"}: true,
	{"apps", "Deployment"}: true, {"apps", "StatefulSet"}: true, {"apps", "DaemonSet"}: true, {"apps", "ReplicaSet"}: true,
	{"batch", "Job"}: true, {"batch", "CronJob"}: true,
}

// SupportedKinds lists the judged kinds as "group/Kind" (core as "Kind").
func SupportedKinds() []string {
	var out []string
	for k := range supportedKinds {
		if k.Group == "" {
			out = append(out, k.Kind)
		} else {
			out = append(out, k.Group+"/"+k.Kind)
		}
	}
	sort.Strings(out)
	return out
}

// The typed view of the spec parts the estimate reads (k8sobject.go
// reads them from the object's Rego value).
type k8sResources struct {
	Requests map[string]quantityText
	Limits   map[string]quantityText
}

type k8sContainer struct {
	Resources k8sResources
}

type k8sPodSpec struct {
	Containers     []k8sContainer
	InitContainers []k8sContainer
	Overhead       map[string]quantityText
}

type k8sPodTemplate struct {
	Labels map[string]string // the template's metadata.labels
	Spec   k8sPodSpec
}

type k8sWorkloadSpec struct {
	Replicas    *int64
	Parallelism *int64
	Template    *k8sPodTemplate
	JobTemplate *k8sWorkloadSpec // a CronJob's jobTemplate.spec
}

// describeWorkload reads the spec of an object of a supported kind and
// estimates its cost. obj is the object's value; nil or null (DELETE)
// yields a zero, unjudged workload.
func describeWorkload(kind string, obj ast.Value, opts KubernetesOptions) (workload, error) {
	w, _, err := describeObject(kind, obj, opts)
	return w, err
}

// describeObject is describeWorkload that also returns the metadata
// admission reads.
func describeObject(kind string, obj ast.Value, opts KubernetesOptions) (workload, objectMeta, error) {
	w := workload{Kind: kind, Judged: true}
	if _, null := obj.(ast.Null); obj == nil || null {
		w.Judged = false
		return w, objectMeta{}, nil
	}
	o, ok := obj.(ast.Object)
	if !ok {
		return w, objectMeta{}, wrongType("object", "an object", obj)
	}
	meta, err := readMeta(o)
	if err != nil {
		return w, meta, err
	}
	spec, err := objectAt(o, "spec", "object.spec")
	if err != nil {
		return w, meta, err
	}
	w, err = describeSpec(w, spec, opts)
	return w, meta, err
}

// describeSpec fills w from the object's spec (nil: an empty spec).
func describeSpec(w workload, spec ast.Object, opts KubernetesOptions) (workload, error) {
	kind := w.Kind
	if spec == nil {
		spec = ast.NewObject()
	}
	e := newEstimator(opts)
	switch kind {
	case "Pod":
		ps, err := readPodSpec(spec, "object.spec")
		if err != nil {
			return w, err
		}
		w.Replicas = 1
		if err := e.pod(&ps, 1); err != nil {
			return w, err
		}
	case "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "CronJob":
		ws, err := readWorkloadSpec(spec, "object.spec")
		if err != nil {
			return w, err
		}
		if kind == "CronJob" {
			if ws.JobTemplate == nil {
				return w, fmt.Errorf("object.spec.jobTemplate: required for a CronJob")
			}
			ws = *ws.JobTemplate
		}
		switch kind {
		case "DaemonSet":
			w.Replicas = max(opts.DaemonSetNodes, 1)
		case "Job", "CronJob":
			w.Replicas = 1
			if ws.Parallelism != nil {
				w.Replicas = *ws.Parallelism
			}
		default:
			w.Replicas = 1
			if ws.Replicas != nil {
				w.Replicas = *ws.Replicas
			}
		}
		if w.Replicas < 0 {
			return w, fmt.Errorf("object.spec: negative replica count %d", w.Replicas)
		}
		if ws.Template == nil {
			return w, fmt.Errorf("object.spec.template: required for a %s", kind)
		}
		w.PodLabels = ws.Template.Labels
		if err := e.pod(&ws.Template.Spec, w.Replicas); err != nil {
			return w, err
		}
	case "Service":
		typ, err := stringAt(spec, "type", "object.spec.type")
		if err != nil {
			return w, err
		}
		if typ != "LoadBalancer" {
			w.Judged = false
			return w, nil
		}
		w.Replicas = 1
		e.hourly("load_balancer", "LB-hour", big.NewRat(1, 1), opts.Prices.LoadBalancerHour)
	case "PersistentVolumeClaim":
		className, err := optStringAt(spec, "storageClassName", "object.spec.storageClassName")
		if err != nil {
			return w, err
		}
		res, err := objectAt(spec, "resources", "object.spec.resources")
		if err != nil {
			return w, err
		}
		requests, err := quantityMapAt(res, "requests", "object.spec.resources.requests")
		if err != nil {
			return w, err
		}
		w.Replicas = 1
		size, ok := requests["storage"]
		if !ok {
			return w, fmt.Errorf("object.spec.resources.requests.storage: required for a PersistentVolumeClaim")
		}
		q, err := parseQuantity(string(size))
		if err != nil {
			return w, fmt.Errorf("object.spec.resources.requests.storage: %w", err)
		}
		class := ""
		if className != nil {
			class = *className
		}
		var price *costgate.Money
		if p, ok := opts.Prices.StorageGiBMonth[class]; ok && class != "" {
			price = &p
		} else if p, ok := opts.Prices.StorageGiBMonth["*"]; ok {
			price = &p
		}
		gib := new(big.Rat).Quo(q.r, big.NewRat(1<<30, 1))
		name := "storage"
		if class != "" {
			name = "storage:" + class
		}
		e.monthly(name, "GiB-month", gib, price)
	default:
		return w, fmt.Errorf("kind %s is not judged", kind)
	}
	cost, err := e.result()
	if err != nil {
		return w, err
	}
	w.Cost = cost
	return w, nil
}

// estimator sums cost components exactly, in nano-units per hour.
type estimator struct {
	opts       KubernetesOptions
	hourlyNano *big.Rat
	priced     bool
	components []costComponent
	monthlies  []*big.Rat
}

func newEstimator(opts KubernetesOptions) *estimator {
	return &estimator{opts: opts, hourlyNano: new(big.Rat), priced: true}
}

// hourly adds qty units priced per hour.
func (e *estimator) hourly(name, unit string, qty *big.Rat, price *costgate.Money) {
	c := costComponent{Name: name, Unit: unit, Quantity: quantity{qty}.String(), Priced: price != nil}
	monthly := new(big.Rat)
	if price != nil {
		h := new(big.Rat).Mul(qty, new(big.Rat).SetInt64(int64(*price)))
		e.hourlyNano.Add(e.hourlyNano, h)
		monthly.Mul(h, big.NewRat(HoursPerMonth, 1))
	} else if qty.Sign() != 0 {
		e.priced = false
	}
	e.components = append(e.components, c)
	e.monthlies = append(e.monthlies, monthly)
}

// monthly adds qty units priced per month.
func (e *estimator) monthly(name, unit string, qty *big.Rat, price *costgate.Money) {
	c := costComponent{Name: name, Unit: unit, Quantity: quantity{qty}.String(), Priced: price != nil}
	monthly := new(big.Rat)
	if price != nil {
		monthly.Mul(qty, new(big.Rat).SetInt64(int64(*price)))
		e.hourlyNano.Add(e.hourlyNano, new(big.Rat).Quo(monthly, big.NewRat(HoursPerMonth, 1)))
	} else if qty.Sign() != 0 {
		e.priced = false
	}
	e.components = append(e.components, c)
	e.monthlies = append(e.monthlies, monthly)
}

// pod adds a pod's effective requests times replicas.
func (e *estimator) pod(ps *k8sPodSpec, replicas int64) error {
	req, err := podRequests(ps)
	if err != nil {
		return err
	}
	n := new(big.Rat).SetInt64(replicas)
	cpu := new(big.Rat).Mul(req.cpu, n)
	mem := new(big.Rat).Quo(new(big.Rat).Mul(req.memory, n), big.NewRat(1<<30, 1))
	gpu := new(big.Rat).Mul(req.gpu, n)
	e.hourly("cpu", "vCPU-hour", cpu, e.opts.Prices.CPUHour)
	e.hourly("memory", "GiB-hour", mem, e.opts.Prices.MemoryGiBHour)
	if gpu.Sign() != 0 {
		e.hourly("gpu", "GPU-hour", gpu, e.opts.Prices.GPUHour)
	}
	return nil
}

func (e *estimator) result() (workloadCost, error) {
	var c workloadCost
	var err error
	if c.Hourly, err = ratMoney(e.hourlyNano); err != nil {
		return c, err
	}
	if c.Monthly, err = ratMoney(new(big.Rat).Mul(e.hourlyNano, big.NewRat(HoursPerMonth, 1))); err != nil {
		return c, err
	}
	for i := range e.components {
		if e.components[i].Monthly, err = ratMoney(e.monthlies[i]); err != nil {
			return c, err
		}
	}
	c.Priced = e.priced
	c.Components = e.components
	return c, nil
}

// ratMoney rounds a rational number of nano-units half away from zero.
func ratMoney(r *big.Rat) (costgate.Money, error) {
	num := new(big.Int).Abs(r.Num())
	q, rem := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("cost estimate: %w", costgate.ErrMoneyRange)
	}
	return costgate.Money(q.Int64()), nil
}

// podResources are a pod's effective requests in base units.
type podResources struct{ cpu, memory, gpu *big.Rat }

// podRequests computes the scheduler's view of a pod's requests: the
// larger of the containers' sum and the largest init container, plus the
// pod overhead. A container without a request for a resource but with a
// limit requests its limit, as the API server defaults it.
func podRequests(ps *k8sPodSpec) (podResources, error) {
	sum := podResources{new(big.Rat), new(big.Rat), new(big.Rat)}
	for i, c := range ps.Containers {
		r, err := containerRequests(c, fmt.Sprintf("containers[%d]", i))
		if err != nil {
			return sum, err
		}
		sum.cpu.Add(sum.cpu, r.cpu)
		sum.memory.Add(sum.memory, r.memory)
		sum.gpu.Add(sum.gpu, r.gpu)
	}
	for i, c := range ps.InitContainers {
		r, err := containerRequests(c, fmt.Sprintf("initContainers[%d]", i))
		if err != nil {
			return sum, err
		}
		maxRat(sum.cpu, r.cpu)
		maxRat(sum.memory, r.memory)
		maxRat(sum.gpu, r.gpu)
	}
	over, err := resourceSet(ps.Overhead, ps.Overhead, "spec.overhead")
	if err != nil {
		return sum, err
	}
	sum.cpu.Add(sum.cpu, over.cpu)
	sum.memory.Add(sum.memory, over.memory)
	return sum, nil
}

func maxRat(dst, v *big.Rat) {
	if v.Cmp(dst) > 0 {
		dst.Set(v)
	}
}

func containerRequests(c k8sContainer, field string) (podResources, error) {
	return resourceSet(c.Resources.Requests, c.Resources.Limits, "spec."+field+".resources")
}

// resourceSet reads cpu, memory and GPUs from requests, falling back to
// limits per resource.
func resourceSet(requests, limits map[string]quantityText, field string) (podResources, error) {
	out := podResources{new(big.Rat), new(big.Rat), new(big.Rat)}
	names := map[string]bool{}
	for n := range requests {
		names[n] = true
	}
	for n := range limits {
		names[n] = true
	}
	for n := range names {
		var target *big.Rat
		switch {
		case n == "cpu":
			target = out.cpu
		case n == "memory":
			target = out.memory
		case strings.HasSuffix(n, "/gpu"):
			target = out.gpu
		default:
			continue
		}
		v, which := requests[n], "requests"
		if _, ok := requests[n]; !ok {
			v, which = limits[n], "limits"
		}
		q, err := parseQuantity(string(v))
		if err != nil {
			return out, fmt.Errorf("object.%s.%s.%s: %w", field, which, n, err)
		}
		if q.r.Sign() < 0 {
			return out, fmt.Errorf("object.%s.%s.%s: negative quantity %s", field, which, n, v)
		}
		target.Add(target, q.r)
	}
	return out, nil
}

// truncate cuts s to at most n bytes of valid UTF-8, ending in "…" when
// cut. Limits in the protocols here count characters or bytes; bytes is
// the stricter.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := n - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut < 0 {
		cut = 0
	}
	return s[:cut] + ell
}
