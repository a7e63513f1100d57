package emulator

import (
	"mime"
	"net/http"
	"strings"
)

// defaultSandbox is the sandbox of a request without x-sandbox-name. The
// platform documents that a default sandbox is used then, and the default
// production sandbox is named prod.
const defaultSandbox = "prod"

// serveFlow serves one Flow Service request through the gateway checks and
// the injected faults. It returns true when the response must be dropped.
func (e *Emulator) serveFlow(w *bufferedResponse, r *http.Request, rq *request) (lost bool) {
	ft := e.faults.draw()
	sleep(r.Context(), ft.latency)

	if !e.checkGateway(w, r, rq) {
		return false
	}
	if ok, retryAfter := e.faults.allow(); !ok {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		e.stats.rateLimited()
		e.failGateway(w, rq, errTooManyRequests)
		return false
	}
	if ft.status != 0 {
		e.stats.injectedError()
		if ft.status == http.StatusServiceUnavailable {
			e.fail(w, rq, errUnavailable())
		} else {
			e.fail(w, rq, errInternal())
		}
		return false
	}

	e.route(w, r, rq)
	return ft.lost && isWrite(r.Method) && w.status >= 200 && w.status < 300
}

// isWrite reports whether method changes connections: the requests whose
// response can be lost after the change is committed.
func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch || method == http.MethodDelete
}

// checkGateway checks the headers in the order the platform gateway is
// assumed to: token, API key, org, content type, then the Flow Service's own
// sandbox check. It writes the error and returns false on the first failure.
//
// NOTE: the documentation lists these errors but not their order, so this
// order is a guess.
func (e *Emulator) checkGateway(w http.ResponseWriter, r *http.Request, rq *request) bool {
	auth := r.Header.Get("Authorization")
	if strings.TrimSpace(auth) == "" {
		e.failGateway(w, rq, errTokenMissing)
		return false
	}
	token, ok := bearerToken(auth)
	if !ok || !e.tokens.accept(token, e.opts.Token, e.now()) {
		e.failGateway(w, rq, errTokenInvalid)
		return false
	}

	rq.client = r.Header.Get("x-api-key")
	if rq.client == "" {
		e.failGateway(w, rq, errKeyMissing)
		return false
	}
	if e.opts.APIKey != "" && rq.client != e.opts.APIKey {
		e.failGateway(w, rq, errKeyInvalid)
		return false
	}

	org := r.Header.Get("x-gw-ims-org-id")
	if org == "" {
		e.failGateway(w, rq, errOrgMissing)
		return false
	}

	if needsBody(r.Method) && !isJSONContentType(r.Header.Get("Content-Type")) {
		e.log.Info("request rejected by gateway check", "error", "content type", "request_id", rq.id)
		writeJSON(w, http.StatusBadRequest, errContentType)
		return false
	}

	sandbox := r.Header.Get("x-sandbox-name")
	if sandbox == "" {
		// NOTE: the platform documents a fallback to the default sandbox,
		// and the Flow Service catalog a 2105-400 for a missing header.
		// Which one the connections API applies is undocumented.
		if e.opts.StrictSandbox {
			e.fail(w, rq, errSandboxMissing())
			return false
		}
		sandbox = defaultSandbox
	}
	rq.scope = scope{org: org, sandbox: sandbox}
	return true
}

func needsBody(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// isJSONContentType accepts application/json and the +json types such as
// application/json-patch+json. NOTE: which types the gateway accepts beyond
// application/json is undocumented.
func isJSONContentType(value string) bool {
	mediaType, _, err := mime.ParseMediaType(value)
	if err != nil {
		return false
	}
	return mediaType == "application/json" ||
		strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")
}

// bearerToken returns the token of an Authorization header value.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// route dispatches a request that passed the gateway checks. PATCH and
// DELETE on a connection accept a trailing slash, because the OpenAPI file
// and the Postman collections declare them with one and the curl examples
// without.
func (e *Emulator) route(w http.ResponseWriter, r *http.Request, rq *request) {
	rest := strings.TrimPrefix(r.URL.Path, BasePath)
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "connections":
		switch r.Method {
		case http.MethodGet:
			e.listConnections(w, r, rq)
		case http.MethodPost:
			e.createConnection(w, r, rq)
		default:
			e.methodNotAllowed(w, rq, "GET, POST")
		}
	case len(parts) == 2 && parts[0] == "connections" && parts[1] != "":
		switch r.Method {
		case http.MethodGet:
			e.getConnection(w, rq, parts[1])
		case http.MethodPatch:
			e.patchConnection(w, r, rq, parts[1])
		case http.MethodDelete:
			e.deleteConnection(w, rq, parts[1])
		default:
			e.methodNotAllowed(w, rq, "GET, PATCH, DELETE")
		}
	case len(parts) == 3 && parts[0] == "connections" && parts[2] == "test":
		if r.Method != http.MethodGet {
			e.methodNotAllowed(w, rq, "GET")
			return
		}
		e.testConnection(w, r, rq, parts[1])
	case len(parts) == 3 && parts[0] == "connections" && parts[2] == "explore":
		if r.Method != http.MethodGet {
			e.methodNotAllowed(w, rq, "GET")
			return
		}
		e.exploreConnection(w, r, rq, parts[1])
	case len(parts) == 1 && parts[0] == "connectionSpecs":
		if r.Method != http.MethodGet {
			e.methodNotAllowed(w, rq, "GET")
			return
		}
		e.listSpecs(w, r, rq)
	case len(parts) == 2 && parts[0] == "connectionSpecs" && parts[1] != "":
		if r.Method != http.MethodGet {
			e.methodNotAllowed(w, rq, "GET")
			return
		}
		e.getSpec(w, rq, parts[1])
	default:
		e.fail(w, rq, errRouteNotFound())
	}
}

// methodNotAllowed writes a 405 response. NOTE: the gateway's body for an
// unsupported method is undocumented, so this one copies the shape of its
// other errors.
func (e *Emulator) methodNotAllowed(w http.ResponseWriter, rq *request, allow string) {
	w.Header().Set("Allow", allow)
	e.failGateway(w, rq, gatewayError{"405000", "Method not allowed", http.StatusMethodNotAllowed})
}
