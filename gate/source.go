package gate

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// maxSourceFileSize bounds one Terraform source file; sources are
// untrusted input like plans are.
const maxSourceFileSize = 8 << 20

// maxModuleDepth bounds how deep LoadSources follows nested local module
// calls.
const maxModuleDepth = 64

// SourceIndex maps Terraform resource addresses to the file and line of
// the block that declares them, so findings can point at the code: a
// GitHub annotation lands on `resource "aws_instance" "web" {`.
//
// Build one with LoadSources. A nil *SourceIndex is valid and knows no
// sources.
type SourceIndex struct {
	root *moduleSources
}

// moduleSources is what one module directory declares. Two module calls
// with the same source share one *moduleSources.
type moduleSources struct {
	// blocks maps "aws_instance.web", "data.aws_ami.x" and
	// "ephemeral.random_password.p" to "dir/file.tf:LINE".
	blocks map[string]string
	// calls holds the module calls of this module.
	calls map[string]moduleCall
}

type moduleCall struct {
	// pos is "dir/file.tf:LINE" of the module block.
	pos string
	// child is nil for a module whose source is not a local path
	// (registry, git, http, ...): its resources have no source.
	child *moduleSources
}

// sourceSchema picks out the blocks LoadSources cares about; everything
// else in a Terraform file is ignored.
var sourceSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "resource", LabelNames: []string{"type", "name"}},
		{Type: "data", LabelNames: []string{"type", "name"}},
		{Type: "ephemeral", LabelNames: []string{"type", "name"}},
		{Type: "module", LabelNames: []string{"name"}},
	},
}

var moduleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "source"}},
}

// LoadSources parses the Terraform configuration in dir (its *.tf and
// *.tf.json files) and, recursively, the local modules it calls (a
// module block whose source starts with "./" or "../"). Modules from a
// registry, git or any other remote source are not followed.
//
// Positions are reported relative to dir with forward slashes, such as
// "modules/net/main.tf:12". Syntax errors come back as an error naming
// file:line:col for each problem, one per line; errors.As into an
// hcl.Diagnostics recovers them.
func LoadSources(ctx context.Context, dir string) (*SourceIndex, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load terraform sources: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("load terraform sources %s: not a directory", dir)
	}
	l := &sourceLoader{
		ctx:     ctx,
		base:    dir,
		parser:  hclparse.NewParser(),
		loaded:  map[string]*moduleSources{},
		loading: map[string]bool{},
	}
	root, err := l.load(".", 0)
	if err != nil {
		return nil, err
	}
	if l.files == 0 {
		return nil, fmt.Errorf("load terraform sources %s: no *.tf or *.tf.json files (use the directory where you run terraform plan)", dir)
	}
	return &SourceIndex{root: root}, nil
}

// Lookup returns "path/to/file.tf:LINE" for the resource or data block
// that declares address, a resource address as Terraform writes it in a
// plan: "aws_instance.web", "aws_instance.web[0]",
// `module.a["k"].module.b[0].aws_x.y`, "data.aws_ami.x". Instance keys
// are ignored: every instance of a block points at the block.
//
// A resource inside a module that is not loaded from a local path points
// at the outermost module block in the loaded sources that leads to it,
// the closest line a user can change. Lookup returns "" for an address
// it cannot resolve and on a nil *SourceIndex.
func (s *SourceIndex) Lookup(address string) string {
	if s == nil || s.root == nil {
		return ""
	}
	segs, ok := splitAddress(address)
	if !ok {
		return ""
	}
	m := s.root
	for len(segs) > 2 && segs[0] == "module" {
		call, ok := m.calls[segs[1]]
		if !ok {
			return ""
		}
		if call.child == nil {
			return call.pos
		}
		m = call.child
		segs = segs[2:]
	}
	switch {
	case len(segs) == 2:
		return m.blocks[segs[0]+"."+segs[1]]
	case len(segs) == 3 && (segs[0] == "data" || segs[0] == "ephemeral"):
		return m.blocks[segs[0]+"."+segs[1]+"."+segs[2]]
	}
	return ""
}

// splitAddress splits a resource address at the dots that are outside
// instance keys and drops the keys:
// `module.a["x.y"].aws_s3_bucket.b[0]` -> module, a, aws_s3_bucket, b.
func splitAddress(addr string) ([]string, bool) {
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(addr); i++ {
		switch c := addr[i]; c {
		case '.':
			if cur.Len() == 0 {
				return nil, false
			}
			segs = append(segs, cur.String())
			cur.Reset()
		case '[':
			end, ok := skipIndex(addr, i)
			if !ok {
				return nil, false
			}
			i = end
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() == 0 {
		return nil, false
	}
	return append(segs, cur.String()), true
}

// skipIndex returns the position of the ']' closing the instance key
// that opens at addr[open]; a string key may hold dots, brackets and
// escaped quotes.
func skipIndex(addr string, open int) (int, bool) {
	inString := false
	for i := open + 1; i < len(addr); i++ {
		c := addr[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == ']':
			return i, true
		}
	}
	return 0, false
}

type sourceLoader struct {
	ctx    context.Context
	base   string // the directory given to LoadSources
	parser *hclparse.Parser
	// loaded holds modules by slash path relative to base; loading marks
	// the modules on the current call chain, to catch cycles.
	loaded  map[string]*moduleSources
	loading map[string]bool
	files   int
}

// load parses the module in rel (a cleaned slash path relative to base).
func (l *sourceLoader) load(rel string, depth int) (*moduleSources, error) {
	if m, ok := l.loaded[rel]; ok {
		return m, nil
	}
	if l.loading[rel] {
		return nil, fmt.Errorf("load terraform sources %s: module %s calls itself through its local module calls", l.base, rel)
	}
	if depth > maxModuleDepth {
		return nil, fmt.Errorf("load terraform sources %s: local modules nested more than %d deep at %s", l.base, maxModuleDepth, rel)
	}
	l.loading[rel] = true
	defer delete(l.loading, rel)

	names, err := configFiles(filepath.Join(l.base, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("load terraform sources %s: %w", l.base, err)
	}
	m := &moduleSources{blocks: map[string]string{}, calls: map[string]moduleCall{}}
	type pendingCall struct {
		name, pos, source string
	}
	var calls []pendingCall
	var diags hcl.Diagnostics
	for _, name := range names {
		if err := l.ctx.Err(); err != nil {
			return nil, err
		}
		file := path.Join(rel, name)
		body, fileDiags := l.parse(file)
		diags = append(diags, fileDiags...)
		if body == nil {
			continue
		}
		l.files++
		content, _, contentDiags := body.PartialContent(sourceSchema)
		diags = append(diags, contentDiags...)
		for _, b := range content.Blocks {
			pos := fmt.Sprintf("%s:%d", file, b.DefRange.Start.Line)
			switch b.Type {
			case "resource", "data", "ephemeral":
				if len(b.Labels) != 2 {
					continue
				}
				key := b.Labels[0] + "." + b.Labels[1]
				if b.Type != "resource" {
					key = b.Type + "." + key
				}
				// The first declaration wins: override files are read
				// last and only amend blocks declared elsewhere.
				if _, dup := m.blocks[key]; !dup {
					m.blocks[key] = pos
				}
			case "module":
				if len(b.Labels) != 1 {
					continue
				}
				if _, dup := m.calls[b.Labels[0]]; dup {
					continue
				}
				attrs, _, attrDiags := b.Body.PartialContent(moduleSchema)
				diags = append(diags, attrDiags...)
				src := ""
				if a, ok := attrs.Attributes["source"]; ok {
					// source must be a literal string in Terraform; anything
					// else is treated as a remote module.
					if v, vd := a.Expr.Value(nil); !vd.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
						src = v.AsString()
					}
				}
				m.calls[b.Labels[0]] = moduleCall{pos: pos}
				calls = append(calls, pendingCall{name: b.Labels[0], pos: pos, source: src})
			}
		}
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("load terraform sources %s: %w", l.base, &diagError{diags: diags})
	}
	for _, c := range calls {
		if !isLocalModuleSource(c.source) {
			continue
		}
		childRel := path.Clean(path.Join(rel, strings.ReplaceAll(c.source, "\\", "/")))
		dir := filepath.Join(l.base, filepath.FromSlash(childRel))
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("load terraform sources %s: %s: module %q: source %q: no module directory at %s", l.base, c.pos, c.name, c.source, childRel)
		}
		child, err := l.load(childRel, depth+1)
		if err != nil {
			return nil, err
		}
		m.calls[c.name] = moduleCall{pos: c.pos, child: child}
	}
	l.loaded[rel] = m
	return m, nil
}

// parse reads and parses one file; file is a slash path relative to base
// and names the file in diagnostics.
func (l *sourceLoader) parse(file string) (hcl.Body, hcl.Diagnostics) {
	f, err := os.Open(filepath.Join(l.base, filepath.FromSlash(file)))
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read file", Detail: err.Error(), Subject: &hcl.Range{Filename: file}}}
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxSourceFileSize+1))
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read file", Detail: err.Error(), Subject: &hcl.Range{Filename: file}}}
	}
	if len(src) > maxSourceFileSize {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "File too large", Detail: fmt.Sprintf("Terraform source files are limited to %d MiB.", maxSourceFileSize>>20), Subject: &hcl.Range{Filename: file}}}
	}
	var hf *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(file, ".json") {
		hf, diags = l.parser.ParseJSON(src, file)
	} else {
		hf, diags = l.parser.ParseHCL(src, file)
	}
	if hf == nil || hf.Body == nil || diags.HasErrors() {
		return nil, diags
	}
	return hf.Body, diags
}

// configFiles lists the Terraform configuration files of one module
// directory in the order Terraform reads them: primary files sorted by
// name, then override files (override.tf, *_override.tf and the .tf.json
// forms). Editor backups and hidden files are skipped like Terraform
// does.
func configFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var primary, override []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || isIgnoredFile(name) {
			continue
		}
		var stem string
		switch {
		case strings.HasSuffix(name, ".tf"):
			stem = strings.TrimSuffix(name, ".tf")
		case strings.HasSuffix(name, ".tf.json"):
			stem = strings.TrimSuffix(name, ".tf.json")
		default:
			continue
		}
		if stem == "override" || strings.HasSuffix(stem, "_override") {
			override = append(override, name)
		} else {
			primary = append(primary, name)
		}
	}
	sort.Strings(primary)
	sort.Strings(override)
	return append(primary, override...), nil
}

// isIgnoredFile mirrors Terraform's rule for files in a module directory
// that are not configuration: dotfiles, emacs autosaves and backups.
func isIgnoredFile(name string) bool {
	return strings.HasPrefix(name, ".") ||
		strings.HasSuffix(name, "~") ||
		(strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"))
}

// isLocalModuleSource reports whether a module source is a local path,
// which Terraform recognises only by these prefixes.
func isLocalModuleSource(src string) bool {
	return strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") ||
		strings.HasPrefix(src, ".\\") || strings.HasPrefix(src, "..\\")
}

// diagError renders HCL error diagnostics one per line as
// "file:line:col: summary; detail" and unwraps to the hcl.Diagnostics.
type diagError struct {
	diags hcl.Diagnostics
}

func (e *diagError) Error() string {
	var b strings.Builder
	n := 0
	for _, d := range e.diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if n > 0 {
			b.WriteString("\n")
		}
		n++
		if d.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		b.WriteString(d.Summary)
		if d.Detail != "" {
			b.WriteString("; ")
			b.WriteString(d.Detail)
		}
	}
	return b.String()
}

func (e *diagError) Unwrap() error { return e.diags }
