package gate

import (
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// planInputKeys are the members of the input document that only a plan
// has. input.context is on every surface; input.kubernetes only on an
// admission request.
var planInputKeys = map[string]bool{"resources": true, "index": true, "cost": true, "plan": true, "summary": true}

var inputVar, dataVar = ast.Var("input"), ast.Var("data")

// inputUse is what a package's rules read of the input document.
type inputUse struct {
	plan     bool // a member of planInputKeys
	kube     bool // input.kubernetes
	anything bool // input as a whole, a computed member, an unknown member, or input replaced with `with`
	deps     map[string]bool
}

// planOnlyPackages returns the packages whose rules, and the rules of
// every package they refer to, read the input document only through
// plan members (input.resources, input.index, input.cost, input.plan,
// input.summary; input.context aside). Such a package judges plans: on
// an admission request its rules see none of what they read, so the
// admission query leaves it out. Anything the analysis cannot pin down
// (input as a whole, input[x], a computed data reference, `with input`)
// keeps a package in.
func planOnlyPackages(mods map[string]*ast.Module) map[string]bool {
	uses := map[string]*inputUse{}
	var pkgs []string
	for _, m := range mods {
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
		if uses[pkg] == nil {
			uses[pkg] = &inputUse{deps: map[string]bool{}}
			pkgs = append(pkgs, pkg)
		}
	}
	sort.Strings(pkgs)
	// depsOf lists the packages a data reference reads: the longest
	// package its constant path lies in, or, when the path stops above
	// packages (data.costgate, data.costgate[x]), every package under it.
	depsOf := func(ref ast.Ref) []string {
		var parts []string
		for _, t := range ref[1:] {
			s, ok := t.Value.(ast.String)
			if !ok {
				break
			}
			parts = append(parts, string(s))
		}
		for i := len(parts); i > 0; i-- {
			if p := strings.Join(parts[:i], "."); uses[p] != nil {
				return []string{p}
			}
		}
		prefix := strings.Join(parts, ".")
		var under []string
		for _, p := range pkgs {
			if prefix == "" || strings.HasPrefix(p, prefix+".") {
				under = append(under, p)
			}
		}
		return under
	}
	for _, m := range mods {
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
		u := uses[pkg]
		aliases := map[ast.Var]ast.Ref{}
		for _, imp := range m.Imports {
			ref, ok := imp.Path.Value.(ast.Ref)
			if !ok || len(ref) == 0 {
				continue
			}
			name := imp.Alias
			if name == "" {
				if len(ref) == 1 {
					name = ref[0].Value.(ast.Var)
				} else if s, ok := ref[len(ref)-1].Value.(ast.String); ok {
					name = ast.Var(s)
				}
			}
			if name != "" && name != "rego" && name != "future" {
				aliases[name] = ref
			}
		}
		readRef := func(ref ast.Ref) {
			head, ok := ref[0].Value.(ast.Var)
			if !ok {
				return
			}
			if imp, ok := aliases[head]; ok && head != inputVar && head != dataVar {
				ref = imp.Concat(ref[1:])
				head, _ = ref[0].Value.(ast.Var)
			}
			switch {
			case head == inputVar:
				if len(ref) < 2 {
					u.anything = true
					return
				}
				key, ok := ref[1].Value.(ast.String)
				switch {
				case !ok:
					u.anything = true
				case string(key) == "kubernetes":
					u.kube = true
				case planInputKeys[string(key)]:
					u.plan = true
				case string(key) == "context":
				default:
					u.anything = true
				}
			case head == dataVar:
				for _, dep := range depsOf(ref) {
					if dep != pkg {
						u.deps[dep] = true
					}
				}
			}
		}
		handled := map[*ast.Term]bool{}
		// objectGet reads object.get(input, KEY, default) and
		// object.get(input, [KEY, ...], default) as input.KEY.
		objectGet := func(terms []*ast.Term) {
			if len(terms) < 3 || !terms[0].Equal(ast.RefTerm(ast.VarTerm("object"), ast.StringTerm("get"))) {
				return
			}
			if !terms[1].Equal(ast.InputRootDocument) && !terms[1].Equal(ast.NewTerm(ast.InputRootRef)) {
				return
			}
			var key *ast.Term
			switch k := terms[2].Value.(type) {
			case ast.String:
				key = terms[2]
			case *ast.Array:
				if k.Len() > 0 {
					key = k.Elem(0)
				}
			}
			if key == nil {
				return // input as a whole
			}
			handled[terms[1]] = true
			readRef(ast.Ref{ast.InputRootDocument, key})
		}
		var visit func(x any) bool
		visit = func(x any) bool {
			switch x := x.(type) {
			case *ast.Term:
				return handled[x]
			case *ast.Expr:
				if terms, ok := x.Terms.([]*ast.Term); ok {
					objectGet(terms)
				}
			case ast.Call:
				objectGet(x)
			case *ast.Import:
				return true // read through the aliases
			case ast.Ref:
				readRef(x)
				for _, t := range x[1:] {
					ast.NewGenericVisitor(visit).Walk(t)
				}
				return true
			case ast.Var:
				switch imp, ok := aliases[x]; {
				case x == inputVar:
					u.anything = true // input as a value
				case x == dataVar:
					readRef(ast.Ref{ast.DefaultRootDocument})
				case ok:
					readRef(imp)
				}
			case *ast.With:
				if ref, ok := x.Target.Value.(ast.Ref); ok && ref.HasPrefix(ast.InputRootRef) {
					u.anything = true
				}
			}
			return false
		}
		ast.NewGenericVisitor(visit).Walk(m)
	}
	planOnly := map[string]bool{}
	for _, pkg := range pkgs {
		var all inputUse
		seen := map[string]bool{}
		var walk func(p string)
		walk = func(p string) {
			if seen[p] {
				return
			}
			seen[p] = true
			u := uses[p]
			all.plan = all.plan || u.plan
			all.kube = all.kube || u.kube
			all.anything = all.anything || u.anything
			for d := range u.deps {
				walk(d)
			}
		}
		walk(pkg)
		if all.plan && !all.kube && !all.anything {
			planOnly[pkg] = true
		}
	}
	return planOnly
}
