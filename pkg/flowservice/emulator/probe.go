package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/apply-cli/apply/pkg/verify"
)

// Connection spec ids of the sources whose test and explore endpoints reach
// the real database.
const (
	mysqlSpecID   = "26d738e0-8963-47ea-aadf-c60de735468a"
	mariadbSpecID = "3000eb99-cd47-43f3-827c-43caf170f015"
)

func isDatabaseSpec(id string) bool { return id == mysqlSpecID || id == mariadbSpecID }

type testResponse struct {
	Result bool `json:"result"`
}

// exploreItem is one object of an explore response. NOTE: the shape follows
// the explore responses of the database source tutorials. The real service
// may add fields.
type exploreItem struct {
	Type           string `json:"type"`
	Name           string `json:"name"`
	Path           string `json:"path"`
	CanPreview     bool   `json:"canPreview"`
	CanFetchSchema bool   `json:"canFetchSchema"`
}

// testConnection serves GET /connections/{id}/test by connecting to the
// database with the stored params.
func (e *Emulator) testConnection(w http.ResponseWriter, r *http.Request, rq *request, id string) {
	c, ok := e.store.get(rq.scope, id)
	if !ok {
		e.fail(w, rq, errNotFound("connections", id))
		return
	}
	if !isDatabaseSpec(c.SpecID) {
		// NOTE: only MySQL and MariaDB can be checked here, and other
		// sources report success.
		writeJSON(w, http.StatusOK, testResponse{Result: true})
		return
	}
	res := verify.Result{Outcome: verify.Invalid}
	if target, err := verify.TargetFromParams(c.AuthSpecName, stringParams(c.Params)); err == nil {
		res = verify.Check(r.Context(), target, e.opts.VerifyTimeout)
	}
	e.log.Debug("connection tested", "outcome", res.Outcome, "request_id", rq.id)
	writeJSON(w, http.StatusOK, testResponse{Result: res.Outcome == verify.Reachable})
}

// exploreConnection serves GET /connections/{id}/explore?objectType=root:
// the tables of the database, as a JSON array. Other object types are not
// emulated.
func (e *Emulator) exploreConnection(w http.ResponseWriter, r *http.Request, rq *request, id string) {
	c, ok := e.store.get(rq.scope, id)
	if !ok {
		e.fail(w, rq, errNotFound("connections", id))
		return
	}
	if objectType := r.URL.Query().Get("objectType"); objectType != "" && objectType != "root" {
		e.fail(w, rq, errFieldValue(objectType, "objectType"))
		return
	}
	items := []exploreItem{}
	if !isDatabaseSpec(c.SpecID) {
		// NOTE: only MySQL and MariaDB can be explored here, and other
		// sources list no objects.
		writeJSON(w, http.StatusOK, items)
		return
	}
	tables, aerr := e.listTables(r.Context(), c)
	if aerr != nil {
		e.fail(w, rq, aerr)
		return
	}
	for _, t := range tables {
		items = append(items, exploreItem{Type: "table", Name: t, Path: t, CanPreview: true, CanFetchSchema: true})
	}
	writeJSON(w, http.StatusOK, items)
}

// listTables lists the tables of c's database. A failure to connect is
// reported with the outcome and detail of the check, which never contain a
// secret.
func (e *Emulator) listTables(ctx context.Context, c *connection) ([]string, *apiError) {
	target, err := verify.TargetFromParams(c.AuthSpecName, stringParams(c.Params))
	if err != nil {
		return nil, errInvalidRequest("the auth params cannot describe a database connection")
	}
	tables, err := verify.ListTables(ctx, target, e.opts.VerifyTimeout)
	var verr *verify.Error
	switch {
	case errors.As(err, &verr):
		return nil, errInvalidRequest("connecting to the database failed (%s): %s", verr.Result.Outcome, verr.Result.Detail)
	case err != nil:
		return nil, errInvalidRequest("listing the tables of the database failed")
	}
	return tables, nil
}

// stringParams converts params for verify, which takes strings: every param
// of the MySQL and MariaDB auth specs is a string.
func stringParams(params map[string]any) map[string]string {
	out := make(map[string]string, len(params))
	for k, v := range params {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}
