package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// changeLite is one resource_changes entry as ParsePlan reads it: the
// scalar facts, the actions, and the raw bytes of the values. Reading the
// list into these instead of maps is most of what makes a large plan
// cheap to load.
type changeLite struct {
	Address, ModuleAddress, Mode, Type, Name, ProviderName string
	PreviousAddress, ActionReason, Deposed                 string
	Index                                                  any
	HasChange                                              bool
	Actions                                                []string
	raw                                                    changeRaw
}

// shapeError is a plan whose JSON is valid but whose structure is not
// that of a plan; off is the byte offset of the offending value.
type shapeError struct {
	off int
	msg string
}

func (e *shapeError) Error() string { return e.msg }

// changeList decodes resource_changes at d.pos into changeLite entries,
// in chunks of fixed size (the last one shorter): appending to one slice
// would allocate about five times the final size on the way (large
// slices grow by a quarter), and copying the chunks into one slice would
// touch the size again; on a 10,000-resource plan either is megabytes of
// fresh memory for nothing. The caller walks the chunks in order.
func (d *jsonDecoder) changeList() ([][]changeLite, error) {
	// Chunks of up to 512 changes: a 10,000-resource plan is never
	// copied whole to grow. The first chunk starts small and doubles, so
	// a plan of a few dozen resources does not allocate 512 (150 KB).
	const chunk = 512
	var (
		full [][]changeLite
		cur  = make([]changeLite, 0, 16)
	)
	err := d.elements("resource_changes", func(i int) error {
		if len(cur) == cap(cur) {
			if cap(cur) < chunk {
				cur = append(make([]changeLite, 0, min(2*cap(cur), chunk)), cur...)
			} else {
				full = append(full, cur)
				cur = make([]changeLite, 0, chunk)
			}
		}
		c, err := d.change()
		cur = append(cur, c)
		var se *shapeError
		if errors.As(err, &se) {
			se.msg = strings.Replace(se.msg, rcPath, fmt.Sprintf("resource_changes[%d]", i), 1)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return append(full, cur), nil
}

// rcPath stands for "resource_changes[i]" in the paths of shape errors
// while an entry is decoded (so that no path string is built for the
// entries that have no error); changeList puts the index in.
const rcPath = "resource_changes[#]"

// shape reports that the value at d.pos is not of the wanted kind.
func (d *jsonDecoder) shape(path, want string) error {
	if d.pos >= len(d.data) || !isValueStart(d.data[d.pos]) {
		return d.fail("expected a value") // a syntax error: reported as such
	}
	return &shapeError{off: d.pos, msg: fmt.Sprintf("%s: expected %s, got %s", path, want, d.kindAt())}
}

func (d *jsonDecoder) kindAt() string {
	if d.pos >= len(d.data) {
		return "nothing"
	}
	return rawKind(json.RawMessage(d.data[d.pos:min(d.pos+1, len(d.data))]))
}

// members calls f for each member of the object at d.pos; f must consume
// the member's value.
func (d *jsonDecoder) members(path string, f func(key string) error) error {
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return d.shape(path, "object")
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.fail("expected a member name")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.fail("expected ':'")
		}
		d.pos++
		d.skipSpace()
		if err := f(key); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.fail("unexpected end in object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.fail("expected ',' or '}'")
		}
	}
}

// optString reads a string or null into *s.
func (d *jsonDecoder) optString(path string, s *string) error {
	if d.pos < len(d.data) && d.data[d.pos] == 'n' {
		return d.literal("null")
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return d.shape(path, "string")
	}
	v, err := d.str()
	*s = v
	return err
}

func (d *jsonDecoder) change() (changeLite, error) {
	var c changeLite
	const path = rcPath
	err := d.members(path, func(key string) error {
		switch key {
		case "address":
			return d.optString(path+".address", &c.Address)
		case "module_address":
			return d.optString(path+".module_address", &c.ModuleAddress)
		case "mode":
			return d.optString(path+".mode", &c.Mode)
		case "type":
			return d.optString(path+".type", &c.Type)
		case "name":
			return d.optString(path+".name", &c.Name)
		case "provider_name":
			return d.optString(path+".provider_name", &c.ProviderName)
		case "previous_address":
			return d.optString(path+".previous_address", &c.PreviousAddress)
		case "action_reason":
			return d.optString(path+".action_reason", &c.ActionReason)
		case "deposed":
			return d.optString(path+".deposed", &c.Deposed)
		case "index":
			v, err := d.value()
			c.Index = v
			return err
		case "change":
			c.HasChange = true
			return d.changeBody(&c)
		}
		return d.skip()
	})
	if err != nil {
		return c, err
	}
	if !c.HasChange {
		return c, &shapeError{off: d.pos, msg: path + ".change: missing"}
	}
	if len(c.Actions) == 0 {
		return c, &shapeError{off: d.pos, msg: path + ".change.actions: expected a non-empty array of actions"}
	}
	return c, nil
}

func (d *jsonDecoder) changeBody(c *changeLite) error {
	const path = rcPath + ".change"
	return d.members(path, func(key string) error {
		switch key {
		case "actions":
			return d.actions(path+".actions", c)
		case "before", "after", "after_unknown", "before_sensitive", "after_sensitive":
			start := d.pos
			if (key == "before" || key == "after") && d.pos < len(d.data) && d.data[d.pos] != '{' && d.data[d.pos] != 'n' {
				return d.shape(path+"."+key, "object")
			}
			if err := d.skip(); err != nil {
				return err
			}
			raw := json.RawMessage(d.data[start:d.pos])
			switch key {
			case "before":
				c.raw.before = raw
			case "after":
				c.raw.after = raw
			case "after_unknown":
				c.raw.afterUnknown = raw
			case "before_sensitive":
				c.raw.beforeSensitive = raw
			default:
				c.raw.afterSensitive = raw
			}
			return nil
		}
		return d.skip()
	})
}

func (d *jsonDecoder) actions(path string, c *changeLite) error {
	return d.elements(path, func(j int) error {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.shape(fmt.Sprintf("%s[%d]", path, j), "string")
		}
		s, err := d.str()
		c.Actions = append(c.Actions, s)
		return err
	})
}

func isValueStart(c byte) bool {
	return c == '{' || c == '[' || c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' || c >= '0' && c <= '9'
}

// elements calls f for each element of the array at d.pos (null is an
// empty array); f must consume the element.
func (d *jsonDecoder) elements(path string, f func(i int) error) error {
	if d.pos < len(d.data) && d.data[d.pos] == 'n' {
		return d.literal("null")
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return d.shape(path, "array")
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		d.skipSpace()
		if err := f(i); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.fail("unexpected end in array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.fail("expected ',' or ']'")
		}
	}
}
