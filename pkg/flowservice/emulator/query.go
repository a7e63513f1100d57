package emulator

import (
	"cmp"
	"strconv"
	"strings"
)

// fieldKind determines which filter operators a field accepts.
type fieldKind int

const (
	// identifier fields (ids, state) take == and != only, as the catalog's
	// 1448 "Operator >= not supported for field id" shows.
	identifier fieldKind = iota
	text
	epochMillis
)

// field is a filterable and sortable field of a resource of type T.
type field[T any] struct {
	kind fieldKind
	str  func(T) string // identifier and text fields
	num  func(T) int64  // epochMillis fields
}

func (f field[T]) compare(a, b T) int {
	if f.kind == epochMillis {
		return cmp.Compare(f.num(a), f.num(b))
	}
	return strings.Compare(f.str(a), f.str(b))
}

// filter is one parsed property expression, such as name=="orders" or
// createdAt>1597973312000.
type filter[T any] struct {
	field  field[T]
	op     string
	values []string
	nums   []int64
}

// filterOperatorChars are the characters operators are made of.
const filterOperatorChars = "=!<>~"

// parseFilter parses a property expression: a field, an operator (==, !=,
// >, <, >= or <=) and one value, or several separated by commas for == and
// != (any of, none of). A value in double quotes may contain commas.
// NOTE: != and the comparison of text fields with < and > are not in the
// documentation's examples. Comparisons are case-sensitive, also a guess.
func parseFilter[T any](expr string, fields map[string]field[T]) (filter[T], *apiError) {
	i := strings.IndexAny(expr, filterOperatorChars)
	if i <= 0 {
		return filter[T]{}, errQueryValue(expr)
	}
	j := i
	for j < len(expr) && strings.IndexByte(filterOperatorChars, expr[j]) >= 0 {
		j++
	}
	name, op, raw := expr[:i], expr[i:j], expr[j:]

	fd, ok := fields[name]
	if !ok {
		return filter[T]{}, errFilterField(name)
	}
	if strings.Contains(op, "~") {
		return filter[T]{}, errOperatorNotImplemented("~")
	}
	ordering := op == ">" || op == "<" || op == ">=" || op == "<="
	if op != "==" && op != "!=" && !ordering {
		return filter[T]{}, errFilterOperator(op)
	}

	values, ok := splitValues(raw)
	if !ok {
		return filter[T]{}, errQueryValue(expr)
	}
	if ordering && len(values) > 1 {
		return filter[T]{}, errOperatorMultipleValues(op)
	}
	if ordering && fd.kind == identifier {
		return filter[T]{}, errOperatorForField(op, name)
	}

	f := filter[T]{field: fd, op: op, values: values}
	if fd.kind == epochMillis {
		for _, v := range values {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return filter[T]{}, errFieldValue(raw, name)
			}
			f.nums = append(f.nums, n)
		}
	}
	return f, nil
}

// splitValues splits a filter value list at commas outside double quotes
// and unquotes each value. It reports false for an empty value or a stray
// quote.
func splitValues(raw string) ([]string, bool) {
	var values []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		switch {
		case ch == '"':
			quoted = !quoted
			cur.WriteByte(ch)
		case ch == ',' && !quoted:
			values = append(values, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	if quoted {
		return nil, false
	}
	values = append(values, cur.String())
	for i, v := range values {
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
			values[i] = v
		} else if v == "" || strings.Contains(v, `"`) {
			return nil, false
		}
	}
	return values, true
}

func (f filter[T]) match(v T) bool {
	var c []int // comparison of the field with each value
	for i := range f.values {
		if f.field.kind == epochMillis {
			c = append(c, cmp.Compare(f.field.num(v), f.nums[i]))
		} else {
			c = append(c, strings.Compare(f.field.str(v), f.values[i]))
		}
	}
	switch f.op {
	case "==":
		for _, x := range c {
			if x == 0 {
				return true
			}
		}
		return false
	case "!=":
		for _, x := range c {
			if x == 0 {
				return false
			}
		}
		return true
	case ">":
		return c[0] > 0
	case "<":
		return c[0] < 0
	case ">=":
		return c[0] >= 0
	default: // "<="
		return c[0] <= 0
	}
}

// sortKey is one field of an orderby list.
type sortKey struct {
	field string
	desc  bool
}

// parseOrderBy parses an orderby value: field names separated by commas,
// each with an optional + (ascending, the default) or - (descending) prefix.
// A + that arrives unencoded in a query string decodes to a space, so a
// leading space counts as +. NOTE: several fields in one orderby are not in
// the documentation's examples.
func parseOrderBy[T any](value string, fields map[string]field[T]) ([]sortKey, *apiError) {
	if value == "" {
		return nil, nil
	}
	var keys []sortKey
	for _, part := range strings.Split(value, ",") {
		k := sortKey{}
		switch {
		case strings.HasPrefix(part, "-"):
			k.desc = true
			part = part[1:]
		case strings.HasPrefix(part, "+"), strings.HasPrefix(part, " "):
			part = part[1:]
		}
		if part == "" || !isLetter(part[0]) {
			return nil, errSortOrder()
		}
		if _, ok := fields[part]; !ok {
			return nil, errOrderByField(part)
		}
		k.field = part
		keys = append(keys, k)
	}
	return keys, nil
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// compareBy compares a and b by keys, in order.
func compareBy[T any](a, b T, keys []sortKey, fields map[string]field[T]) int {
	for _, k := range keys {
		c := fields[k.field].compare(a, b)
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
