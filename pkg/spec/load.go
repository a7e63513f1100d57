package spec

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"
)

// LoadOptions controls how manifests are loaded.
type LoadOptions struct {
	// LookupEnv resolves variables. Nil means os.LookupEnv. Load calls it
	// at most once per variable name, from one goroutine at a time.
	LookupEnv func(name string) (string, bool)

	// AllowUnresolved turns unset variables into unresolved values instead of
	// errors, so that a dry run can plan without secrets. Each unset
	// variable is then reported as a warning.
	AllowUnresolved bool

	// Logger receives debug logs. Nil means slog.Default(). No log record
	// contains a sensitive value.
	Logger *slog.Logger
}

// Result is the outcome of a load.
type Result struct {
	Manifests []*Manifest // sorted by file, then by position in the file
	Warnings  []*Error    // problems that do not stop a run, such as unchecked auth params
}

// Load reads, validates and resolves the manifests found at paths, which may
// name files and directories. A directory is walked recursively for *.yaml
// and *.yml files, skipping hidden files and directories. On failure the
// error is an [ErrorList] containing every problem found in every file,
// sorted by file and position, and the Result contains the warnings but no
// manifests.
//
// Files are parsed concurrently. Load is safe to call from several
// goroutines.
func Load(paths []string, opts LoadOptions) (*Result, error) {
	l := newLoader(opts)
	if len(paths) == 0 {
		return &Result{}, ErrorList{{Msg: "no manifest files or directories given"}}
	}
	files, errs := collectFiles(paths)
	l.log.Debug("loading manifests", "paths", len(paths), "files", len(files))
	results := l.loadFiles(files)

	var (
		res         = &Result{}
		docsPerArg  = make([]int, len(paths))
		errorsInArg = make([]bool, len(paths))
	)
	for i, r := range results {
		arg := files[i].arg
		docsPerArg[arg] += r.documents
		errorsInArg[arg] = errorsInArg[arg] || len(r.errs) > 0
		errs = append(errs, r.errs...)
		res.Warnings = append(res.Warnings, r.warnings...)
		res.Manifests = append(res.Manifests, r.manifests...)
	}
	for i, p := range paths {
		hasFiles := slices.ContainsFunc(files, func(f sourceFile) bool { return f.arg == i })
		if hasFiles && docsPerArg[i] == 0 && !errorsInArg[i] {
			errs = append(errs, newError(Position{File: p}, "", "no manifests found: every document is empty"))
		}
	}
	slices.SortStableFunc(res.Manifests, func(a, b *Manifest) int {
		return compareErrors(&Error{Pos: a.Pos}, &Error{Pos: b.Pos})
	})
	errs = append(errs, checkNames(res.Manifests)...)
	res.Warnings = sortErrors(res.Warnings)
	if len(errs) > 0 {
		res.Manifests = nil
		return res, ErrorList(sortErrors(errs))
	}
	l.log.Debug("loaded manifests", "manifests", len(res.Manifests), "warnings", len(res.Warnings))
	return res, nil
}

// loader is the state that the files of one Load share.
type loader struct {
	opts LoadOptions
	log  *slog.Logger

	envMu sync.Mutex
	env   map[string]envValue
}

type envValue struct {
	value string
	ok    bool
}

func newLoader(opts LoadOptions) *loader {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &loader{opts: opts, log: log, env: map[string]envValue{}}
}

// lookupEnv resolves a variable once per load, so that every manifest gets
// the same value.
func (l *loader) lookupEnv(name string) (string, bool) {
	l.envMu.Lock()
	defer l.envMu.Unlock()
	v, ok := l.env[name]
	if !ok {
		v.value, v.ok = l.opts.LookupEnv(name)
		l.env[name] = v
	}
	return v.value, v.ok
}

// loadFiles loads files in parallel and returns their results in order.
// Each worker takes the next file until none is left. Long-lived workers
// keep the stacks that parsing and validation have grown, and a goroutine
// per file would grow them again each time.
func (l *loader) loadFiles(files []sourceFile) []*fileLoader {
	results := make([]*fileLoader, len(files))
	var (
		g    errgroup.Group
		next atomic.Int64
	)
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return nil
				}
				fl := &fileLoader{loader: l, path: files[i].path}
				fl.load()
				results[i] = fl
			}
		})
	}
	_ = g.Wait() // the workers return no errors, because problems go into the results
	return results
}

// load reads the file and loads each of its documents.
func (f *fileLoader) load() {
	src, err := readManifestFile(f.path)
	if err != nil {
		f.errs = append(f.errs, err)
		return
	}
	f.src = src
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The parser cannot resume after a syntax error, so the rest of
			// the file is not checked.
			f.errs = append(f.errs, f.syntaxError(err))
			break
		}
		f.loadDocument(&doc)
	}
	f.loader.log.Debug("loaded manifest file", "file", f.path, "documents", f.documents, "manifests", len(f.manifests))
}

func (f *fileLoader) loadDocument(doc *yaml.Node) {
	b := newTreeBuilder(f.path)
	root := b.build(doc, "")
	f.errs = append(f.errs, b.errs...)

	if root == nil {
		f.documents++
		return
	}
	if root.kind == nullNode && root.text == "" && root.style == 0 {
		return // an empty document, such as a trailing "---"
	}
	f.documents++
	if len(b.errs) > 0 {
		return
	}

	d := &document{
		file:      f,
		root:      root,
		params:    map[string]Value{},
		fields:    map[string]Position{},
		keys:      map[string]Position{},
		badFields: map[string]bool{},
	}
	m := d.load()
	f.errs = append(f.errs, d.errs...)
	if m == nil {
		return
	}

	if !m.AuthChecked {
		hideUncheckedParams(m)
		f.warnings = append(f.warnings, newError(m.Fields["connectionSpec.id"], "connectionSpec.id",
			"auth params not checked: connection spec %s version %s is not known offline; their values are hidden until they are checked", m.ConnectionSpec.ID, m.ConnectionSpec.Version))
	}
	f.manifests = append(f.manifests, m)
	f.loader.log.Debug("loaded manifest", "file", f.path, "line", m.Pos.Line, "name", m.Name, "connectionSpec", m.ConnectionSpec.ID, "authChecked", m.AuthChecked)
}

var yamlErrorLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into an Error. The messages of
// yaml.v3 v3.0.6 are fixed texts, plus anchor names for unknown anchors, and
// none quotes a scalar.
func (f *fileLoader) syntaxError(err error) *Error {
	msg := err.Error()
	pos := Position{File: f.path}
	if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else if len(msg) > len("yaml: ") && msg[:len("yaml: ")] == "yaml: " {
		msg = msg[len("yaml: "):]
	}
	if line, col, ok := f.tabIndentation(pos.Line, msg); ok {
		pos.Line, pos.Col = line, col
		msg += " (YAML does not allow tabs for indentation; use spaces)"
	}
	return newError(pos, "", "invalid YAML: %s", msg)
}

// tabIndentation finds the tab in a line's indentation that caused the
// yaml.v3 error msg reported at line, and returns its line and column.
// yaml.v3 v3.0.6 reports "found character that cannot start any token" at
// the line with the tab, for a tab and for other characters alike, and
// leaves the line out when it is the first. Its errors that name a tab
// report the line where the enclosing value starts, so the tab is looked
// for from there on.
func (f *fileLoader) tabIndentation(line int, msg string) (tabLine, tabCol int, ok bool) {
	line = max(line, 1)
	last := line
	switch {
	case msg == "found character that cannot start any token":
	case strings.HasPrefix(msg, "found a tab character"):
		last = bytes.Count(f.src, []byte{'\n'}) + 1
	default:
		return 0, 0, false
	}
	for ; line <= last; line++ {
		text := f.sourceLine(line)
		indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
		if i := strings.IndexByte(indent, '\t'); i >= 0 {
			return line, i + 1, true
		}
	}
	return 0, 0, false
}

// checkNames reports names used by more than one manifest, and renamedFrom
// values that name a current manifest or that two manifests share. The
// manifests must be sorted, so that the first occurrence is the one cited.
func checkNames(manifests []*Manifest) []*Error {
	var (
		errs    []*Error
		names   = map[string]*Manifest{}
		renames = map[string]*Manifest{}
	)
	for _, m := range manifests {
		if first, ok := names[m.Name]; ok {
			errs = append(errs, newError(m.Fields["name"], "name", "duplicate name %s: also used at %s", quote(m.Name), first.Fields["name"]))
			continue
		}
		names[m.Name] = m
	}
	for _, m := range manifests {
		if m.RenamedFrom == "" {
			continue
		}
		pos := m.Fields["renamedFrom"]
		if other, ok := names[m.RenamedFrom]; ok {
			if other == m {
				errs = append(errs, newError(pos, "renamedFrom", "expected a previous name, found the manifest's own name"))
			} else {
				errs = append(errs, newError(pos, "renamedFrom", "expected a name that is no longer in use, found the name of the manifest at %s", other.Fields["name"]))
			}
			continue
		}
		if first, ok := renames[m.RenamedFrom]; ok {
			errs = append(errs, newError(pos, "renamedFrom", "%s is also the previous name of the manifest at %s; only one manifest can take over a name", quote(m.RenamedFrom), first.Fields["name"]))
			continue
		}
		renames[m.RenamedFrom] = m
	}
	return errs
}
