package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/apply-cli/apply/pkg/flowservice/emulator"
)

// stepClock returns a clock that advances one second on every reading, so
// that connections created one after another have distinct createdAt.
func stepClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

// listPage is the decoded body of GET /connections.
type listPage struct {
	Items []struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		CreatedAt      int64  `json:"createdAt"`
		ConnectionSpec struct {
			ID string `json:"id"`
		} `json:"connectionSpec"`
	} `json:"items"`
	Links map[string]struct {
		Href string `json:"href"`
	} `json:"_links"`
}

func getPage(t *testing.T, srv *httptest.Server, pathAndQuery string) listPage {
	t.Helper()
	res := do(t, srv, "GET", base+pathAndQuery, nil, nil)
	if res.status != 200 {
		t.Fatalf("GET %s: status %d, body %s", pathAndQuery, res.status, res.body)
	}
	var p listPage
	if err := json.Unmarshal(res.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// listAll follows _links.next.href from the first page and returns the
// names in order and the number of pages.
func listAll(t *testing.T, srv *httptest.Server, query string) (names []string, pages int) {
	t.Helper()
	next := "/connections" + query
	for next != "" {
		p := getPage(t, srv, next)
		pages++
		for _, it := range p.Items {
			names = append(names, it.Name)
		}
		next = p.Links["next"].Href
		if pages > 100 {
			t.Fatal("more than 100 pages")
		}
	}
	return names, pages
}

// seed creates connections named conn-00 … conn-(n-1), in that order.
// Those with an odd number get the description "odd".
func seed(t *testing.T, srv *httptest.Server, n int) {
	t.Helper()
	for i := range n {
		b := mysqlBody(fmt.Sprintf("conn-%02d", i))
		if i%2 == 1 {
			b["description"] = "odd"
		}
		create(t, srv, b)
	}
}

func names(from, to int, step int) []string {
	var out []string
	for i := from; i < to; i += step {
		out = append(out, fmt.Sprintf("conn-%02d", i))
	}
	return out
}

func TestListPagesWithFilters(t *testing.T) {
	_, srv := start(t, emulator.Options{Clock: stepClock()})
	seed(t, srv, 25)

	q := "?" + url.Values{
		"property": {"description==odd", "name>=conn-03"},
		"limit":    {"4"},
	}.Encode()
	got, pages := listAll(t, srv, q)
	want := names(3, 25, 2) // conn-03, conn-05, …, conn-23: 11 items
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
}

func TestListContinuationLink(t *testing.T) {
	_, srv := start(t, emulator.Options{Clock: stepClock()})
	seed(t, srv, 3)
	first := getPage(t, srv, "/connections?limit=2&orderby=-name")
	href := first.Links["next"].Href
	prefix := "/connections?continuationToken="
	if !strings.HasPrefix(href, prefix) {
		t.Fatalf("next href = %q, want prefix %q", href, prefix)
	}
	if token := strings.TrimPrefix(href, prefix); token == "" || strings.ContainsAny(token, "=&+/") {
		t.Errorf("token %q must be non-empty unpadded base64url", token)
	}
	// A client that splits the href at "=" and re-sends its own params
	// alongside the token, as the aepp wrapper does.
	token := strings.Split(href, "=")[1]
	last := getPage(t, srv, "/connections?limit=2&orderby=-name&continuationToken="+token)
	if len(last.Items) != 1 || last.Items[0].Name != "conn-00" {
		t.Errorf("second page = %+v, want conn-00 only", last.Items)
	}
	res := do(t, srv, "GET", base+"/connections?limit=2&orderby=-name&continuationToken="+token, nil, nil)
	if !strings.Contains(string(res.body), `"_links":{}`) {
		t.Errorf("last page must carry \"_links\":{}; body %s", res.body)
	}
}

func TestListPagingSurvivesChangesBetweenPages(t *testing.T) {
	_, srv := start(t, emulator.Options{Clock: stepClock()})
	seed(t, srv, 6)
	first := getPage(t, srv, "/connections?limit=3")
	// Delete an item already returned and add one at the end.
	if res := do(t, srv, "DELETE", base+"/connections/"+first.Items[0].ID, nil, nil); res.status != 204 {
		t.Fatalf("delete: %d", res.status)
	}
	create(t, srv, mysqlBody("conn-06"))
	second := getPage(t, srv, first.Links["next"].Href)
	var got []string
	for _, it := range second.Items {
		got = append(got, it.Name)
	}
	if diff := cmp.Diff([]string{"conn-03", "conn-04", "conn-05"}, got); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
}

func TestListFiltersAndOrder(t *testing.T) {
	_, srv := start(t, emulator.Options{Clock: stepClock()})
	seed(t, srv, 6)
	b := mysqlBody("A,B")
	b["connectionSpec"] = map[string]any{"id": "3000eb99-cd47-43f3-827c-43caf170f015", "version": "1.0"}
	create(t, srv, b)
	all := getPage(t, srv, "/connections?limit=100")
	idOf := map[string]string{}
	for _, it := range all.Items {
		idOf[it.Name] = it.ID
	}
	third := all.Items[2].CreatedAt

	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"default order is creation", url.Values{}, append(names(0, 6, 1), "A,B")},
		{"equals", url.Values{"property": {"name==conn-02"}}, []string{"conn-02"}},
		{"quoted equals", url.Values{"property": {`name=="conn-02"`}}, []string{"conn-02"}},
		{"comma means or", url.Values{"property": {"name==conn-01,conn-04"}}, []string{"conn-01", "conn-04"}},
		{"quoted comma is one value", url.Values{"property": {`name=="A,B"`}}, []string{"A,B"}},
		{"unquoted comma splits", url.Values{"property": {`name==A,B`}}, nil},
		{"not equals", url.Values{"property": {"description!=odd", "name!=conn-00,conn-02"}}, []string{"conn-04", "A,B"}},
		{"repeated property is and", url.Values{"property": {"description==odd", "name<conn-03"}}, []string{"conn-01"}},
		{"id", url.Values{"property": {"id==" + idOf["conn-05"]}}, []string{"conn-05"}},
		{"connection spec id", url.Values{"property": {"connectionSpec.id==3000eb99-cd47-43f3-827c-43caf170f015"}}, []string{"A,B"}},
		{"state", url.Values{"property": {"state==enabled"}, "orderby": {"-name"}}, append(reverse(names(0, 6, 1)), "A,B")},
		{"created after", url.Values{"property": {fmt.Sprintf("createdAt>%d", third)}}, append(names(3, 6, 1), "A,B")},
		{"created at or before", url.Values{"property": {fmt.Sprintf("createdAt<=%d", third)}}, names(0, 3, 1)},
		{"descending name", url.Values{"orderby": {"-name"}, "property": {"name>=conn"}}, reverse(names(0, 6, 1))},
		{"plus prefix", url.Values{"orderby": {"+name"}}, append([]string{"A,B"}, names(0, 6, 1)...)},
		{"two keys", url.Values{"orderby": {"description,-name"}},
			append([]string{"conn-04", "conn-02", "conn-00", "A,B"}, "conn-05", "conn-03", "conn-01")},
		{"empty params as Postman sends them", url.Values{"property": {""}, "limit": {""}, "orderby": {""},
			"continuationToken": {""}, "count": {"false"}}, append(names(0, 6, 1), "A,B")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := listAll(t, srv, "?"+tt.query.Encode())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("unencoded plus prefix", func(t *testing.T) {
		p := getPage(t, srv, "/connections?orderby=+name&limit=1")
		if p.Items[0].Name != "A,B" {
			t.Errorf("first = %s, want A,B", p.Items[0].Name)
		}
	})
}

func reverse(s []string) []string {
	s = slices.Clone(s)
	slices.Reverse(s)
	return s
}

func TestListCount(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	seed(t, srv, 5)
	tests := []struct {
		query string
		want  float64
	}{
		{"?count=true", 5},
		{"?count=TRUE&property=description==odd", 2},
		{"?count=true&property=name==nothing", 0},
	}
	for _, tt := range tests {
		res := do(t, srv, "GET", base+"/connections"+tt.query, nil, nil)
		m := res.object(t)
		if diff := cmp.Diff(map[string]any{"count": tt.want}, m); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
	}
}

func TestListDefaultPageSize(t *testing.T) {
	_, srv := start(t, emulator.Options{PageSize: 3})
	seed(t, srv, 7)
	_, pages := listAll(t, srv, "")
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	p := getPage(t, srv, "/connections?limit=5000")
	if len(p.Items) != 7 {
		t.Errorf("limit above the maximum: %d items, want 7", len(p.Items))
	}
}

func TestListRejectsInvalidQueries(t *testing.T) {
	_, srv := start(t, emulator.Options{})
	seed(t, srv, 1)
	tests := []struct {
		name  string
		query string // raw query, already encoded
		code  string
	}{
		{"limit with count", "limit=5&count=true", "1401-400"},
		{"bad sort prefix", "orderby=*name", "1432-400"},
		{"double minus", "orderby=--name", "1432-400"},
		{"unknown sort field", "orderby=auth", "1433-400"},
		{"tilde operator", "property=name~conn", "1440-400"},
		{"ordering with several values", "property=name<=a,b", "1443-400"},
		{"ordering on id", "property=id>=abc", "1448-400"},
		{"unknown filter field", "property=connections==x", "1449-400"},
		{"unknown operator", "property=name!>x", "1450-400"},
		{"single equals", "property=name=x", "1450-400"},
		{"unknown query param", "start=10", "1451-400"},
		{"non-numeric createdAt", "property=createdAt>yesterday", "1452-400"},
		{"several values for createdAt", "property=createdAt==1676643256,x", "1452-400"},
		{"bad limit", "limit=ten", "1452-400"},
		{"zero limit", "limit=0", "1452-400"},
		{"bad count", "count=maybe", "1452-400"},
		{"bad continuation token", "continuationToken=garbage", "1452-400"},
		{"missing value", "property=createdAt==", "1453-400"},
		{"no operator", "property=name", "1453-400"},
		{"unterminated quote", "property=name==%22abc", "1453-400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, srv, "GET", base+"/connections?"+tt.query, nil, nil)
			if res.status != 400 {
				t.Fatalf("status = %d, want 400; body %s", res.status, res.body)
			}
			if got := errorCode(t, res); got != tt.code {
				t.Errorf("code = %q, want %q; body %s", got, tt.code, res.body)
			}
		})
	}
}
