package spec

// LoadOptions controls how manifests are loaded.
type LoadOptions struct {
	// LookupEnv resolves variables; nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)

	// AllowUnresolved turns unset variables into unresolved values instead of
	// errors, so that a dry run can plan without secrets.
	AllowUnresolved bool
}

// Result is the outcome of a successful load.
type Result struct {
	Manifests []*Manifest // sorted by file, then by position in the file
	Warnings  []*Error    // problems that do not stop a run, such as unchecked auth params
}

// Load reads, validates and resolves the manifests found at paths, which may
// name files and directories. On failure the error is an [ErrorList] holding
// every problem found in every file.
func Load(paths []string, opts LoadOptions) (*Result, error) {
	panic("not implemented")
}
