package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
)

// ChangeValues are the decoded values of one resource change. Numbers are
// json.Number; a value is nil when Terraform wrote null.
type ChangeValues struct {
	Before, After, AfterUnknown any
}

// changeRaw keeps the undecoded values of one resource change.
type changeRaw struct {
	before, after, afterUnknown json.RawMessage
	// The sensitivity markers: true where Terraform marks a value
	// sensitive, mirroring the shape of before and after.
	beforeSensitive, afterSensitive json.RawMessage
}

// lazyValues decodes change values on first use. ParsePlan checks their
// syntax, so decoding them later does not fail on valid plans; a failure
// (which would be a bug) is still reported.
type lazyValues struct {
	raw  []changeRaw
	once []sync.Once
	vals []ChangeValues
	errs []error
}

func newLazyValues(raw []changeRaw) *lazyValues {
	return &lazyValues{raw: raw, once: make([]sync.Once, len(raw)), vals: make([]ChangeValues, len(raw)), errs: make([]error, len(raw))}
}

// ChangeValues returns the before, after and after_unknown values of
// resource_changes[i], decoding them on first use. ParsePlan decodes only
// what the gate itself needs (tags), so that large plans stay cheap.
func (p *Plan) ChangeValues(i int) (ChangeValues, error) {
	lv := p.values
	if lv == nil || i < 0 || i >= len(lv.raw) {
		return ChangeValues{}, fmt.Errorf("plan %s: no resource change %d", p.Name, i)
	}
	lv.once[i].Do(func() {
		r := lv.raw[i]
		var v ChangeValues
		var err error
		if v.Before, err = decodeRaw(r.before); err == nil {
			if v.After, err = decodeRaw(r.after); err == nil {
				v.AfterUnknown, err = decodeRaw(r.afterUnknown)
			}
		}
		if err != nil {
			err = fmt.Errorf("plan %s: resource_changes[%d] values: %w", p.Name, i, err)
		}
		lv.vals[i], lv.errs[i] = v, err
	})
	return lv.vals[i], lv.errs[i]
}

// MemberReader reads the before, after and after_unknown objects of
// resource changes split into their top-level members, each left as a
// *json.RawMessage of its value (a slice of the plan's own bytes): a
// reader that looks at a few attributes decodes only those. A side that
// is null or not an object is nil.
//
// A MemberReader shares one table of member names and allocates the raw
// values in blocks. It is not safe for concurrent use; use one per
// goroutine.
type MemberReader struct {
	p    *Plan
	d    jsonDecoder
	slab []json.RawMessage
	keys map[string]bool // ReadOnly's members; nil: all
	kept []keptMember    // ReadOnly's scratch
}

// MemberReader returns a reader of p's changes.
func (p *Plan) MemberReader() *MemberReader {
	return &MemberReader{p: p, d: jsonDecoder{intern: newInternTable(512)}}
}

// ReadOnly is Read keeping only the members named in keys.
func (mr *MemberReader) ReadOnly(i int, keys map[string]bool) (before, after, afterUnknown map[string]any, err error) {
	mr.keys = keys
	defer func() { mr.keys = nil }()
	return mr.read(i, true)
}

// ReadKnown is ReadOnly without after_unknown, for readers that look
// at no attribute known only after apply (the identity attributes of a
// resource priced from usage alone): one object fewer to scan.
func (mr *MemberReader) ReadKnown(i int, keys map[string]bool) (before, after map[string]any, err error) {
	mr.keys = keys
	defer func() { mr.keys = nil }()
	before, after, _, err = mr.read(i, false)
	return before, after, err
}

// Read is ChangeMembers(i).
func (mr *MemberReader) Read(i int) (before, after, afterUnknown map[string]any, err error) {
	return mr.read(i, true)
}

// read splits resource_changes[i]'s before and after, and with unknown
// its after_unknown.
func (mr *MemberReader) read(i int, unknown bool) (before, after, afterUnknown map[string]any, err error) {
	p := mr.p
	lv := p.values
	if lv == nil || i < 0 || i >= len(lv.raw) {
		return nil, nil, nil, fmt.Errorf("plan %s: no resource change %d", p.Name, i)
	}
	r := lv.raw[i]
	if before, err = mr.members(r.before); err == nil {
		if after, err = mr.members(r.after); err == nil && unknown {
			afterUnknown, err = mr.members(r.afterUnknown)
		}
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("plan %s: resource_changes[%d] values: %w", p.Name, i, err)
	}
	return before, after, afterUnknown, nil
}

// members splits a raw JSON object into its members' raw values. Each
// value is a pointer into a block of raw messages, so that storing it in
// the map allocates nothing.
func (mr *MemberReader) members(b json.RawMessage) (map[string]any, error) {
	if !isObject(b) {
		return nil, nil
	}
	// The map is sized once: for ReadOnly by the members kept (gathered
	// first in a reused scratch slice), else by a count of the members.
	// Growing maps from a fixed guess was most of what reading the
	// values of a 10,000-resource plan allocated.
	if mr.keys != nil {
		mr.kept = mr.kept[:0]
		err := eachMember(&mr.d, b, func(key string, raw json.RawMessage) {
			if mr.keys[key] {
				mr.kept = append(mr.kept, keptMember{key, raw})
			}
		})
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(mr.kept))
		for _, m := range mr.kept {
			out[m.key] = mr.slabRaw(m.raw)
		}
		return out, nil
	}
	n, err := countMembers(&mr.d, b)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, n)
	err = eachMember(&mr.d, b, func(key string, raw json.RawMessage) {
		out[key] = mr.slabRaw(raw)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// slabRaw stores raw in the reader's current block and returns a pointer
// to it: storing the pointer in a map allocates nothing.
func (mr *MemberReader) slabRaw(raw json.RawMessage) *json.RawMessage {
	if len(mr.slab) == cap(mr.slab) {
		mr.slab = make([]json.RawMessage, 0, 512)
	}
	mr.slab = append(mr.slab, raw)
	return &mr.slab[len(mr.slab)-1]
}

type keptMember struct {
	key string
	raw json.RawMessage
}

// countMembers counts the members of a raw JSON object.
func countMembers(d *jsonDecoder, b []byte) (int, error) {
	n := 0
	err := eachMember(d, b, func(string, json.RawMessage) { n++ })
	return n, err
}

func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// eachMember calls fn with each member of a raw JSON object and the raw
// bytes of its value, skipping over values without decoding them. A
// document that is not an object has no members.
func eachMember(d *jsonDecoder, b []byte, fn func(key string, raw json.RawMessage)) error {
	if !isObject(b) {
		return nil
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	d.data, d.pos, d.depth = b, 0, 0
	return d.members("value", func(key string) error {
		start := d.pos
		if err := d.skip(); err != nil {
			return err
		}
		fn(key, json.RawMessage(d.data[start:d.pos]))
		return nil
	})
}

// SensitiveMembers returns the top-level members of resource_changes[i]'s
// before_sensitive and after_sensitive markers, raw: `true` for a value
// Terraform marks sensitive as a whole, an object or array marking parts
// of it. A plan without markers gives nil maps.
func (p *Plan) SensitiveMembers(i int) (before, after map[string]json.RawMessage, err error) {
	lv := p.values
	if lv == nil || i < 0 || i >= len(lv.raw) {
		return nil, nil, fmt.Errorf("plan %s: no resource change %d", p.Name, i)
	}
	r := lv.raw[i]
	if before, err = RawMembers(r.beforeSensitive); err == nil {
		after, err = RawMembers(r.afterSensitive)
	}
	return before, after, err
}

// RawMembers splits a JSON object into its members' raw values (slices
// of b), skipping over the values without decoding them; a document that
// is not an object gives nil.
func RawMembers(b []byte) (map[string]json.RawMessage, error) {
	if !isObject(b) {
		return nil, nil
	}
	out := map[string]json.RawMessage{}
	err := eachMember(&jsonDecoder{}, b, func(key string, raw json.RawMessage) {
		out[key] = raw
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func decodeRaw(b json.RawMessage) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	v, _, err := decodeJSON(b, nil)
	return v, err
}

// plucker decodes chosen members of many small objects, sharing one
// table of interned strings.
type plucker struct {
	d jsonDecoder
}

func newPlucker() *plucker {
	// The objects come from a parsed plan: validated already.
	return &plucker{d: jsonDecoder{intern: newInternTable(512), validated: true}}
}

// pluck decodes only the named members of a raw JSON object, skipping the
// rest without building them. Anything that is not an object, or an object
// without them, gives nil.
func (pl *plucker) pluck(b json.RawMessage, keys map[string]bool) (map[string]any, error) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return nil, nil
	}
	d := &pl.d
	d.data, d.pos, d.depth = b, 0, 0
	var out map[string]any // made when a named member is found
	err := d.members("value", func(key string) error {
		if !keys[key] {
			return d.skip()
		}
		v, err := d.value()
		if out == nil {
			out = make(map[string]any, 2)
		}
		out[key] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// isNull reports whether raw JSON is absent or null.
func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// tagValues plucks the tag attributes of resource_changes[i]'s after (its
// before, for a delete) and after_unknown. Malformed values were rejected
// by ParsePlan, so errors here only leave the maps empty.
func (p *Plan) tagValues(pl *plucker, i int) (after, unknown map[string]any) {
	if p.values == nil || i >= len(p.values.raw) {
		return nil, nil
	}
	r := p.values.raw[i]
	src := r.after
	if isNull(src) {
		src = r.before
		after, _ = pl.pluck(src, tagAttrs)
		return after, nil
	}
	after, _ = pl.pluck(src, tagAttrs)
	unknown, _ = pl.pluck(r.afterUnknown, tagAttrs)
	return after, unknown
}
