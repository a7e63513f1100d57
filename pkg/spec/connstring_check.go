package spec

import (
	"errors"
	"slices"
	"strings"
)

// neutralToken replaces each variable while checking a connection string's
// structure. It contains none of ";", "=", "{", "}" or spaces.
const neutralToken = "x"

// connTemplate is a connection string param split at its variable
// references. A reference either sits inside a pair, as in PWD={${PW}},
// where its value must not change the structure that the manifest wrote, or
// it fills whole ";"-separated segments, as ${DSN} alone or ${BASE} in
// ${BASE};PWD={${PW}} do, where its value supplies pairs of its own.
type connTemplate struct {
	segs []segment
	// supplies marks the variable segments whose values supply whole pairs.
	supplies []bool
}

func newConnTemplate(segs []segment) connTemplate {
	t := connTemplate{segs: segs, supplies: make([]bool, len(segs))}
	for _, run := range t.runs() {
		prefix := t.written(segs[:run[0]])
		if startsPair(prefix) && endsPair(segs[run[1]:]) {
			for i := run[0]; i < run[1]; i++ {
				t.supplies[i] = true
			}
		}
	}
	return t
}

// runs returns the [start, end) indexes of each run of adjacent variable
// segments. A run is judged as a whole: in ${A}${B} neither reference is
// bounded by ";" on both sides, but the two together may be.
func (t connTemplate) runs() [][2]int {
	var runs [][2]int
	for i := 0; i < len(t.segs); {
		if t.segs[i].variable == "" {
			i++
			continue
		}
		j := i
		for j < len(t.segs) && t.segs[j].variable != "" {
			j++
		}
		runs = append(runs, [2]int{i, j})
		i = j
	}
	return runs
}

// written returns the text of segs, a prefix of t.segs, as the manifest
// writes it: references that supply pairs left out, and every other
// reference replaced by neutralToken.
func (t connTemplate) written(segs []segment) string {
	return t.join(segs, func(int) string { return neutralToken })
}

// join concatenates segs, a prefix of t.segs, leaving out the references
// that supply pairs and writing value(i) for the other reference at index i.
func (t connTemplate) join(segs []segment, value func(i int) string) string {
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s.variable == "":
			b.WriteString(s.text)
		case !t.supplies[i]:
			b.WriteString(value(i))
		}
	}
	return b.String()
}

// pairRuns returns the [start, end) indexes of the runs that supply pairs.
func (t connTemplate) pairRuns() [][2]int {
	return slices.DeleteFunc(t.runs(), func(run [2]int) bool { return !t.supplies[run[0]] })
}

// pairVariables returns the distinct names of the variables that supply
// pairs, in order.
func (t connTemplate) pairVariables() []string {
	var names []string
	for _, run := range t.pairRuns() {
		for _, name := range variableNames(t.segs[run[0]:run[1]]) {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}

// valueVariables returns the distinct names of the variables inside pairs,
// in order.
func (t connTemplate) valueVariables() []string {
	var names []string
	for i, s := range t.segs {
		if s.variable != "" && !t.supplies[i] && !slices.Contains(names, s.variable) {
			names = append(names, s.variable)
		}
	}
	return names
}

// startsPair reports whether text written after prefix starts a pair of its
// own: prefix parses, and a pair appended to it adds exactly that pair. It
// uses the parser itself, so that a ";" inside braces does not count.
func startsPair(prefix string) bool {
	before, err := ParseConnectionString(prefix)
	if err != nil {
		return false
	}
	// The probe key must not repeat a key of the prefix.
	probe := neutralToken
	for {
		if _, exists := before.Get(probe); !exists {
			break
		}
		probe += neutralToken
	}
	after, err := ParseConnectionString(prefix + probe + "=")
	if err != nil || len(after.pairs) != len(before.pairs)+1 {
		return false
	}
	last := after.pairs[len(after.pairs)-1]
	return last.key == probe && last.value == "" && !last.braced
}

// endsPair reports whether the literal text that follows a run of
// references ends the segment: nothing but spaces before a ";" or the end.
func endsPair(rest []segment) bool {
	if len(rest) == 0 {
		return true
	}
	text := strings.TrimLeft(rest[0].text, " \t")
	if text == "" {
		return len(rest) == 1
	}
	return text[0] == ';'
}

// checkConnString parses a connection string param and checks its required
// keys. A reference inside a pair must not change the structure that the
// manifest wrote: the keys, their order and which values are braced. A
// reference that fills whole segments must contain pairs that parse. The
// returned warnings name the references whose values are unset and so
// unchecked. Messages name the variables and never contain a value.
func checkConnString(v Value, p paramSpec, field string, pos Position) (errs, warnings []*Error) {
	segs := v.segments
	if segs == nil {
		segs = []segment{{text: v.Reveal()}}
	}
	t := newConnTemplate(segs)
	literal := !hasVariables(segs)
	written, err := ParseConnectionString(t.written(segs))
	if err != nil {
		return []*Error{newError(pos, field, "%s", connStringMessage(err, literal))}, nil
	}

	pairVars := t.pairVariables()
	if len(pairVars) == 0 {
		errs = append(errs, missingKeys(written, p.requiredKeys, pos, field, "connection string", "")...)
	}
	if literal {
		return errs, nil
	}
	if unset := v.Unresolved(); len(unset) > 0 {
		// The pairs of an unset variable cannot be parsed, and any
		// required key may be among them.
		var names []string
		for _, name := range pairVars {
			if slices.Contains(unset, name) {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			warnings = append(warnings, newError(pos, field, "%s", uncheckedMessage(names, len(written.pairs) == 0)))
		}
		return errs, warnings
	}

	errs = append(errs, t.checkValueVariables(written, field, pos)...)
	if len(errs) > 0 || len(pairVars) == 0 {
		return errs, nil
	}
	return t.checkPairVariables(v, p, len(written.pairs) == 0, field, pos), nil
}

// checkValueVariables checks that the references inside pairs keep the
// structure of written, the template as the manifest writes it.
func (t connTemplate) checkValueVariables(written ConnString, field string, pos Position) []*Error {
	var errs []*Error
	names := t.valueVariables()
	if len(names) == 0 {
		return nil
	}

	// Substitute one variable at a time, so the message can name the one
	// whose value breaks the structure.
	want := written.structure()
	for _, name := range names {
		substituted := t.join(t.segs, func(i int) string {
			if t.segs[i].variable == name {
				return t.segs[i].text
			}
			return neutralToken
		})
		got, err := ParseConnectionString(substituted)
		if err != nil || !slices.Equal(got.structure(), want) {
			errs = append(errs, newError(pos, field, "the value of $%s changes the structure of the connection string; wrap the reference in braces, as in Pwd={${%s}}, and double any \"}\" in the value", name, name))
		}
	}
	if len(errs) == 0 {
		got, err := ParseConnectionString(t.join(t.segs, func(i int) string { return t.segs[i].text }))
		if err != nil || !slices.Equal(got.structure(), want) {
			errs = append(errs, newError(pos, field, "the values of %s together change the structure of the connection string; wrap each reference in braces", joinVars(names)))
		}
	}
	return errs
}

// checkPairVariables parses the pairs that the references filling whole
// segments supply, then the whole substituted string, and checks its
// required keys. whole is true when the manifest writes no pair itself.
func (t connTemplate) checkPairVariables(v Value, p paramSpec, whole bool, field string, pos Position) []*Error {
	var errs []*Error
	for _, run := range t.pairRuns() {
		segs := t.segs[run[0]:run[1]]
		if _, err := ParseConnectionString(joinSegments(segs, nil)); err != nil {
			errs = append(errs, newError(pos, field, "invalid connection string in %s: %s", dollarList(variableNames(segs)), connStringReason(err)))
		}
	}
	if len(errs) > 0 {
		return errs
	}

	// Each part parses, so only a key repeated across parts can fail here.
	names := t.pairVariables()
	full, err := ParseConnectionString(v.Reveal())
	if err != nil {
		return []*Error{newError(pos, field, "invalid connection string after substituting %s: %s", dollarList(names), connStringReason(err))}
	}
	if whole {
		return missingKeys(full, p.requiredKeys, pos, field, "the connection string in "+dollarList(names), "")
	}
	return missingKeys(full, p.requiredKeys, pos, field, "connection string", ": neither the manifest nor "+dollarList(names)+" sets it")
}

// missingKeys reports each required key that cs lacks. subject names the
// string and suffix ends the message.
func missingKeys(cs ConnString, required []string, pos Position, field, subject, suffix string) []*Error {
	var errs []*Error
	for _, key := range required {
		if _, ok := cs.Get(key); !ok {
			errs = append(errs, newError(pos, field, "%s is missing the required key %s (keys are case-insensitive)%s", subject, quote(key), suffix))
		}
	}
	return errs
}

// uncheckedMessage returns the warning for references that supply pairs but
// are unset. whole is true when the manifest writes no pair itself.
func uncheckedMessage(names []string, whole bool) string {
	when := "once the variable is set"
	if len(names) > 1 {
		when = "once the variables are set"
	}
	if whole {
		return "the connection string in " + dollarList(names) + " is not checked; it is checked " + when
	}
	return "the pairs in " + dollarList(names) + " are not checked; they are checked " + when
}

// dollarList formats variable names as references: "$A, $B".
func dollarList(names []string) string {
	refs := make([]string, len(names))
	for i, n := range names {
		refs[i] = "$" + n
	}
	return strings.Join(refs, ", ")
}

// connStringMessage formats a parse error. Offsets are shown only for a
// literal string, where they count from the start of the value as written.
func connStringMessage(err error, literal bool) string {
	var cerr *ConnStringError
	if !errors.As(err, &cerr) {
		return "invalid connection string"
	}
	if literal {
		return cerr.Error()
	}
	return "invalid connection string: " + cerr.Reason
}

// connStringReason returns the reason of a parse error without the offset,
// which would point into a variable's value.
func connStringReason(err error) string {
	var cerr *ConnStringError
	if !errors.As(err, &cerr) {
		return "cannot parse"
	}
	return cerr.Reason
}
