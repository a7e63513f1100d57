package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apply-cli/apply/pkg/apply"
)

// flagSet is a [flag.FlagSet] that keeps each flag's aliases and help in
// declaration order, and that reports every parse error instead of the
// first one.
type flagSet struct {
	fs   *flag.FlagSet
	docs []flagDoc
}

// flagDoc is the help of one flag and its aliases.
type flagDoc struct {
	names []string // the first is the name help shows first
	arg   string   // placeholder of the value, "" for a boolean flag
	usage string   // a fragment naming the unit and the default
}

func newFlagSet(name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{fs: fs}
}

// add registers v under every name in names.
func (f *flagSet) add(v flag.Value, arg, usage string, names ...string) {
	for _, n := range names {
		f.fs.Var(v, n, usage)
	}
	f.docs = append(f.docs, flagDoc{names: names, arg: arg, usage: usage})
}

func (f *flagSet) boolVar(p *bool, def bool, usage string, names ...string) {
	*p = def
	f.add((*boolValue)(p), "", usage, names...)
}

func (f *flagSet) stringVar(p *string, def, arg, usage string, names ...string) {
	*p = def
	f.add((*stringValue)(p), arg, usage, names...)
}

func (f *flagSet) intVar(p *int, def int, arg, usage string, names ...string) {
	*p = def
	f.add((*intValue)(p), arg, usage, names...)
}

func (f *flagSet) floatVar(p *float64, def float64, arg, usage string, names ...string) {
	*p = def
	f.add((*floatValue)(p), arg, usage, names...)
}

func (f *flagSet) durationVar(p *time.Duration, def time.Duration, arg, usage string, names ...string) {
	*p = def
	f.add((*durationValue)(p), arg, usage, names...)
}

// parse parses args and returns every problem found: unknown flags, bad
// values and positional arguments, which no command takes. help is true
// when -h or --help was given.
func (f *flagSet) parse(args []string) (problems []string, help bool) {
	for len(args) > 0 {
		err := f.fs.Parse(args)
		switch {
		case err == flag.ErrHelp:
			return problems, true
		case err != nil:
			problems = append(problems, err.Error())
			rest := f.fs.Args()
			if len(rest) == len(args) {
				// A malformed flag such as "---x" is not consumed.
				rest = rest[1:]
			}
			args = rest
		case f.fs.NArg() > 0:
			problems = append(problems, fmt.Sprintf("unexpected argument %q: manifest paths are given with -f", f.fs.Arg(0)))
			args = f.fs.Args()[1:]
		default:
			args = nil
		}
	}
	return problems, false
}

// isSet reports whether any alias of name was given on the command line.
func (f *flagSet) isSet(name string) bool {
	aliases := []string{name}
	for _, d := range f.docs {
		for _, n := range d.names {
			if n == name {
				aliases = d.names
			}
		}
	}
	set := false
	f.fs.Visit(func(fl *flag.Flag) {
		for _, a := range aliases {
			if fl.Name == a {
				set = true
			}
		}
	})
	return set
}

// printDefaults writes one line per flag, as "-f, --filename <path>" and
// its help.
func (f *flagSet) printDefaults(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, d := range f.docs {
		names := make([]string, len(d.names))
		for i, n := range d.names {
			if len(n) == 1 {
				names[i] = "-" + n
			} else {
				names[i] = "--" + n
			}
		}
		spec := strings.Join(names, ", ")
		if d.arg != "" {
			spec += " " + d.arg
		}
		fmt.Fprintf(tw, "  %s\t%s\n", spec, d.usage)
	}
	tw.Flush()
}

// Flag values. The standard library's are not exported, and one value
// registered under several names needs its own type.
type (
	boolValue     bool
	stringValue   string
	intValue      int
	floatValue    float64
	durationValue time.Duration
)

func (b *boolValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "true", "1", "t", "yes":
		*b = true
	case "false", "0", "f", "no":
		*b = false
	default:
		return fmt.Errorf("want true or false")
	}
	return nil
}
func (b *boolValue) String() string   { return fmt.Sprint(bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true }

func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }
func (s *stringValue) String() string     { return string(*s) }

func (i *intValue) Set(s string) error {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != strings.TrimPrefix(s, "+") {
		return fmt.Errorf("want a whole number")
	}
	*i = intValue(n)
	return nil
}
func (i *intValue) String() string { return fmt.Sprint(int(*i)) }

func (f *floatValue) Set(s string) error {
	var x float64
	if _, err := fmt.Sscan(s, &x); err != nil {
		return fmt.Errorf("want a number")
	}
	*f = floatValue(x)
	return nil
}
func (f *floatValue) String() string { return fmt.Sprint(float64(*f)) }

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 30s or 2m")
	}
	*d = durationValue(v)
	return nil
}
func (d *durationValue) String() string { return time.Duration(*d).String() }

// pathList collects a repeatable path flag such as -f.
type pathList []string

func (p *pathList) Set(s string) error {
	if s == "" {
		return fmt.Errorf("want a file or directory")
	}
	*p = append(*p, s)
	return nil
}
func (p *pathList) String() string { return strings.Join(*p, ",") }

// formatValue is an output format flag.
type formatValue apply.Format

func (f *formatValue) Set(s string) error {
	format, err := apply.ParseFormat(s)
	if err != nil {
		return err
	}
	*f = formatValue(format)
	return nil
}
func (f *formatValue) String() string { return string(*f) }

// outputFile is one --output-file FORMAT=PATH.
type outputFile struct {
	format apply.Format
	path   string
}

// outputFileList collects repeated --output-file flags.
type outputFileList []outputFile

func (l *outputFileList) Set(s string) error {
	name, path, ok := strings.Cut(s, "=")
	if !ok || path == "" {
		return fmt.Errorf("want FORMAT=PATH, such as markdown=plan.md")
	}
	format, err := apply.ParseFormat(name)
	if err != nil {
		return err
	}
	*l = append(*l, outputFile{format: format, path: path})
	return nil
}

func (l *outputFileList) String() string {
	parts := make([]string, len(*l))
	for i, o := range *l {
		parts[i] = string(o.format) + "=" + o.path
	}
	return strings.Join(parts, ",")
}
