package emulator

import (
	"net/http"
	"sort"
)

// specFields are the fields a GET /connectionSpecs property filter takes.
// NOTE: the documentation mentions a property filter on this endpoint
// without listing its fields.
var specFields = map[string]field[*connectionSpec]{
	"id":   {kind: identifier, str: func(s *connectionSpec) string { return s.id }},
	"name": {kind: text, str: func(s *connectionSpec) string { return s.name }},
}

// listSpecs serves GET /connectionSpecs: {items: [spec...]}, sorted by id.
func (e *Emulator) listSpecs(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name != "property" {
			e.fail(w, rq, errQueryParam(name))
			return
		}
	}
	var filters []filter[*connectionSpec]
	for _, expr := range q["property"] {
		if expr == "" {
			continue
		}
		f, aerr := parseFilter(expr, specFields)
		if aerr != nil {
			e.fail(w, rq, aerr)
			return
		}
		filters = append(filters, f)
	}
	resp := itemsResponse[map[string]any]{Items: []map[string]any{}}
	for _, spec := range e.specs.order {
		if matchAll(spec, filters) {
			resp.Items = append(resp.Items, spec.served)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// getSpec serves GET /connectionSpecs/{id}: {items: [spec]}. NOTE: the
// response for an unknown spec id is undocumented, so it is the 404 of an
// unknown connection.
func (e *Emulator) getSpec(w http.ResponseWriter, rq *request, id string) {
	spec := e.specs.byID[id]
	if spec == nil {
		e.fail(w, rq, errNotFound("connectionSpecs", id))
		return
	}
	writeJSON(w, http.StatusOK, itemsResponse[map[string]any]{Items: []map[string]any{spec.served}})
}
