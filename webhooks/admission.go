package webhooks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/gate"
)

// Admission reply limits.
const (
	maxWarningLen  = 120 // Kubernetes shows each warning on one line; keep them short
	maxWarnings    = 20
	maxDenyMessage = 1024
)

type groupVersionKind struct {
	Group   string
	Version string
	Kind    string
}

type groupVersionResource struct {
	Group    string
	Version  string
	Resource string
}

// admissionRequest is AdmissionReview.request (admission.k8s.io/v1; v1beta1
// has the same fields), read by readReview. The objects and userInfo are
// Rego values (nil when absent or null), as input.kubernetes holds them.
type admissionRequest struct {
	UID         string
	Kind        groupVersionKind
	Resource    groupVersionResource
	SubResource string
	Name        string
	Namespace   string
	Operation   string
	UserInfo    ast.Value
	Object      ast.Value
	OldObject   ast.Value
	DryRun      *bool
	// ObjectJSON is request.object as sent: its digest is the decision's
	// input_sha256, the same for the same manifest applied again.
	ObjectJSON []byte
}

type admissionReview struct {
	APIVersion string
	Kind       string
	Request    *admissionRequest
}

type admissionStatus struct {
	Code    int32  `json:"code"`
	Message string `json:"message"`
}

type admissionResponse struct {
	UID      string           `json:"uid"`
	Allowed  bool             `json:"allowed"`
	Status   *admissionStatus `json:"status,omitempty"`
	Warnings []string         `json:"warnings,omitempty"`
}

type admissionReply struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Response   admissionResponse `json:"response"`
}

// objectMeta is the part of metadata admission reads.
type objectMeta struct {
	Name         string
	GenerateName string
	Namespace    string
	Labels       map[string]string
	// Controlled: an owner reference has controller: true (the object is
	// managed by another, a Pod of a ReplicaSet say).
	Controlled bool
}

// handleAdmission answers POST /v1/admission, a validating admission
// webhook: 400 for a body that is not an AdmissionReview, else 200 with
// the verdict. Kinds and operations costgate does not judge are allowed
// untouched.
func (s *Server) handleAdmission(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, s.maxBody)
	if err != nil {
		s.bodyError(w, err)
		return
	}
	review, err := parseReview(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "AdmissionReview: "+err.Error())
		return
	}
	switch review.APIVersion {
	case "admission.k8s.io/v1", "admission.k8s.io/v1beta1":
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("AdmissionReview: apiVersion %q: use admission.k8s.io/v1", review.APIVersion))
		return
	}
	if review.Kind != "AdmissionReview" || review.Request == nil {
		writeError(w, http.StatusBadRequest, "AdmissionReview: expected kind AdmissionReview with a request")
		return
	}
	req := review.Request
	if req.Kind.Kind == "" {
		// Minimal reviews (test tools, v1beta1 samples) may leave out
		// request.kind; the object says what it is.
		req.Kind = kindOfObject(req.Object)
	}
	resp, err := s.admit(r, req)
	if err != nil {
		if errors.Is(err, errBusy) {
			s.admitLimit.busy(w)
		}
		return // or the API server gave up on the request
	}
	writeJSON(w, http.StatusOK, admissionReply{APIVersion: review.APIVersion, Kind: "AdmissionReview", Response: resp})
}

// parseReview converts an AdmissionReview body once and reads the
// request from it.
func parseReview(body []byte) (admissionReview, error) {
	v, object, err := gate.JSONValueAt(body, "request", "object")
	if err != nil {
		return admissionReview{}, err
	}
	r, err := readReview(v)
	if r.Request != nil {
		r.Request.ObjectJSON = object
	}
	return r, err
}

// admit judges one request. An error means no verdict: no evaluation
// slot freed in time, or the request went away.
func (s *Server) admit(r *http.Request, req *admissionRequest) (admissionResponse, error) {
	allow := admissionResponse{UID: req.UID, Allowed: true}
	key := kindKey{req.Kind.Group, req.Kind.Kind}
	if !supportedKinds[key] || req.SubResource != "" {
		return allow, nil // not a kind costgate judges
	}
	if req.Operation != "CREATE" && req.Operation != "UPDATE" {
		return allow, nil // deletes and connects only lower cost
	}
	snap := s.opts.Policies.Current()
	k := snap.Kubernetes
	start := time.Now()
	input, dctx, err := admissionInput(req, k)
	if err != nil {
		s.metrics.decisions.WithLabelValues(SurfaceAdmission, "error").Inc()
		msg := truncate("costgate: cannot judge "+req.Kind.Kind+": "+err.Error(), maxDenyMessage)
		if k.Audit {
			allow.Warnings = []string{oneLineWarning("[audit] " + msg)}
			return allow, nil
		}
		return admissionResponse{UID: req.UID, Allowed: false, Status: &admissionStatus{Code: http.StatusBadRequest, Message: msg}}, nil
	}
	if input == nil {
		return allow, nil // e.g. a Service that is not a LoadBalancer
	}
	release, err := s.admitLimit.acquire(r.Context(), s.metrics)
	if err != nil {
		// Not a verdict: the handler answers HTTP 503 and the API server
		// applies the webhook's failurePolicy, as for a timeout.
		s.metrics.decisions.WithLabelValues(SurfaceAdmission, "error").Inc()
		return admissionResponse{}, err
	}
	defer release()
	sum := sha256.Sum256(req.ObjectJSON)
	d, err := snap.Engine.EvaluateValue(r.Context(), input, gate.EvalMeta{
		Name: fmt.Sprintf("%s %s", req.Kind.Kind, dctx["object"]), InputSHA256: hex.EncodeToString(sum[:]), Admission: true,
	})
	s.metrics.evalSeconds.WithLabelValues(SurfaceAdmission).Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.decisions.WithLabelValues(SurfaceAdmission, "error").Inc()
		s.log.Error("evaluate admission", "err", err)
		return admissionResponse{UID: req.UID, Allowed: false, Status: &admissionStatus{Code: http.StatusInternalServerError, Message: "costgate: policy evaluation failed (logged)"}}, nil
	}
	if req.DryRun != nil && *req.DryRun {
		// Dry runs are judged the same but leave no trace: the webhook
		// declares sideEffects: None.
		s.metrics.decisions.WithLabelValues(SurfaceAdmission, string(d.Decision)).Inc()
	} else {
		s.recordDecision(r.Context(), SurfaceAdmission, dctx, d, "", nil)
	}
	return admissionVerdict(req.UID, d, k.Audit, dctx["object"]), nil
}

// kindOfObject reads apiVersion and kind from the object itself.
func kindOfObject(obj ast.Value) groupVersionKind {
	o, _ := obj.(ast.Object)
	apiVersion, err1 := stringAt(o, "apiVersion", "object.apiVersion")
	kind, err2 := stringAt(o, "kind", "object.kind")
	if err1 != nil || err2 != nil {
		return groupVersionKind{}
	}
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group, version = "", apiVersion
	}
	return groupVersionKind{Group: group, Version: version, Kind: kind}
}

// admissionVerdict turns a decision into the reply: unwaived deny findings
// deny (only warn in audit mode), warn findings become warnings. address
// is "Kind/namespace/name"; messages drop it where they start with it,
// since the user knows what they applied.
func admissionVerdict(uid string, d *costgate.Decision, audit bool, address string) admissionResponse {
	resp := admissionResponse{UID: uid, Allowed: true}
	what := strings.Replace(address, "/", " ", 1)
	var denies []string
	for _, f := range d.Findings {
		if f.Waived {
			continue
		}
		f.Message = strings.TrimPrefix(f.Message, f.Address+": ")
		switch {
		case f.Severity == costgate.SeverityDeny && !audit:
			denies = append(denies, f.Message)
		case f.Severity == costgate.SeverityDeny:
			resp.Warnings = append(resp.Warnings, oneLineWarning("[audit] would deny: "+f.Message))
		default:
			resp.Warnings = append(resp.Warnings, oneLineWarning(f.Message))
		}
	}
	if len(resp.Warnings) > maxWarnings {
		n := len(resp.Warnings) - maxWarnings + 1
		resp.Warnings = append(resp.Warnings[:maxWarnings-1], fmt.Sprintf("costgate: %d more warnings on %s", n, what))
	}
	if len(denies) > 0 {
		resp.Allowed = false
		resp.Status = &admissionStatus{
			Code:    http.StatusForbidden,
			Message: truncate(fmt.Sprintf("costgate denied %s: %s", what, strings.Join(denies, "; ")), maxDenyMessage),
		}
	}
	return resp
}

// oneLineWarning makes a warning Kubernetes accepts: printable, one line,
// at most 120 characters.
func oneLineWarning(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r == '\r' {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
	return truncate(strings.TrimSpace(s), maxWarningLen)
}

// admissionInput builds the Rego input {kubernetes: {...}, context: {...}}
// and the decision context, or nil when the object is not judged. The
// input is built as Rego values directly (the object straight from its
// JSON, exact numbers): a map[string]any converted with
// ast.InterfaceToValue cost a fifth of an admission request's
// allocations.
func admissionInput(req *admissionRequest, k KubernetesOptions) (ast.Value, map[string]string, error) {
	kind := req.Kind.Kind
	cur, meta, err := describeObject(kind, req.Object, k)
	if err != nil {
		return nil, nil, err
	}
	if !cur.Judged {
		return nil, nil, nil
	}
	var old workload
	if req.Operation == "UPDATE" {
		if old, err = describeWorkload(kind, req.OldObject, k); err != nil {
			return nil, nil, fmt.Errorf("oldObject: %w", err)
		}
	}
	ns := req.Namespace
	if ns == "" {
		ns = meta.Namespace
	}
	name := req.Name
	if name == "" {
		name = meta.Name
	}
	if name == "" && meta.GenerateName != "" {
		name = meta.GenerateName + "*"
	}
	owned := meta.Controlled
	labels := meta.Labels
	podLabels := cur.PodLabels
	currency := k.Currency
	if currency == "" {
		currency = "USD"
	}
	delta := cur.Cost.Monthly - old.Cost.Monthly
	components := make([]*ast.Term, 0, len(cur.Cost.Components))
	for _, c := range cur.Cost.Components {
		components = append(components, ast.ObjectTerm(
			item("name", ast.StringTerm(c.Name)), item("unit", ast.StringTerm(c.Unit)),
			item("quantity", ast.NumberTerm(json.Number(c.Quantity))),
			item("monthly", moneyTerm(c.Monthly)), item("priced", ast.InternedTerm(c.Priced)),
		))
	}
	object, oldObject, userInfo := orNull(req.Object), orNull(req.OldObject), orNull(req.UserInfo)
	address := kind + "/" + name
	if ns != "" {
		address = kind + "/" + ns + "/" + name
	}
	kube := ast.NewObject(
		item("uid", ast.StringTerm(req.UID)), item("operation", ast.StringTerm(req.Operation)),
		item("kind", ast.ObjectTerm(item("group", ast.StringTerm(req.Kind.Group)), item("version", ast.StringTerm(req.Kind.Version)), item("kind", ast.StringTerm(kind)))),
		item("resource", ast.ObjectTerm(item("group", ast.StringTerm(req.Resource.Group)), item("version", ast.StringTerm(req.Resource.Version)), item("resource", ast.StringTerm(req.Resource.Resource)))),
		item("namespace", ast.StringTerm(ns)), item("name", ast.StringTerm(name)), item("address", ast.StringTerm(address)),
		item("object", ast.NewTerm(object)), item("oldObject", ast.NewTerm(oldObject)), item("userInfo", ast.NewTerm(userInfo)),
		item("dryRun", ast.InternedTerm(req.DryRun != nil && *req.DryRun)),
		item("owned", ast.InternedTerm(owned)), item("labels", stringsTerm(labels)), item("pod_labels", stringsTerm(podLabels)),
		item("replicas", ast.InternedTerm(cur.Replicas)),
		item("cost", ast.ObjectTerm(
			item("currency", ast.StringTerm(currency)), item("hourly", moneyTerm(cur.Cost.Hourly)), item("monthly", moneyTerm(cur.Cost.Monthly)),
			item("monthly_before", moneyTerm(old.Cost.Monthly)), item("monthly_delta", moneyTerm(delta)),
			item("priced", ast.InternedTerm(cur.Cost.Priced)), item("components", ast.ArrayTerm(components...)),
		)),
	)
	user := ""
	if ui, ok := userInfo.(ast.Object); ok {
		if t := ui.Get(ast.InternedTerm("username")); t != nil {
			if s, ok := t.Value.(ast.String); ok {
				user = string(s)
			}
		}
	}
	dctx := map[string]string{"namespace": ns, "object": address, "operation": req.Operation, "actor": user}
	team := labels["team"]
	if team == "" {
		team = podLabels["team"]
	}
	if team != "" {
		dctx["team"] = team
	}
	return ast.NewObject(item("kubernetes", ast.NewTerm(kube)), item("context", stringsTerm(dctx))), dctx, nil
}

// orNull is v, or null for an absent value.
func orNull(v ast.Value) ast.Value {
	if v == nil {
		return ast.Null{}
	}
	return v
}

// item is one key-value pair of a Rego object.
func item(key string, v *ast.Term) [2]*ast.Term { return [2]*ast.Term{gate.KeyTerm(key), v} }

// stringsTerm is m as a Rego object of strings ({} for nil).
func stringsTerm(m map[string]string) *ast.Term {
	o := ast.NewObjectWithCapacity(len(m))
	for k, v := range m {
		o.Insert(ast.StringTerm(k), ast.StringTerm(v))
	}
	return ast.NewTerm(o)
}

// moneyTerm is m as an exact Rego number.
func moneyTerm(m costgate.Money) *ast.Term { return ast.NumberTerm(json.Number(m.String())) }
