package gate

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	tfjson "github.com/hashicorp/terraform-json"
)

// MaxPlanSize is the largest plan LoadPlan reads by default (256 MiB).
const MaxPlanSize = 256 << 20

// Plan is a Terraform plan as `terraform show -json` wrote it: the typed
// view from terraform-json for facts, and the raw document (numbers kept
// as json.Number) that policies see unchanged as input.plan.
type Plan struct {
	// Name is where the plan came from, for messages ("-" is stdin).
	Name string
	// Raw is the document decoded with numbers as json.Number. The
	// members in eagerMembers are trees; the others (planned_values,
	// prior_state, configuration, ...) are their json.RawMessage bytes.
	Raw map[string]any
	// Typed is the terraform-json view of the parts costgate reads:
	// format and Terraform versions, variables, configuration and
	// resource changes (planned values and prior state stay in Raw only).
	Typed *tfjson.Plan
	// SHA256 is the hex digest of the plan's UTF-8 bytes.
	SHA256 string

	// values holds each resource change's before/after/after_unknown,
	// decoded on demand (see ChangeValues): Typed's Change.Before,
	// Change.After and Change.AfterUnknown are left nil.
	values *lazyValues
}

// InputError is bad input the user must fix: the CLI exits 2 on it and
// the HTTP handlers answer 400. It says what and where, and how to fix it.
type InputError struct {
	Name   string // file name, "-" for stdin
	Line   int    // 1-based; 0 when not known
	Column int    // 1-based; 0 when not known
	Offset int64  // byte offset; -1 when not known
	Msg    string
	Hint   string
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.Name)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Offset >= 0 && e.Line > 0 {
		fmt.Fprintf(&b, " (byte offset %d)", e.Offset)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

const showHint = "costgate reads the JSON form of a plan: run `terraform show -json PLANFILE > plan.json` (or `tofu show -json`)"

// eagerMembers are the top-level plan members decoded at load; the rest
// (planned_values, prior_state, configuration, ...) are checked for syntax
// and decoded only when a policy reads them through input.plan.
var eagerMembers = map[string]bool{
	"format_version": true, "terraform_version": true, "variables": true,
	"resource_changes": true, "applyable": true, "complete": true, "errored": true, "timestamp": true,
}

// ReadPlan reads at most limit bytes (MaxPlanSize when limit <= 0) of a
// plan from r and parses it with ParsePlan.
func ReadPlan(r io.Reader, name string, limit int64) (*Plan, error) {
	if limit <= 0 {
		limit = MaxPlanSize
	}
	data, err := readAll(r, limit+1)
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, limit)
	}
	return ParsePlan(data, name)
}

// ReadPlanFile parses the plan in the file at path, like ReadPlan. On
// Unix a regular file is mapped into memory read-only instead of copied:
// on a 15 MB plan that saves the 15 MB the copy would touch, which is
// tens of milliseconds on machines where a fresh page is expensive. The
// mapping is never released, because the plan's lazily decoded members
// point into it; use ReadPlanFile in a program that reads a bounded number
// of plans (the CLI), and ReadPlan in a server. As with any mapped file, a
// file truncated by another program while the plan is in use makes the
// process fault; a plan file is written once, before it is checked.
func ReadPlanFile(path string, limit int64) (*Plan, error) {
	if limit <= 0 {
		limit = MaxPlanSize
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return ReadPlan(f, path, limit)
	}
	if fi.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	data, ok := mapFile(f, fi.Size())
	if !ok {
		return ReadPlan(f, path, limit)
	}
	return ParsePlan(data, path)
}

func tooLarge(name string, limit int64) error {
	return &InputError{Name: name, Offset: -1,
		Msg:  fmt.Sprintf("plan is larger than the %d MiB limit", limit>>20),
		Hint: "raise the limit or split the configuration into smaller workspaces"}
}

// readAll reads up to max bytes; for a file it sizes the buffer once
// instead of growing it through a 15 MB plan.
func readAll(r io.Reader, max int64) ([]byte, error) {
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() < max {
			// One byte more than the size, to see a file that grew.
			buf := make([]byte, fi.Size()+1)
			n, err := io.ReadFull(r, buf)
			switch err {
			case io.ErrUnexpectedEOF, io.EOF:
				return buf[:n], nil
			case nil:
				rest, err := io.ReadAll(io.LimitReader(r, max-int64(n)))
				return append(buf, rest...), err
			}
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(r, max))
}

// ParsePlan decodes the output of `terraform show -json` (format_version
// 0.x or 1.x). UTF-8 with or without a byte order mark and UTF-16 with a
// byte order mark are accepted. Every failure is an *InputError.
func ParsePlan(data []byte, name string) (*Plan, error) {
	text, err := toUTF8(data, name)
	if err != nil {
		return nil, err
	}
	if err := checkPrefix(text, name); err != nil {
		return nil, err
	}
	// On a large plan the digest is computed while the plan is decoded.
	sumc := make(chan [sha256.Size]byte, 1)
	if len(text) >= 1<<20 && runtime.GOMAXPROCS(0) > 1 {
		go func() { sumc <- sha256.Sum256(text) }()
	} else {
		sumc <- sha256.Sum256(text)
	}
	dec, raw, err := decodeWith(text, eagerMembers)
	if err != nil {
		var se *shapeError
		if errors.As(err, &se) {
			return nil, posError(text, name, int64(se.off), se.msg, showHint)
		}
		return nil, syntaxError(text, name)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, &InputError{Name: name, Offset: -1, Msg: fmt.Sprintf("the document is a JSON %s, not a plan object", jsonKind(raw)), Hint: showHint}
	}
	if err := checkPlanShape(obj, name); err != nil {
		return nil, err
	}
	typed, changes, err := typedPlan(obj, text, dec.spans, dec.changes, name)
	if err != nil {
		return nil, err
	}
	sum := <-sumc
	return &Plan{Name: name, Raw: obj, Typed: typed, SHA256: hex.EncodeToString(sum[:]), values: newLazyValues(changes)}, nil
}

// syntaxError asks encoding/json where and why text is not JSON, so the
// message reads as Go's own does.
func syntaxError(text []byte, name string) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(text))
	err := dec.Decode(&v)
	if err == nil {
		off := dec.InputOffset()
		extra := bytes.TrimLeft(text[off:], " \t\r\n")
		off = int64(len(text) - len(extra))
		return posError(text, name, off, "unexpected text after the JSON document: "+quoteStart(extra),
			"pass exactly one `terraform show -json` document")
	}
	return jsonError(text, name, err, dec.InputOffset())
}

func toUTF8(data []byte, name string) ([]byte, error) {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return nil, &InputError{Name: name, Offset: -1, Msg: "the plan is empty", Hint: showHint}
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return nil, &InputError{Name: name, Offset: -1,
			Msg:  "this is a binary plan file (a zip archive written by `terraform plan -out`), not JSON",
			Hint: "run `terraform show -json PLAN > plan.json` and check plan.json"}
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeUTF16(data, name)
	}
	if !utf8.Valid(data) {
		return nil, &InputError{Name: name, Offset: -1, Msg: "the plan is not valid UTF-8 and has no UTF-16 byte order mark",
			Hint: "write the plan as UTF-8, e.g. `terraform show -json PLAN | Out-File -Encoding utf8 plan.json` in PowerShell"}
	}
	return data, nil
}

func decodeUTF16(data []byte, name string) ([]byte, error) {
	var order binary.ByteOrder = binary.LittleEndian
	if data[0] == 0xFE {
		order = binary.BigEndian
	}
	data = data[2:]
	if len(data)%2 != 0 {
		return nil, &InputError{Name: name, Offset: -1, Msg: "UTF-16 plan has an odd number of bytes: it looks truncated", Hint: showHint}
	}
	u := make([]uint16, len(data)/2)
	for i := range u {
		u[i] = order.Uint16(data[2*i:])
	}
	return []byte(string(utf16.Decode(u))), nil
}

// checkPrefix rejects text before the JSON document, naming the GitHub
// Actions terraform wrapper when that is what wrote it.
func checkPrefix(text []byte, name string) error {
	trimmed := bytes.TrimLeft(text, " \t\r\n")
	off := int64(len(text) - len(trimmed))
	first, _, _ := bytes.Cut(trimmed, []byte("\n"))
	first = bytes.TrimRight(first, "\r")
	if bytes.HasPrefix(first, []byte("[command]")) || bytes.HasPrefix(first, []byte("::debug::")) || bytes.HasPrefix(first, []byte("::set-output")) {
		return posError(text, name, off,
			fmt.Sprintf("found the GitHub Actions terraform wrapper's output before the JSON (%s)", quoteStart(first)),
			"the hashicorp/setup-terraform wrapper adds its own lines to stdout: set `terraform_wrapper: false` on the setup-terraform step (or call `terraform-bin show -json PLAN`)")
	}
	if len(trimmed) == 0 || trimmed[0] == '{' || trimmed[0] == '[' || trimmed[0] == '"' {
		return nil
	}
	return posError(text, name, off, "found text before the JSON document: "+quoteStart(first),
		"pass only the output of `terraform show -json PLAN`, with nothing printed before it")
}

func quoteStart(b []byte) string {
	const max = 60
	s := string(b)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}

func jsonError(text []byte, name string, err error, decOff int64) error {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return posError(text, name, int64(len(text)), "unexpected end of JSON input: the plan is truncated",
			"write the plan again with `terraform show -json PLAN > plan.json` and check the disk was not full")
	case errors.As(err, &syn):
		off := syn.Offset
		if off > 0 {
			off-- // Offset counts the byte that failed
		}
		return posError(text, name, off, "invalid JSON: "+syn.Error(), showHint)
	}
	return posError(text, name, decOff, "invalid JSON: "+err.Error(), showHint)
}

func posError(text []byte, name string, off int64, msg, hint string) *InputError {
	line, col := lineCol(text, off)
	return &InputError{Name: name, Line: line, Column: col, Offset: off, Msg: msg, Hint: hint}
}

// lineCol turns a byte offset into a 1-based line and column (in runes).
func lineCol(text []byte, off int64) (int, int) {
	if off > int64(len(text)) {
		off = int64(len(text))
	}
	if off < 0 {
		off = 0
	}
	before := text[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

// rawKind names the JSON kind of a member that may still be raw.
func rawKind(v any) string {
	raw, ok := v.(json.RawMessage)
	if !ok {
		return jsonKind(v)
	}
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// checkPlanShape tells a plan from other Terraform JSON and checks the
// format_version before the typed decode, so the message is specific.
func checkPlanShape(obj map[string]any, name string) error {
	fv, _ := obj["format_version"].(string)
	if fv == "" {
		hint := showHint
		switch {
		case obj["resource_changes"] != nil || obj["planned_values"] != nil:
			return &InputError{Name: name, Offset: -1, Msg: "format_version is missing", Hint: hint}
		case obj["resources"] != nil && obj["serial"] != nil:
			hint = "this looks like a raw state file (terraform.tfstate); costgate checks plans: " + showHint
		}
		return &InputError{Name: name, Offset: -1, Msg: "the document is not a Terraform plan (no format_version)", Hint: hint}
	}
	major, _, _ := strings.Cut(fv, ".")
	if major != "0" && major != "1" {
		return &InputError{Name: name, Offset: -1,
			Msg:  fmt.Sprintf("format_version %q is not supported: costgate reads plan format 0.x and 1.x", fv),
			Hint: "upgrade costgate, or produce the plan with a Terraform release that writes format 1.x"}
	}
	if _, ok := obj["planned_values"]; !ok {
		if _, ok := obj["resource_changes"]; !ok {
			if _, ok := obj["values"]; ok {
				return &InputError{Name: name, Offset: -1,
					Msg:  "this is the JSON of a state (`terraform show -json` without a plan file), not of a plan",
					Hint: "run `terraform plan -out PLAN` and then `terraform show -json PLAN > plan.json`"}
			}
		}
	}
	return nil
}
