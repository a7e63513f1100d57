package spec

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/apply-cli/apply/schemas"
)

// DefaultSpecVersion is the connection spec version of a manifest that
// leaves connectionSpec.version out. The API documentation states that an
// omitted version means the latest, but its schema requires the field, and
// every documented spec is at 1.0.
const DefaultSpecVersion = "1.0"

// manifestSchema returns the compiled manifest schema.
var manifestSchema = sync.OnceValue(func() *schemaValidator {
	v, err := compileSchema(schemas.Manifest())
	if err != nil {
		panic("spec: embedded manifest schema: " + err.Error()) // a test compiles it
	}
	return v
})

// role is the part of a manifest that a node belongs to. The resolver needs
// it because variables are substituted only in auth param values.
type role int

const (
	roleOther role = iota
	roleRoot
	roleAuth
	roleParams
)

// document resolves one YAML document of a file into a manifest.
type document struct {
	file   *fileLoader
	root   *node
	params map[string]Value
	fields map[string]Position
	keys   map[string]Position
	errs   []*Error

	// badFields contains the fields with an invalid "$" or an unset variable.
	badFields map[string]bool
}

func (d *document) pos(n *node) Position {
	return Position{File: d.file.path, Line: n.line, Col: n.col}
}

// load validates the document and returns its manifest, or nil with the
// problems added to d.errs.
func (d *document) load() *Manifest {
	instance := d.resolve(d.root, "", roleRoot)

	// A field whose variables could not be substituted already has an
	// error, so checking the text left over would only repeat it.
	schemaErrs := slices.DeleteFunc(manifestSchema().validate(instance, d.locate, nil), d.unresolved)
	d.errs = append(d.errs, schemaErrs...)

	// Problems elsewhere in the document, such as a misspelt description,
	// do not keep the auth params from being checked in the same run.
	obj, ok := instance.(map[string]any)
	if !ok || slices.ContainsFunc(schemaErrs, func(e *Error) bool { return blocksAuthCheck(e.Field) }) {
		return nil
	}
	m := d.manifest(obj)
	if cs, ok := knownSpec(m.ConnectionSpec.ID); ok {
		// NOTE: the API documentation does not say how POST /connections
		// treats a version it does not know. Every documented spec is at
		// 1.0, so another version of a built-in spec is taken as a mistake.
		if m.ConnectionSpec.Version != cs.version {
			d.errs = append(d.errs, newError(m.Fields["connectionSpec.version"], "connectionSpec.version",
				"expected %s (the version of connection spec %s built into apply); found %s",
				quote(cs.version), specLabel(cs), quote(m.ConnectionSpec.Version)))
		}
		errs, warnings := checkAuth(m, cs, d.badFields)
		d.errs = append(d.errs, errs...)
		d.file.warnings = append(d.file.warnings, warnings...)
	}
	if len(d.errs) > 0 {
		return nil
	}
	return m
}

// blocksAuthCheck reports whether a schema error at field leaves the auth
// check without the fields it reads.
func blocksAuthCheck(field string) bool {
	switch field {
	case "", "kind", "connectionSpec", "connectionSpec.id", "connectionSpec.version", "auth", "auth.specName", paramsField:
		return true
	}
	rest, ok := strings.CutPrefix(field, paramsField)
	return ok && (rest[0] == '.' || rest[0] == '[')
}

// unresolved reports whether e is about the value of a field whose
// variables could not be substituted.
func (d *document) unresolved(e *Error) bool {
	return d.badFields[e.Field] && e.Pos == d.fields[e.Field]
}

// resolve substitutes variables in the scalars of n and returns the JSON
// value that the manifest schema validates: scalars as their text, null as
// nil. It records the position of every field and key on the way.
func (d *document) resolve(n *node, field string, r role) any {
	d.fields[field] = d.pos(n)
	switch n.kind {
	case nullNode:
		return nil
	case sequenceNode:
		list := make([]any, len(n.items))
		for i, item := range n.items {
			list[i] = d.resolve(item, fmt.Sprintf("%s[%d]", field, i), roleOther)
		}
		return list
	case mappingNode:
		obj := make(map[string]any, len(n.pairs))
		for _, p := range n.pairs {
			path := joinField(field, p.key)
			d.keys[path] = Position{File: d.file.path, Line: p.keyLine, Col: p.keyCol}
			if r == roleParams && p.value.kind == scalarNode {
				obj[p.key] = d.resolveParam(p.key, p.value, path)
				continue
			}
			obj[p.key] = d.resolve(p.value, path, childRole(r, p.key))
		}
		return obj
	}
	segs := d.parseRefs(n, field)
	for _, s := range segs {
		if s.variable != "" {
			d.errs = append(d.errs, newError(d.file.dollarPos(n, s.offset), field, `variables are allowed only in auth.params values; write "$$" for a literal "$"`))
			d.badFields[field] = true
			break
		}
	}
	return joinSegments(segs, nil)
}

// resolveParam substitutes the variables of the auth param name and records
// its value.
func (d *document) resolveParam(name string, n *node, field string) any {
	d.fields[field] = d.pos(n)
	v := d.paramValue(n, field, d.parseRefs(n, field))
	d.params[name] = v
	return v.Reveal()
}

func (d *document) parseRefs(n *node, field string) []segment {
	segs, errs := parseRefs(n.text)
	if len(errs) > 0 {
		d.badFields[field] = true
	}
	for _, e := range errs {
		d.errs = append(d.errs, newError(d.file.dollarPos(n, e.offset), field, "%s", e.msg))
	}
	return segs
}

func childRole(parent role, key string) role {
	switch {
	case parent == roleRoot && key == "auth":
		return roleAuth
	case parent == roleAuth && key == "params":
		return roleParams
	}
	return roleOther
}

// paramValue substitutes the variables of an auth param. A value with a
// variable is sensitive as a whole. An unset variable is an error, or, when
// the options allow it, makes the value unresolved.
func (d *document) paramValue(n *node, field string, segs []segment) Value {
	if !hasVariables(segs) {
		return PlainValue(joinSegments(segs, nil))
	}
	var unset []string
	for i, s := range segs {
		if s.variable == "" {
			continue
		}
		value, ok := d.file.loader.lookupEnv(s.variable)
		if ok {
			segs[i].text = value
			continue
		}
		pos := d.file.dollarPos(n, s.offset)
		d.badFields[field] = true
		if d.file.loader.opts.AllowUnresolved {
			d.file.warnings = append(d.file.warnings, newError(pos, field, "environment variable %s is not set; the value stays unresolved", s.variable))
		} else {
			d.errs = append(d.errs, newError(pos, field, "environment variable %s is not set", s.variable))
		}
		if !slices.Contains(unset, s.variable) {
			unset = append(unset, s.variable)
		}
	}
	var v Value
	if len(unset) > 0 {
		v = UnresolvedValue(unset...)
	} else {
		v = SensitiveValue(NewSecret(joinVars(variableNames(segs)), joinSegments(segs, nil)))
	}
	v.segments = segs
	return v
}

// locate maps a JSON pointer into the instance to the node it came from.
func (d *document) locate(tokens []string) target {
	n, field, keyPos := d.root, "", d.pos(d.root)
	for _, tok := range tokens {
		switch n.kind {
		case mappingNode:
			field = joinField(field, tok)
			p, ok := n.lookup(tok)
			if !ok {
				return target{field: field, pos: d.pos(n), keyPos: d.pos(n)}
			}
			keyPos = Position{File: d.file.path, Line: p.keyLine, Col: p.keyCol}
			n = p.value
		case sequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.items) {
				return target{field: field, pos: d.pos(n), keyPos: keyPos}
			}
			field = fmt.Sprintf("%s[%d]", field, i)
			n = n.items[i]
			keyPos = d.pos(n)
		}
	}
	inParams := len(tokens) >= 3 && tokens[0] == "auth" && tokens[1] == "params"
	return target{field: field, pos: d.pos(n), keyPos: keyPos, sensitive: inParams}
}

// manifest builds the manifest from a validated instance.
func (d *document) manifest(obj map[string]any) *Manifest {
	m := &Manifest{
		Pos:    d.pos(d.root),
		Kind:   KindConnection,
		Fields: d.fields,
		Keys:   d.keys,
	}
	delete(m.Fields, "") // the document root is m.Pos
	if kind, ok := obj["kind"].(string); ok {
		m.Kind = kind
	}
	m.Name, _ = obj["name"].(string)
	m.Description, m.HasDescription = obj["description"].(string)
	m.RenamedFrom, _ = obj["renamedFrom"].(string)
	if cs, ok := obj["connectionSpec"].(map[string]any); ok {
		m.ConnectionSpec.ID, _ = cs["id"].(string)
		m.ConnectionSpec.Version, _ = cs["version"].(string)
	}
	if _, ok := m.Fields["connectionSpec.version"]; !ok {
		m.ConnectionSpec.Version = DefaultSpecVersion
	}
	if auth, ok := obj["auth"].(map[string]any); ok {
		m.Auth.SpecName, _ = auth["specName"].(string)
	}
	m.Auth.Params = d.params
	return m
}

// fileLoader loads the documents of one file.
type fileLoader struct {
	loader     *loader
	path       string
	src        []byte
	lineStarts []int // byte offset of each line, built on first use
	manifests  []*Manifest
	documents  int // non-empty documents, valid or not
	errs       []*Error
	warnings   []*Error
}

// dollarPos returns the position of the "$" at byte offset off of scalar n's
// text. The column is exact when the scalar's text up to the "$" appears
// verbatim on the scalar's first source line: plain and quoted scalars
// without escapes or line folding before the "$". Otherwise it is the
// scalar's own position.
func (f *fileLoader) dollarPos(n *node, off int) Position {
	pos := Position{File: f.path, Line: n.line, Col: n.col}
	lead := 0
	switch n.style {
	case 0:
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		lead = 1
	default:
		return pos
	}
	line := f.sourceLine(n.line)
	start := runeOffset(line, n.col-1)
	if start < 0 || start+lead > len(line) {
		return pos
	}
	if !strings.HasPrefix(line[start+lead:], n.text[:off+1]) {
		return pos
	}
	pos.Col = n.col + lead + utf8.RuneCountInString(n.text[:off])
	return pos
}

// sourceLine returns line number line of the file, without its line break.
func (f *fileLoader) sourceLine(line int) string {
	if f.lineStarts == nil {
		f.lineStarts = []int{0}
		for i, c := range f.src {
			if c == '\n' {
				f.lineStarts = append(f.lineStarts, i+1)
			}
		}
	}
	if line < 1 || line > len(f.lineStarts) {
		return ""
	}
	text := f.src[f.lineStarts[line-1]:]
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return strings.TrimSuffix(string(text), "\r")
}

// runeOffset returns the byte offset of the rune with index n in s, or -1.
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	if n == 0 {
		return len(s)
	}
	return -1
}
