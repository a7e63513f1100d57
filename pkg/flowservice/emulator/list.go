package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// connectionFields are the fields of GET /connections filters and orderby.
// The documentation names id, name, description, connectionSpec.id and
// state as filterable. NOTE: createdAt and updatedAt are included because
// the error catalog's examples filter on createdAt.
var connectionFields = map[string]field[*connection]{
	"id":                {kind: identifier, str: func(c *connection) string { return c.ID }},
	"name":              {kind: text, str: func(c *connection) string { return c.Name }},
	"description":       {kind: text, str: func(c *connection) string { return c.Description }},
	"connectionSpec.id": {kind: identifier, str: func(c *connection) string { return c.SpecID }},
	"state":             {kind: identifier, str: func(c *connection) string { return c.State }},
	"createdAt":         {kind: epochMillis, num: func(c *connection) int64 { return c.CreatedAt }},
	"updatedAt":         {kind: epochMillis, num: func(c *connection) int64 { return c.UpdatedAt }},
}

// tieBreak ends every sort, so that the order is total and pages never
// overlap or skip: oldest first, then by id.
var tieBreak = []sortKey{{field: "createdAt"}, {field: "id"}}

// listParams are the query parameters of GET /connections.
var listParams = map[string]bool{
	"property": true, "orderby": true, "limit": true, "continuationToken": true, "count": true,
}

// pageToken is the content of a continuation token. It carries the whole
// query, so a client that sends only the token gets the next page of the
// same filtered, sorted list. It also carries the sort values of the last
// item returned rather than an offset, so creates and deletes between two
// pages neither repeat nor skip an item.
type pageToken struct {
	Properties []string `json:"p,omitempty"`
	OrderBy    string   `json:"o,omitempty"`
	Limit      int      `json:"l"`
	After      *cursor  `json:"a,omitempty"`
}

// cursor contains the sortable fields of the last item of a page.
type cursor struct {
	ID          string `json:"i"`
	Name        string `json:"n,omitempty"`
	Description string `json:"d,omitempty"`
	State       string `json:"s,omitempty"`
	SpecID      string `json:"c,omitempty"`
	CreatedAt   int64  `json:"ca"`
	UpdatedAt   int64  `json:"ua"`
}

func cursorOf(c *connection) *cursor {
	return &cursor{
		ID: c.ID, Name: c.Name, Description: c.Description, State: c.State,
		SpecID: c.SpecID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (k *cursor) connection() *connection {
	return &connection{
		ID: k.ID, Name: k.Name, Description: k.Description, State: k.State,
		SpecID: k.SpecID, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
	}
}

// encode returns the token as unpadded base64url, so that it contains no
// '=' and survives clients that split the href at the first '='.
func (t pageToken) encode() string {
	data, err := json.Marshal(t)
	if err != nil {
		panic("emulator: encode page token: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodePageToken(s string) (pageToken, bool) {
	var t pageToken
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(data, &t) != nil || t.Limit <= 0 || t.After == nil {
		return pageToken{}, false
	}
	t.Limit = min(t.Limit, MaxPageSize) // tokens come from clients, which may edit them
	return t, true
}

// listResponse is the body of GET /connections.
type listResponse struct {
	Items []connectionView `json:"items"`
	Links links            `json:"_links"`
}

// links is {} on the last page, as documented for other Flow Service lists.
type links struct {
	Next *link `json:"next,omitempty"`
}

type link struct {
	Href string `json:"href"`
}

type countResponse struct {
	Count int `json:"count"`
}

// listConnections serves GET /connections.
func (e *Emulator) listConnections(w http.ResponseWriter, r *http.Request, rq *request) {
	t, count, aerr := e.parseListQuery(r.URL.Query())
	if aerr != nil {
		e.fail(w, rq, aerr)
		return
	}
	var filters []filter[*connection]
	for _, expr := range t.Properties {
		f, aerr := parseFilter(expr, connectionFields)
		if aerr != nil {
			e.fail(w, rq, aerr)
			return
		}
		filters = append(filters, f)
	}
	keys, aerr := parseOrderBy(t.OrderBy, connectionFields)
	if aerr != nil {
		e.fail(w, rq, aerr)
		return
	}
	keys = append(keys, tieBreak...)

	var matches []*connection
	for _, c := range e.store.list(rq.scope) {
		if matchAll(c, filters) {
			matches = append(matches, c)
		}
	}
	if count {
		writeJSON(w, http.StatusOK, countResponse{Count: len(matches)})
		return
	}
	slices.SortFunc(matches, func(a, b *connection) int { return compareBy(a, b, keys, connectionFields) })

	start := 0
	if t.After != nil {
		after := t.After.connection()
		start = sort.Search(len(matches), func(i int) bool {
			return compareBy(matches[i], after, keys, connectionFields) > 0
		})
	}
	end := min(start+t.Limit, len(matches))
	resp := listResponse{Items: make([]connectionView, 0, end-start)}
	for _, c := range matches[start:end] {
		resp.Items = append(resp.Items, e.view(c))
	}
	if end < len(matches) {
		next := t
		next.After = cursorOf(matches[end-1])
		// The href is relative to the Flow Service base path, with the
		// token as its first and only parameter, as in the OpenAPI example.
		resp.Links.Next = &link{Href: "/connections?continuationToken=" + next.encode()}
	}
	writeJSON(w, http.StatusOK, resp)
}

func matchAll[T any](v T, filters []filter[T]) bool {
	for _, f := range filters {
		if !f.match(v) {
			return false
		}
	}
	return true
}

// parseListQuery reads the query of GET /connections into a page token.
// Empty parameters count as absent, since the Postman collection sends
// every parameter, empty or not. With a continuation token, the token's
// query applies and the other parameters are ignored. NOTE: how the real
// service combines a token with other parameters is undocumented.
func (e *Emulator) parseListQuery(q url.Values) (pageToken, bool, *apiError) {
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !listParams[name] {
			return pageToken{}, false, errQueryParam(name)
		}
	}

	var count bool
	switch v := strings.ToLower(q.Get("count")); v {
	case "", "false":
	case "true":
		count = true
	default:
		return pageToken{}, false, errFieldValue(q.Get("count"), "count")
	}
	limit := q.Get("limit")
	if count && limit != "" {
		return pageToken{}, false, errLimitAndCount()
	}

	if token := q.Get("continuationToken"); token != "" && !count {
		t, ok := decodePageToken(token)
		if !ok {
			return pageToken{}, false, errFieldValue(token, "continuationToken")
		}
		return t, false, nil
	}

	t := pageToken{OrderBy: q.Get("orderby"), Limit: e.opts.PageSize}
	for _, p := range q["property"] {
		if p != "" {
			t.Properties = append(t.Properties, p)
		}
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n <= 0 {
			return pageToken{}, false, errFieldValue(limit, "limit")
		}
		// NOTE: the real maximum page size is undocumented, so larger
		// limits are capped rather than rejected.
		t.Limit = min(n, MaxPageSize)
	}
	return t, count, nil
}
