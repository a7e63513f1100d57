package spec

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRefs(t *testing.T) {
	tests := []struct {
		in   string
		segs []segment
		errs []refError
	}{
		{in: "plain", segs: []segment{{text: "plain"}}},
		{in: "", segs: []segment{{text: ""}}},
		{in: "$A", segs: []segment{{variable: "A", offset: 0}}},
		{in: "${A_1}", segs: []segment{{variable: "A_1", offset: 0}}},
		{in: "x-$_b9-y", segs: []segment{{text: "x-"}, {variable: "_b9", offset: 2}, {text: "-y"}}},
		{in: "$A$B", segs: []segment{{variable: "A", offset: 0}, {variable: "B", offset: 2}}},
		{in: "${A}B", segs: []segment{{variable: "A", offset: 0}, {text: "B"}}},
		{in: "$$", segs: []segment{{text: "$"}}},
		{in: "a$$b$$$C", segs: []segment{{text: "a$b$"}, {variable: "C", offset: 6}}},
		{in: "$${A}", segs: []segment{{text: "${A}"}}},
		{in: "ü$X", segs: []segment{{text: "ü"}, {variable: "X", offset: 2}}},
		{
			in:   "5$",
			segs: []segment{{text: "5"}},
			errs: []refError{{offset: 1, msg: msgBadDollar}},
		},
		{
			in:   "$1 $-",
			segs: []segment{{text: "1 -"}},
			errs: []refError{{offset: 0, msg: msgBadDollar}, {offset: 3, msg: msgBadDollar}},
		},
		{
			in:   "${A",
			segs: []segment{{text: "A"}},
			errs: []refError{{offset: 0, msg: msgUnclosed}},
		},
		{
			in:   "${} ${1A} ${A-B} $Z",
			segs: []segment{{text: "   "}, {variable: "Z", offset: 17}},
			errs: []refError{{offset: 0, msg: msgBadVariable}, {offset: 4, msg: msgBadVariable}, {offset: 10, msg: msgBadVariable}},
		},
	}
	for _, tt := range tests {
		segs, errs := parseRefs(tt.in)
		opts := cmp.AllowUnexported(segment{}, refError{})
		if diff := cmp.Diff(tt.segs, segs, opts); diff != "" {
			t.Errorf("parseRefs(%q) segments (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(tt.errs, errs, opts); diff != "" {
			t.Errorf("parseRefs(%q) errors (-want +got):\n%s", tt.in, diff)
		}
	}
}

// referenceRef matches what the interpolator accepts at a "$", in the order
// it tries: "$$", then ${NAME}, then $NAME.
var referenceRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// referenceInterpolate is a second, regexp-based implementation of the
// substitution rules, for the fuzz target to compare against. ok is false
// when a "$" starts no valid reference.
func referenceInterpolate(s string, lookup func(string) string) (out string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		m := referenceRef.FindStringSubmatchIndex(s[i:])
		if m == nil || m[0] != 0 {
			return "", false
		}
		switch {
		case m[1] == 2 && s[i+1] == '$':
			b.WriteByte('$')
		case m[2] >= 0:
			b.WriteString(lookup(s[i+m[2] : i+m[3]]))
		default:
			b.WriteString(lookup(s[i+m[4] : i+m[5]]))
		}
		i += m[1]
	}
	return b.String(), true
}

func FuzzInterpolate(f *testing.F) {
	f.Add("pw-${ORDERS_PASSWORD}-$$-$USER")
	// Values contain "$" and "{" so that a second pass over substituted text,
	// which must not happen, would show in the comparison.
	lookup := func(name string) string { return "<$" + name + "${X}>" }
	f.Fuzz(func(t *testing.T, s string) {
		segs, errs := parseRefs(s)
		for _, e := range errs {
			if e.offset < 0 || e.offset >= len(s) || s[e.offset] != '$' {
				t.Fatalf("error offset %d does not point at a \"$\" in %q", e.offset, s)
			}
		}
		for i, seg := range segs {
			if seg.variable == "" {
				continue
			}
			if !isVariableName(seg.variable) || seg.offset < 0 || seg.offset >= len(s) || s[seg.offset] != '$' {
				t.Fatalf("bad variable segment %+v in %q", seg, s)
			}
			segs[i].text = lookup(seg.variable)
		}
		got := joinSegments(segs, nil)
		want, ok := referenceInterpolate(s, lookup)
		if ok != (len(errs) == 0) {
			t.Fatalf("parseRefs(%q) errors = %v, but the reference says valid = %v", s, errs, ok)
		}
		if ok && got != want {
			t.Fatalf("interpolate(%q) = %q, reference = %q", s, got, want)
		}
	})
}
