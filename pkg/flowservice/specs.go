package flowservice

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// specJSON is the part of a connection spec item that the client decodes.
// The rest stays available in ConnectionSpec.Raw.
type specJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	AuthSpec []struct {
		Name string          `json:"name"`
		Type string          `json:"type"`
		Spec json.RawMessage `json:"spec"`
	} `json:"authSpec"`
}

// GetConnectionSpec returns one connection spec. An unknown id wraps
// [ErrNotFound].
func (c *Client) GetConnectionSpec(ctx context.Context, id string) (*ConnectionSpec, error) {
	if err := checkID("get connection spec", id); err != nil {
		return nil, err
	}
	p := "/connectionSpecs/" + url.PathEscape(id)
	res, err := c.do(ctx, &request{method: http.MethodGet, path: p})
	if err != nil {
		return nil, err
	}
	var body struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		return nil, fmt.Errorf("GET %s: decode response: %w", p, err)
	}
	for _, item := range body.Items {
		spec, err := decodeSpec(item)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", p, err)
		}
		if spec.ID == id {
			return spec, nil
		}
	}
	return nil, fmt.Errorf("GET %s: %w: the response lists no connection spec with that id", p, ErrNotFound)
}

// ListConnectionSpecs returns the connection specs matching the property
// filters (for example `name==mysql`), following continuation links if the
// service sends any.
func (c *Client) ListConnectionSpecs(ctx context.Context, properties ...string) ([]ConnectionSpec, error) {
	query := url.Values{}
	for _, p := range properties {
		query.Add("property", p)
	}
	var out []ConnectionSpec
	err := c.listPages(ctx, "/connectionSpecs", query, func(item json.RawMessage) error {
		spec, err := decodeSpec(item)
		if err != nil {
			return err
		}
		out = append(out, *spec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeSpec decodes one connection spec item, keeping the item's JSON in
// Raw and each auth spec's schema in Spec.
func decodeSpec(item json.RawMessage) (*ConnectionSpec, error) {
	var s specJSON
	if err := json.Unmarshal(item, &s); err != nil {
		return nil, fmt.Errorf("decode connection spec: %w", err)
	}
	spec := &ConnectionSpec{
		ID:      s.ID,
		Name:    s.Name,
		Version: s.Version,
		Raw:     append([]byte(nil), item...),
	}
	for _, a := range s.AuthSpec {
		spec.AuthSpec = append(spec.AuthSpec, AuthSpec{
			Name: a.Name,
			Type: a.Type,
			Spec: append([]byte(nil), a.Spec...),
		})
	}
	return spec, nil
}
