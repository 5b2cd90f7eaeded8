package gate

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// JSONValue decodes one JSON document straight into a Rego value
// (numbers exact, as OPA keeps them), without the map[string]any that
// ast.InterfaceToValue would convert: what the admission webhook does
// with the object of every request. Empty input is null. A syntax error
// names the byte offset.
func JSONValue(data []byte) (ast.Value, error) {
	v, _, err := JSONValueAt(data)
	return v, err
}

// JSONValueAt is JSONValue that also returns the bytes of the value
// found by following path through objects (nil when there is none; the
// last of repeated keys, as in the value): the admission webhook digests
// request.object as sent while converting the whole review once.
func JSONValueAt(data []byte, path ...string) (ast.Value, []byte, error) {
	// Strings become OPA's interned terms where it has them: no table of
	// our own.
	d := &jsonDecoder{data: data, spanPath: path, onPath: -1}
	if len(path) > 0 {
		d.onPath = 0
	}
	d.skipSpace()
	if d.pos == len(d.data) {
		return ast.Null{}, nil, nil
	}
	t, err := d.term()
	if err != nil {
		return nil, nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, nil, d.fail("unexpected data after the value")
	}
	var at []byte
	if d.spanOK {
		at = data[d.span[0]:d.span[1]:d.span[1]]
	}
	return t.Value, at, nil
}

// term decodes the value at d.pos as a Rego term.
func (d *jsonDecoder) term() (*ast.Term, error) {
	if d.pos >= len(d.data) {
		return nil, d.fail("unexpected end")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.objectTerm()
	case c == '[':
		return d.arrayTerm()
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return ast.InternedTerm(s), nil
	case c == 't':
		return ast.InternedTerm(true), d.literal("true")
	case c == 'f':
		return ast.InternedTerm(false), d.literal("false")
	case c == 'n':
		return ast.InternedNullTerm, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		n, err := d.number()
		if err != nil {
			return nil, err
		}
		// Small integers written canonically share OPA's interned terms.
		if s := string(n.(json.Number)); len(s) < 4 && canonicalInt(s) {
			if i, err := n.(json.Number).Int64(); err == nil {
				return ast.InternedTerm(int(i)), nil
			}
		}
		return ast.NumberTerm(n.(json.Number)), nil
	}
	return nil, d.fail("unexpected character")
}

// objectTerm and arrayTerm read containers through the same member and
// element loops as the plan reader.
func (d *jsonDecoder) objectTerm() (*ast.Term, error) {
	if d.depth++; d.depth > maxJSONDepth {
		return nil, d.fail("nested too deeply")
	}
	// Members are gathered on one stack for the whole document:
	// ast.NewObject copies them.
	base := len(d.pairs)
	m := d.onPath // this object is the value at spanPath[:m] (-1: off it)
	err := d.members("value", func(key string) error {
		start := d.pos
		d.onPath = -1
		if m >= 0 && m < len(d.spanPath) && key == d.spanPath[m] {
			d.onPath = m + 1
		}
		v, err := d.term()
		if err == nil {
			d.pairs = append(d.pairs, [2]*ast.Term{KeyTerm(key), v})
			if d.onPath == len(d.spanPath) {
				d.span, d.spanOK = [2]int{start, d.pos}, true
			}
		}
		d.onPath = m
		return err
	})
	if err != nil {
		return nil, err
	}
	d.depth--
	o := ast.NewObject(lastOfEachKey(d.pairs[base:])...)
	clear(d.pairs[base:])
	d.pairs = d.pairs[:base]
	return ast.NewTerm(o), nil
}

// keyTerms caches the string terms of object keys: the same few hundred
// names (metadata, labels, spec, containers, ...) come in every request.
// Lookups read a published map without a lock (with a read lock, the
// admission webhook spent 2% of its CPU on the lock's shared counter
// under load); new keys wait in pending, and are published when one is
// seen again or publishEvery of them have gathered, so a flood of
// one-off keys copies the map only every publishEvery keys.
var keyTerms struct {
	read    atomic.Pointer[map[string]*ast.Term]
	mu      sync.Mutex
	pending map[string]*ast.Term
	n       int // keys in read and pending
}

const (
	maxKeyTerms   = 4096 // distinct keys kept; later ones are made per use
	maxKeyTermLen = 64
	publishEvery  = 64
)

// KeyTerm returns a string term for an object key, shared between
// documents where possible. Terms are never modified once made, so
// sharing them is safe (OPA interns its own common strings alike).
func KeyTerm(key string) *ast.Term {
	if len(key) > maxKeyTermLen {
		return ast.StringTerm(key)
	}
	if m := keyTerms.read.Load(); m != nil {
		if t := (*m)[key]; t != nil {
			return t
		}
	}
	keyTerms.mu.Lock()
	defer keyTerms.mu.Unlock()
	if t := keyTerms.pending[key]; t != nil {
		publishKeyTerms() // a key seen twice is worth a lock-free lookup
		return t
	}
	if m := keyTerms.read.Load(); m != nil { // published meanwhile
		if t := (*m)[key]; t != nil {
			return t
		}
	}
	t := ast.InternedTerm(key)
	if keyTerms.n >= maxKeyTerms {
		return t
	}
	if keyTerms.pending == nil {
		keyTerms.pending = make(map[string]*ast.Term, publishEvery)
	}
	keyTerms.pending[key] = t
	keyTerms.n++
	if len(keyTerms.pending) >= publishEvery {
		publishKeyTerms()
	}
	return t
}

// publishKeyTerms makes the pending keys readable without the lock;
// keyTerms.mu is held.
func publishKeyTerms() {
	old := keyTerms.read.Load()
	size := len(keyTerms.pending)
	if old != nil {
		size += len(*old)
	}
	m := make(map[string]*ast.Term, size)
	if old != nil {
		for k, t := range *old {
			m[k] = t
		}
	}
	for k, t := range keyTerms.pending {
		m[k] = t
	}
	keyTerms.read.Store(&m)
	keyTerms.pending = nil
}

func (d *jsonDecoder) arrayTerm() (*ast.Term, error) {
	if d.depth++; d.depth > maxJSONDepth {
		return nil, d.fail("nested too deeply")
	}
	var elems []*ast.Term
	m := d.onPath
	d.onPath = -1 // paths lead through objects only
	defer func() { d.onPath = m }()
	err := d.elements("value", func(int) error {
		v, err := d.term()
		if err == nil {
			elems = append(elems, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	d.depth--
	return ast.ArrayTerm(elems...), nil
}

// lastOfEachKey drops the earlier pairs of a repeated key (JSON allows
// them; encoding/json keeps the last value, and ast.NewObject must not be
// given a key twice).
func lastOfEachKey(pairs [][2]*ast.Term) [][2]*ast.Term {
	dup := false
	if len(pairs) <= 16 {
		for i := 1; i < len(pairs) && !dup; i++ {
			for j := 0; j < i; j++ {
				if pairs[i][0].Value.Compare(pairs[j][0].Value) == 0 {
					dup = true
					break
				}
			}
		}
	} else {
		seen := make(map[ast.String]bool, len(pairs))
		for _, p := range pairs {
			k := p[0].Value.(ast.String)
			if seen[k] {
				dup = true
				break
			}
			seen[k] = true
		}
	}
	if !dup {
		return pairs
	}
	last := make(map[ast.String]int, len(pairs))
	for i, p := range pairs {
		last[p[0].Value.(ast.String)] = i
	}
	out := make([][2]*ast.Term, 0, len(last))
	for i, p := range pairs {
		if last[p[0].Value.(ast.String)] == i {
			out = append(out, p)
		}
	}
	return out
}
