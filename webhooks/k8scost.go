package webhooks

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"

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

type k8sResources struct {
	Requests map[string]quantityText `json:"requests"`
	Limits   map[string]quantityText `json:"limits"`
}

type k8sContainer struct {
	Name      string       `json:"name"`
	Resources k8sResources `json:"resources"`
}

type k8sPodSpec struct {
	Containers     []k8sContainer          `json:"containers"`
	InitContainers []k8sContainer          `json:"initContainers"`
	Overhead       map[string]quantityText `json:"overhead"`
}

type k8sPodTemplate struct {
	Metadata struct {
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec k8sPodSpec `json:"spec"`
}

type k8sWorkloadSpec struct {
	Replicas    *int64          `json:"replicas"`
	Parallelism *int64          `json:"parallelism"`
	Template    *k8sPodTemplate `json:"template"`
	JobTemplate *struct {
		Spec k8sWorkloadSpec `json:"spec"`
	} `json:"jobTemplate"`
}

type k8sServiceSpec struct {
	Type string `json:"type"`
}

type k8sPVCSpec struct {
	StorageClassName *string      `json:"storageClassName"`
	Resources        k8sResources `json:"resources"`
}

// describeWorkload decodes the spec of an object of a supported kind and
// estimates its cost. obj is the object's JSON; a nil or "null" object
// (DELETE) yields a zero, unjudged workload.
func describeWorkload(kind string, obj json.RawMessage, opts KubernetesOptions) (workload, error) {
	w, _, err := describeObject(kind, obj, opts)
	return w, err
}

// describeObject is describeWorkload that also returns the metadata
// admission reads, from the same decoding of obj.
func describeObject(kind string, obj json.RawMessage, opts KubernetesOptions) (workload, objectMeta, error) {
	w := workload{Kind: kind, Judged: true}
	var envelope struct {
		objectMeta
		Spec json.RawMessage `json:"spec"`
	}
	if len(obj) == 0 || string(obj) == "null" {
		w.Judged = false
		return w, envelope.objectMeta, nil
	}
	if err := json.Unmarshal(obj, &envelope); err != nil {
		return w, envelope.objectMeta, fmt.Errorf("object: %w", err)
	}
	w, err := describeSpec(w, envelope.Spec, opts)
	return w, envelope.objectMeta, err
}

// describeSpec fills w from the object's spec.
func describeSpec(w workload, spec json.RawMessage, opts KubernetesOptions) (workload, error) {
	kind := w.Kind
	if len(spec) == 0 || string(spec) == "null" {
		spec = json.RawMessage("{}")
	}
	e := newEstimator(opts)
	switch kind {
	case "Pod":
		var ps k8sPodSpec
		if err := json.Unmarshal(spec, &ps); err != nil {
			return w, fmt.Errorf("object.spec: %w", err)
		}
		w.Replicas = 1
		if err := e.pod(&ps, 1); err != nil {
			return w, err
		}
	case "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "CronJob":
		var ws k8sWorkloadSpec
		if err := json.Unmarshal(spec, &ws); err != nil {
			return w, fmt.Errorf("object.spec: %w", err)
		}
		if kind == "CronJob" {
			if ws.JobTemplate == nil {
				return w, fmt.Errorf("object.spec.jobTemplate: required for a CronJob")
			}
			ws = ws.JobTemplate.Spec
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
		w.PodLabels = ws.Template.Metadata.Labels
		if err := e.pod(&ws.Template.Spec, w.Replicas); err != nil {
			return w, err
		}
	case "Service":
		var ss k8sServiceSpec
		if err := json.Unmarshal(spec, &ss); err != nil {
			return w, fmt.Errorf("object.spec: %w", err)
		}
		if ss.Type != "LoadBalancer" {
			w.Judged = false
			return w, nil
		}
		w.Replicas = 1
		e.hourly("load_balancer", "LB-hour", big.NewRat(1, 1), opts.Prices.LoadBalancerHour)
	case "PersistentVolumeClaim":
		var ps k8sPVCSpec
		if err := json.Unmarshal(spec, &ps); err != nil {
			return w, fmt.Errorf("object.spec: %w", err)
		}
		w.Replicas = 1
		size, ok := ps.Resources.Requests["storage"]
		if !ok {
			return w, fmt.Errorf("object.spec.resources.requests.storage: required for a PersistentVolumeClaim")
		}
		q, err := parseQuantity(string(size))
		if err != nil {
			return w, fmt.Errorf("object.spec.resources.requests.storage: %w", err)
		}
		class := ""
		if ps.StorageClassName != nil {
			class = *ps.StorageClassName
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
