package webhooks

import (
	"encoding/json"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
)

// An AdmissionReview is converted to a Rego value once (gate.JSONValueAt)
// and everything admission reads — the review's fields, the object's
// metadata and spec — is read from that value: the object is already
// there for input.kubernetes, and decoding the same bytes again with
// encoding/json (the review, then the object, then its spec) was a fifth
// of an admission request's CPU. The readers below are as strict as the
// typed decoding they replace: a member of the wrong type is an error
// naming its path; an absent or null member is the zero value.

// member is o[key]; nil when o is nil, the key is absent or its value null.
func member(o ast.Object, key string) ast.Value {
	if o == nil {
		return nil
	}
	t := o.Get(ast.InternedTerm(key))
	if t == nil {
		return nil
	}
	if _, null := t.Value.(ast.Null); null {
		return nil
	}
	return t.Value
}

// valueKind names a value's JSON type for errors.
func valueKind(v ast.Value) string {
	switch v.(type) {
	case ast.String:
		return "string"
	case ast.Number:
		return "number"
	case ast.Boolean:
		return "boolean"
	case ast.Object:
		return "object"
	case *ast.Array:
		return "array"
	case ast.Null:
		return "null"
	}
	return ast.ValueName(v)
}

func wrongType(path, want string, v ast.Value) error {
	return fmt.Errorf("%s: expected %s, got %s", path, want, valueKind(v))
}

// objectAt is the object at o[key] (nil when absent or null).
func objectAt(o ast.Object, key, path string) (ast.Object, error) {
	v := member(o, key)
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, wrongType(path, "an object", v)
	}
	return obj, nil
}

// stringAt is the string at o[key] ("" when absent or null).
func stringAt(o ast.Object, key, path string) (string, error) {
	v := member(o, key)
	if v == nil {
		return "", nil
	}
	s, ok := v.(ast.String)
	if !ok {
		return "", wrongType(path, "a string", v)
	}
	return string(s), nil
}

// optStringAt is stringAt that tells absent from empty.
func optStringAt(o ast.Object, key, path string) (*string, error) {
	if member(o, key) == nil {
		return nil, nil
	}
	s, err := stringAt(o, key, path)
	return &s, err
}

// int64At is the integer at o[key] (nil when absent or null).
func int64At(o ast.Object, key, path string) (*int64, error) {
	v := member(o, key)
	if v == nil {
		return nil, nil
	}
	n, ok := v.(ast.Number)
	if !ok {
		return nil, wrongType(path, "an integer", v)
	}
	i, err := json.Number(n).Int64()
	if err != nil {
		return nil, fmt.Errorf("%s: expected an integer, got %s", path, truncate(string(n), 40))
	}
	return &i, nil
}

// boolAt is the boolean at o[key] (nil when absent or null).
func boolAt(o ast.Object, key, path string) (*bool, error) {
	v := member(o, key)
	if v == nil {
		return nil, nil
	}
	b, ok := v.(ast.Boolean)
	if !ok {
		return nil, wrongType(path, "a boolean", v)
	}
	x := bool(b)
	return &x, nil
}

// arrayAt calls f with each element of the array at o[key] (nothing when
// absent or null).
func arrayAt(o ast.Object, key, path string, f func(i int, v ast.Value, path string) error) error {
	v := member(o, key)
	if v == nil {
		return nil
	}
	a, ok := v.(*ast.Array)
	if !ok {
		return wrongType(path, "an array", v)
	}
	for i := range a.Len() {
		if err := f(i, a.Elem(i).Value, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// stringMapAt is the object of strings at o[key] (labels); nil when
// absent or null.
func stringMapAt(o ast.Object, key, path string) (map[string]string, error) {
	obj, err := objectAt(o, key, path)
	if obj == nil || err != nil {
		return nil, err
	}
	m := make(map[string]string, obj.Len())
	err = obj.Iter(func(k, v *ast.Term) error {
		ks, ok := k.Value.(ast.String)
		if !ok {
			return wrongType(path, "string keys", k.Value)
		}
		switch s := v.Value.(type) {
		case ast.String:
			m[string(ks)] = string(s)
		case ast.Null:
			m[string(ks)] = "" // encoding/json leaves a null map value zero
		default:
			return wrongType(path+"."+string(ks), "a string", v.Value)
		}
		return nil
	})
	return m, err
}

// quantityMapAt is the object of quantities at o[key] (requests, limits,
// overhead): each a string ("250m") or a number; nil when absent.
func quantityMapAt(o ast.Object, key, path string) (map[string]quantityText, error) {
	obj, err := objectAt(o, key, path)
	if obj == nil || err != nil {
		return nil, err
	}
	m := make(map[string]quantityText, obj.Len())
	err = obj.Iter(func(k, v *ast.Term) error {
		ks, ok := k.Value.(ast.String)
		if !ok {
			return wrongType(path, "string keys", k.Value)
		}
		switch q := v.Value.(type) {
		case ast.String:
			m[string(ks)] = quantityText(q)
		case ast.Number:
			m[string(ks)] = quantityText(q)
		case ast.Null:
			m[string(ks)] = ""
		default:
			return fmt.Errorf("%s.%s: quantity: expected a string or number, got %s", path, string(ks), valueKind(v.Value))
		}
		return nil
	})
	return m, err
}

// readReview reads an AdmissionReview converted by gate.JSONValueAt.
func readReview(v ast.Value) (admissionReview, error) {
	var r admissionReview
	o, ok := v.(ast.Object)
	if !ok {
		return r, wrongType("AdmissionReview", "an object", v)
	}
	var err error
	if r.APIVersion, err = stringAt(o, "apiVersion", "apiVersion"); err != nil {
		return r, err
	}
	if r.Kind, err = stringAt(o, "kind", "kind"); err != nil {
		return r, err
	}
	ro, err := objectAt(o, "request", "request")
	if ro == nil || err != nil {
		return r, err
	}
	req := &admissionRequest{
		UserInfo:  member(ro, "userInfo"),
		Object:    member(ro, "object"),
		OldObject: member(ro, "oldObject"),
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"uid", &req.UID}, {"subResource", &req.SubResource}, {"name", &req.Name},
		{"namespace", &req.Namespace}, {"operation", &req.Operation},
	} {
		if *f.dst, err = stringAt(ro, f.key, "request."+f.key); err != nil {
			return r, err
		}
	}
	for _, f := range []struct {
		key    string
		fields [3]*string
		names  [3]string
	}{
		{"kind", [3]*string{&req.Kind.Group, &req.Kind.Version, &req.Kind.Kind}, [3]string{"group", "version", "kind"}},
		{"resource", [3]*string{&req.Resource.Group, &req.Resource.Version, &req.Resource.Resource}, [3]string{"group", "version", "resource"}},
	} {
		gvk, err := objectAt(ro, f.key, "request."+f.key)
		if err != nil {
			return r, err
		}
		for i, name := range f.names {
			if *f.fields[i], err = stringAt(gvk, name, "request."+f.key+"."+name); err != nil {
				return r, err
			}
		}
	}
	if req.DryRun, err = boolAt(ro, "dryRun", "request.dryRun"); err != nil {
		return r, err
	}
	r.Request = req
	return r, nil
}

// readMeta reads the metadata admission uses.
func readMeta(obj ast.Object) (objectMeta, error) {
	var m objectMeta
	md, err := objectAt(obj, "metadata", "object.metadata")
	if md == nil || err != nil {
		return m, err
	}
	if m.Name, err = stringAt(md, "name", "object.metadata.name"); err != nil {
		return m, err
	}
	if m.GenerateName, err = stringAt(md, "generateName", "object.metadata.generateName"); err != nil {
		return m, err
	}
	if m.Namespace, err = stringAt(md, "namespace", "object.metadata.namespace"); err != nil {
		return m, err
	}
	if m.Labels, err = stringMapAt(md, "labels", "object.metadata.labels"); err != nil {
		return m, err
	}
	err = arrayAt(md, "ownerReferences", "object.metadata.ownerReferences", func(_ int, v ast.Value, path string) error {
		ref, ok := v.(ast.Object)
		if !ok {
			return wrongType(path, "an object", v)
		}
		c, err := boolAt(ref, "controller", path+".controller")
		if c != nil && *c {
			m.Controlled = true
		}
		return err
	})
	return m, err
}

// readPodSpec reads the containers' requests and limits and the overhead.
func readPodSpec(spec ast.Object, path string) (k8sPodSpec, error) {
	var ps k8sPodSpec
	var err error
	for _, list := range []struct {
		key string
		dst *[]k8sContainer
	}{{"containers", &ps.Containers}, {"initContainers", &ps.InitContainers}} {
		err = arrayAt(spec, list.key, path+"."+list.key, func(_ int, v ast.Value, path string) error {
			c, ok := v.(ast.Object)
			if !ok {
				return wrongType(path, "an object", v)
			}
			res, err := objectAt(c, "resources", path+".resources")
			if err != nil {
				return err
			}
			var k k8sContainer
			if k.Resources.Requests, err = quantityMapAt(res, "requests", path+".resources.requests"); err != nil {
				return err
			}
			if k.Resources.Limits, err = quantityMapAt(res, "limits", path+".resources.limits"); err != nil {
				return err
			}
			*list.dst = append(*list.dst, k)
			return nil
		})
		if err != nil {
			return ps, err
		}
	}
	ps.Overhead, err = quantityMapAt(spec, "overhead", path+".overhead")
	return ps, err
}

// readWorkloadSpec reads the spec of a Deployment, StatefulSet,
// ReplicaSet, DaemonSet, Job or CronJob.
func readWorkloadSpec(spec ast.Object, path string) (k8sWorkloadSpec, error) {
	var ws k8sWorkloadSpec
	var err error
	if ws.Replicas, err = int64At(spec, "replicas", path+".replicas"); err != nil {
		return ws, err
	}
	if ws.Parallelism, err = int64At(spec, "parallelism", path+".parallelism"); err != nil {
		return ws, err
	}
	tmpl, err := objectAt(spec, "template", path+".template")
	if err != nil {
		return ws, err
	}
	if tmpl != nil {
		ws.Template = &k8sPodTemplate{}
		md, err := objectAt(tmpl, "metadata", path+".template.metadata")
		if err != nil {
			return ws, err
		}
		if ws.Template.Labels, err = stringMapAt(md, "labels", path+".template.metadata.labels"); err != nil {
			return ws, err
		}
		ps, err := objectAt(tmpl, "spec", path+".template.spec")
		if err != nil {
			return ws, err
		}
		if ws.Template.Spec, err = readPodSpec(ps, path+".template.spec"); err != nil {
			return ws, err
		}
	}
	jt, err := objectAt(spec, "jobTemplate", path+".jobTemplate")
	if err != nil || jt == nil {
		return ws, err
	}
	js, err := objectAt(jt, "spec", path+".jobTemplate.spec")
	if err != nil {
		return ws, err
	}
	inner, err := readWorkloadSpec(js, path+".jobTemplate.spec")
	ws.JobTemplate = &inner
	return ws, err
}
