package flowservice

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// maxPages stops a listing whose continuation links never end, even when
// each link differs from the ones before.
const maxPages = 10000

// Bounds of one listing, which returns every item at once and so keeps all
// of them in memory. By estimate they are far above a real sandbox. A
// connection item is about 1 KiB of JSON (the documented example is 850
// bytes), so the byte bound is reached at about 250,000 connections. The
// byte bound limits the memory of large items (a connection spec keeps its
// JSON in Raw), and the item count limits that of small ones.
const (
	defaultMaxListItems = 1_000_000
	defaultMaxListBytes = 256 << 20 // response bodies of all pages together
)

// listLimits bounds one listing. [New] sets the defaults, and tests lower
// them.
type listLimits struct {
	items int
	bytes int
}

// page is one page of a list response. The last page carries "_links": {}
// or no _links at all.
type page struct {
	Items []json.RawMessage `json:"items"`
	Links struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
}

// listPages sends GET resource?query and calls each with the items of every
// page, following _links.next.href until the last page. It fails once the
// pages together exceed c.listLimits.
func (c *Client) listPages(ctx context.Context, resource string, query url.Values, each func(json.RawMessage) error) error {
	r := &request{method: http.MethodGet, path: resource, query: query}
	seen := map[string]bool{r.url(c.base): true}
	var items, size int
	for pages := 1; ; pages++ {
		res, err := c.do(ctx, r)
		if err != nil {
			return err
		}
		if size += len(res.body); size > c.listLimits.bytes {
			return fmt.Errorf("GET %s: listing larger than %d MiB after %d pages; narrow the filters",
				resource, c.listLimits.bytes>>20, pages)
		}
		var p page
		if err := json.Unmarshal(res.body, &p); err != nil {
			return fmt.Errorf("GET %s: decode page %d: %w", resource, pages, err)
		}
		if items += len(p.Items); items > c.listLimits.items {
			return fmt.Errorf("GET %s: listing has more than %d items after %d pages; narrow the filters",
				resource, c.listLimits.items, pages)
		}
		for _, item := range p.Items {
			if err := each(item); err != nil {
				return fmt.Errorf("GET %s: page %d: %w", resource, pages, err)
			}
		}
		if p.Links.Next == nil || p.Links.Next.Href == "" {
			return nil
		}
		next, err := c.resolveNext(p.Links.Next.Href, query)
		if err != nil {
			return fmt.Errorf("GET %s: page %d: %w", resource, pages, err)
		}
		if seen[next] {
			return fmt.Errorf("GET %s: page %d: continuation link %q repeats an earlier page",
				resource, pages, displayRawURL(p.Links.Next.Href))
		}
		if pages >= maxPages {
			return fmt.Errorf("GET %s: more than %d pages; narrow the filters", resource, maxPages)
		}
		seen[next] = true
		r = &request{method: http.MethodGet, path: resource, rawURL: next}
	}
}

// resolveNext turns a continuation link into the absolute URL of the next
// page. The documented form is relative to the Flow Service base path, such
// as /connections?continuationToken=abc. An absolute URL is followed only on
// the endpoint's own scheme and host, so that a link cannot send the token
// elsewhere.
//
// NOTE: the documentation does not say whether the continuation token carries
// the filters, so query parameters of the first request that the link omits
// are sent again, as the aepp client does.
func (c *Client) resolveNext(href string, first url.Values) (string, error) {
	link, err := url.Parse(href)
	if err != nil {
		return "", fmt.Errorf("invalid continuation link: %s", parseFailure(err))
	}
	var next *url.URL
	switch {
	case link.Scheme != "" || link.Host != "":
		if !strings.EqualFold(link.Scheme, c.base.Scheme) || !strings.EqualFold(link.Host, c.base.Host) {
			return "", fmt.Errorf("continuation link %q points away from %s://%s",
				displayURL(link), c.base.Scheme, c.base.Host)
		}
		next = link
	case strings.HasPrefix(link.Path, c.base.Path+"/"):
		// NOTE: a link that already starts with the base path is taken as
		// relative to the host. The documentation shows only links below
		// the base path.
		next = c.base.ResolveReference(link)
	default:
		if !strings.HasPrefix(href, "/") {
			href = "/" + href
		}
		next, err = url.Parse(c.base.String() + href)
		if err != nil {
			return "", fmt.Errorf("invalid continuation link %q: %s", displayURL(link), parseFailure(err))
		}
	}
	if next.User != nil {
		return "", fmt.Errorf("invalid continuation link %q: credentials in the URL", displayURL(next))
	}
	if !strings.HasPrefix(path.Clean(next.Path), c.base.Path+"/") {
		return "", fmt.Errorf("continuation link %q points outside %s", displayURL(next), c.base.Path)
	}
	next.Fragment = ""

	// Append the missing parameters without re-encoding the link's own
	// query, so that the token reaches the server exactly as it was sent.
	query := next.Query()
	missing := url.Values{}
	for key, values := range first {
		if _, ok := query[key]; !ok {
			missing[key] = values
		}
	}
	if len(missing) > 0 {
		if next.RawQuery != "" {
			next.RawQuery += "&"
		}
		next.RawQuery += missing.Encode()
	}
	return next.String(), nil
}
