package webhooks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

func TestParseQuantity(t *testing.T) {
	tests := map[string]string{
		"100m": "0.1", "2": "2", "1.5": "1.5", "1Gi": "1073741824", "10G": "10000000000", "512Mi": "536870912",
		"1e3": "1000", "1E-3": "0.001", "250u": "0.00025", "3n": "0.000000003", "1Ki": "1024", "0.5Ti": "549755813888",
		"+4": "4", "-1": "-1", "1k": "1000", ".5": "0.5",
	}
	for in, want := range tests {
		q, err := parseQuantity(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := q.String(); got != want {
			t.Errorf("%s = %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "m", "1.2.3", "1Zi", "two", "1e99", "1 Gi"} {
		if _, err := parseQuantity(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"100m", "1Gi", "1e3", "-0.5", "", "1.5E+2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseQuantity(s)
		if err == nil && q.r == nil {
			t.Fatal("nil value without error")
		}
	})
}

func obj(tb testing.TB, v any) ast.Value {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	val, err := gate.JSONValue(b)
	if err != nil {
		tb.Fatal(err)
	}
	return val
}

func podSpec(containers ...map[string]any) map[string]any {
	var cs []any
	for _, c := range containers {
		cs = append(cs, c)
	}
	return map[string]any{"containers": cs}
}

func ctr(req, lim map[string]any) map[string]any {
	r := map[string]any{}
	if req != nil {
		r["requests"] = req
	}
	if lim != nil {
		r["limits"] = lim
	}
	return map[string]any{"name": "c", "resources": r}
}

func TestDescribeWorkloadCost(t *testing.T) {
	k := testKubernetes()
	template := func(spec map[string]any) map[string]any {
		return map[string]any{"metadata": map[string]any{"labels": map[string]any{"team": "x"}}, "spec": spec}
	}
	tests := map[string]struct {
		kind     string
		object   map[string]any
		replicas int64
		monthly  string
		priced   bool
		judged   bool
	}{
		// (0.5 × 0.04 + 0.5 × 0.005) × 730 = 0.0225 × 730 = 16.425
		"pod": {kind: "Pod", object: map[string]any{"spec": podSpec(ctr(map[string]any{"cpu": "500m", "memory": "512Mi"}, nil))},
			replicas: 1, monthly: "16.425", priced: true, judged: true},
		// limits stand in for missing requests; GPUs: 1 × 2.5 × 730 = 1825; cpu 1 × 0.04 × 730 = 29.2
		"pod limits and gpu": {kind: "Pod", object: map[string]any{"spec": podSpec(ctr(nil, map[string]any{"cpu": "1", "nvidia.com/gpu": "1"}))},
			replicas: 1, monthly: "1854.2", priced: true, judged: true},
		// init container larger than the sum: cpu max(0.1+0.1, 1) = 1 → 29.2
		"init containers": {kind: "Pod", object: map[string]any{"spec": map[string]any{
			"containers":     []any{ctr(map[string]any{"cpu": "100m"}, nil), ctr(map[string]any{"cpu": "100m"}, nil)},
			"initContainers": []any{ctr(map[string]any{"cpu": "1"}, nil)},
		}}, replicas: 1, monthly: "29.2", priced: true, judged: true},
		// 3 × 0.25 × 0.04 × 730 = 21.9
		"deployment": {kind: "Deployment", object: map[string]any{"spec": map[string]any{"replicas": 3, "template": template(podSpec(ctr(map[string]any{"cpu": "250m"}, nil)))}},
			replicas: 3, monthly: "21.9", priced: true, judged: true},
		"deployment default replicas": {kind: "Deployment", object: map[string]any{"spec": map[string]any{"template": template(podSpec(ctr(map[string]any{"cpu": "1"}, nil)))}},
			replicas: 1, monthly: "29.2", priced: true, judged: true},
		"statefulset zero replicas": {kind: "StatefulSet", object: map[string]any{"spec": map[string]any{"replicas": 0, "template": template(podSpec(ctr(map[string]any{"cpu": "1"}, nil)))}},
			replicas: 0, monthly: "0", priced: true, judged: true},
		"daemonset on 3 nodes": {kind: "DaemonSet", object: map[string]any{"spec": map[string]any{"template": template(podSpec(ctr(map[string]any{"cpu": "1"}, nil)))}},
			replicas: 3, monthly: "87.6", priced: true, judged: true},
		"job parallelism": {kind: "Job", object: map[string]any{"spec": map[string]any{"parallelism": 2, "template": template(podSpec(ctr(map[string]any{"cpu": "1"}, nil)))}},
			replicas: 2, monthly: "58.4", priced: true, judged: true},
		"cronjob": {kind: "CronJob", object: map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": template(podSpec(ctr(map[string]any{"cpu": "1"}, nil)))}}}},
			replicas: 1, monthly: "29.2", priced: true, judged: true},
		// 0.025 × 730 = 18.25
		"load balancer": {kind: "Service", object: map[string]any{"spec": map[string]any{"type": "LoadBalancer"}}, replicas: 1, monthly: "18.25", priced: true, judged: true},
		"cluster ip":    {kind: "Service", object: map[string]any{"spec": map[string]any{}}, judged: false, monthly: "0"},
		// 100 GiB × 0.08 = 8
		"pvc gp3": {kind: "PersistentVolumeClaim", object: map[string]any{"spec": map[string]any{"storageClassName": "gp3", "resources": map[string]any{"requests": map[string]any{"storage": "100Gi"}}}},
			replicas: 1, monthly: "8", priced: true, judged: true},
		// other class uses "*": 10 GB (decimal) = 9.3132257461547851562 GiB × 0.1
		"pvc default class": {kind: "PersistentVolumeClaim", object: map[string]any{"spec": map[string]any{"resources": map[string]any{"requests": map[string]any{"storage": "10G"}}}},
			replicas: 1, monthly: "0.931322575", priced: true, judged: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, err := describeWorkload(tc.kind, obj(t, tc.object), k)
			if err != nil {
				t.Fatal(err)
			}
			if w.Judged != tc.judged || (tc.judged && w.Replicas != tc.replicas) {
				t.Fatalf("judged %v replicas %d; want %v %d", w.Judged, w.Replicas, tc.judged, tc.replicas)
			}
			if got := w.Cost.Monthly.String(); got != tc.monthly {
				t.Fatalf("monthly %s, want %s (%+v)", got, tc.monthly, w.Cost.Components)
			}
			if tc.judged && w.Cost.Priced != tc.priced {
				t.Fatalf("priced %v", w.Cost.Priced)
			}
			// The components add up to the total exactly.
			var sum costgate.Sum
			for _, c := range w.Cost.Components {
				sum.Add(c.Monthly)
			}
			if m, _ := sum.Money(); tc.judged && m != w.Cost.Monthly && tc.kind != "PersistentVolumeClaim" {
				t.Fatalf("components sum %s, total %s", sum, w.Cost.Monthly)
			}
		})
	}
}

func TestDescribeWorkloadUnpriced(t *testing.T) {
	w, err := describeWorkload("Pod", obj(t, map[string]any{"spec": podSpec(ctr(map[string]any{"cpu": "1", "memory": "1Gi"}, nil))}),
		KubernetesOptions{Prices: KubernetesPrices{CPUHour: money("0.04")}})
	if err != nil {
		t.Fatal(err)
	}
	if w.Cost.Priced || w.Cost.Monthly.String() != "29.2" {
		t.Fatalf("want a partial, unpriced estimate of 29.2: %+v", w.Cost)
	}
}

func TestDescribeWorkloadErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		kind string
		obj  map[string]any
		msg  string
	}{
		"bad cpu":           {"Pod", map[string]any{"spec": podSpec(ctr(map[string]any{"cpu": "lots"}, nil))}, "containers[0].resources.requests.cpu"},
		"negative":          {"Pod", map[string]any{"spec": podSpec(ctr(map[string]any{"memory": "-1Gi"}, nil))}, "negative"},
		"no template":       {"Deployment", map[string]any{"spec": map[string]any{"replicas": 1}}, "template"},
		"pvc without size":  {"PersistentVolumeClaim", map[string]any{"spec": map[string]any{}}, "storage"},
		"spec not object":   {"Pod", map[string]any{"spec": "x"}, "object.spec"},
		"negative replicas": {"Deployment", map[string]any{"spec": map[string]any{"replicas": -2, "template": map[string]any{}}}, "negative"},
		"fractional replicas": {"Deployment", map[string]any{"spec": map[string]any{"replicas": 1.5, "template": map[string]any{}}},
			"object.spec.replicas: expected an integer"},
		"replicas as text": {"StatefulSet", map[string]any{"spec": map[string]any{"replicas": "3", "template": map[string]any{}}},
			"object.spec.replicas: expected an integer, got string"},
		"label not text": {"Pod", map[string]any{"metadata": map[string]any{"labels": map[string]any{"team": 7}}, "spec": map[string]any{}},
			"object.metadata.labels.team: expected a string, got number"},
		"containers not a list": {"Pod", map[string]any{"spec": map[string]any{"containers": map[string]any{}}},
			"object.spec.containers: expected an array, got object"},
		"quantity of the wrong type": {"Pod", map[string]any{"spec": podSpec(ctr(map[string]any{"cpu": true}, nil))},
			"object.spec.containers[0].resources.requests.cpu: quantity: expected a string or number, got boolean"},
		"template labels": {"Deployment", map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"labels": []any{}}}}},
			"object.spec.template.metadata.labels: expected an object, got array"},
		"owner reference": {"Pod", map[string]any{"metadata": map[string]any{"ownerReferences": []any{map[string]any{"controller": "yes"}}}},
			"object.metadata.ownerReferences[0].controller: expected a boolean, got string"},
		"cron job template": {"CronJob", map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"parallelism": "2"}}}},
			"object.spec.jobTemplate.spec.parallelism: expected an integer"},
		"storage class": {"PersistentVolumeClaim", map[string]any{"spec": map[string]any{"storageClassName": 1}}, "object.spec.storageClassName"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := describeWorkload(tc.kind, obj(t, tc.obj), testKubernetes())
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v, want %q", err, tc.msg)
			}
		})
	}
	if _, err := describeWorkload("Pod", ast.String("x"), testKubernetes()); err == nil || err.Error() != "object: expected an object, got string" {
		t.Errorf("a string object: %v", err)
	}
	if w, err := describeWorkload("Pod", ast.Null{}, testKubernetes()); err != nil || w.Judged {
		t.Errorf("a null object (DELETE): %+v, %v; want unjudged", w, err)
	}
}
