package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/costgate/costgate"
)

// Side is one side of a planned resource, before or after the change, as
// a mapping file reads it: typed accessors over the plan values that
// tell a known value from one known only after apply.
type Side struct {
	Resource *costgate.PlannedResource
	Values   map[string]any
	// Unknown is the after_unknown tree (nil on the before side).
	Unknown  map[string]any
	IsBefore bool
}

// BeforeSide and AfterSide return the two sides of r.
func BeforeSide(r *costgate.PlannedResource) Side {
	return Side{Resource: r, Values: r.Before, IsBefore: true}
}

// AfterSide returns the after side of r.
func AfterSide(r *costgate.PlannedResource) Side {
	return Side{Resource: r, Values: r.After, Unknown: r.AfterUnknown}
}

// Region is the resource's region.
func (s Side) Region() string { return s.Resource.Region }

// IsUnknown reports whether attr is known only after apply.
func (s Side) IsUnknown(attr string) bool {
	if s.Unknown == nil {
		return false
	}
	v, ok := s.Unknown[attr]
	return ok && Value(v) == true
}

// Str returns a string attribute and whether it is set (known, non-null
// and non-empty).
func (s Side) Str(attr string) (string, bool) { return str(s.Values[attr]) }

// StrOr returns a string attribute or def.
func (s Side) StrOr(attr, def string) string {
	if v, ok := s.Str(attr); ok {
		return v
	}
	return def
}

// Int returns a whole-number attribute and whether it is set.
func (s Side) Int(attr string) (int64, bool) { return num(s.Values[attr]) }

// Bool returns a boolean attribute and whether it is set.
func (s Side) Bool(attr string) (bool, bool) {
	b, ok := Value(s.Values[attr]).(bool)
	return b, ok
}

// Blocks returns a nested block list (Terraform encodes a block as a
// list of objects) with the matching after_unknown entries.
func (s Side) Blocks(attr string) []Side {
	list, _ := Value(s.Values[attr]).([]any)
	var ulist []any
	if s.Unknown != nil {
		ulist, _ = Value(s.Unknown[attr]).([]any)
	}
	out := make([]Side, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		sub := Side{Resource: s.Resource, Values: m, IsBefore: s.IsBefore}
		if i < len(ulist) {
			sub.Unknown, _ = ulist[i].(map[string]any)
		}
		out = append(out, sub)
	}
	return out
}

// Block returns the first block of a nested block list.
func (s Side) Block(attr string) (Side, bool) {
	b := s.Blocks(attr)
	if len(b) == 0 {
		return Side{Resource: s.Resource, IsBefore: s.IsBefore}, false
	}
	return b[0], true
}

// Strings returns a list of strings attribute.
func (s Side) Strings(attr string) []string {
	list, _ := Value(s.Values[attr]).([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if v, ok := str(e); ok {
			out = append(out, v)
		}
	}
	return out
}

// Need returns a required string attribute, or an unpriced error that
// says whether it is unknown until apply or missing.
func (s Side) Need(attr string) (string, error) {
	if v, ok := s.Str(attr); ok {
		return v, nil
	}
	return "", s.missing(attr)
}

func (s Side) missing(attr string) error {
	if s.IsUnknown(attr) {
		return Unpriced("%s is known only after apply", attr)
	}
	return Unpriced("%s is not set", attr)
}

// Value resolves a plan value: the plan reader may leave an attribute's
// value undecoded (a json.RawMessage, or a pointer to one, of the plan's
// bytes) until an estimator reads it; Value decodes it (numbers as
// json.Number, objects as map[string]any, lists as []any). Other values
// are returned as they are.
func Value(v any) any {
	var raw json.RawMessage
	switch x := v.(type) {
	case *json.RawMessage:
		if x == nil {
			return nil
		}
		raw = *x
	case json.RawMessage:
		raw = x
	default:
		return v
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	// Scalars without escapes, the common case, need no decoder.
	switch c := raw[0]; {
	case c == '"' && len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0:
		return string(raw[1 : len(raw)-1])
	case c == 'n':
		return nil
	case c == 't':
		return true
	case c == 'f':
		return false
	case c == '-' || (c >= '0' && c <= '9'):
		return json.Number(raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return nil
	}
	return out
}

// StringValue returns a plan value as a string when it is one (or a
// number or boolean) and non-empty.
func StringValue(v any) (string, bool) { return str(v) }

func str(v any) (string, bool) {
	switch x := Value(v).(type) {
	case string:
		return x, x != ""
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func num(v any) (int64, bool) {
	switch x := Value(v).(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(x.String(), 64); err == nil && f == float64(int64(f)) {
			return int64(f), true
		}
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case int:
		return int64(x), true
	case int64:
		return x, true
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// Decimal returns a numeric attribute as an exact Rate.
func (s Side) Decimal(attr string) (costgate.Rate, bool) { return decimal(s.Values[attr]) }

func decimal(v any) (costgate.Rate, bool) {
	switch x := Value(v).(type) {
	case json.Number:
		r, err := costgate.ParseRate(x.String())
		return r, err == nil
	case string:
		r, err := costgate.ParseRate(x)
		return r, err == nil
	case int:
		return costgate.RateOf(int64(x), 1), true
	case int64:
		return costgate.RateOf(x, 1), true
	case float64:
		r, err := costgate.ParseRate(strconv.FormatFloat(x, 'f', -1, 64))
		return r, err == nil
	}
	return costgate.Rate{}, false
}

// String describes the side for messages.
func (s Side) String() string {
	side := "after"
	if s.IsBefore {
		side = "before"
	}
	return fmt.Sprintf("%s (%s)", s.Resource.Address, side)
}
