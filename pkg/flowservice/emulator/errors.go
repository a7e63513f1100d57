package emulator

import (
	"fmt"
	"strconv"
	"strings"
)

// errorTypePrefix starts the type URI of every Flow Service error body. The
// full URI appends the catalog code, as in FLOW-1404-412.
const errorTypePrefix = "https://ns.adobe.com/aep/errors/FLOW-"

// apiError is one Flow Service error: a code of the public error catalog
// (NNNN-HTTP), its title and a detailed message.
type apiError struct {
	code    string
	status  int
	title   string
	message string

	// resourceID and resourceType fill the report of a not-found error, as
	// the documented FLOW-1439-404 example does.
	resourceID   string
	resourceType string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// newError builds an error whose HTTP status is the suffix of code.
func newError(code, title, format string, args ...any) *apiError {
	status, err := strconv.Atoi(code[strings.LastIndexByte(code, '-')+1:])
	if err != nil {
		panic("emulator: malformed error code " + code)
	}
	return &apiError{code: code, status: status, title: title, message: fmt.Sprintf(format, args...)}
}

// errorBody is the Flow Service error body, as documented with real
// examples: no RFC 7807 "detail", but report.detailed-message, errorMessage
// and errorDetails carrying the same text.
type errorBody struct {
	Type         string      `json:"type"`
	Title        string      `json:"title"`
	Status       int         `json:"status"`
	Report       errorReport `json:"report"`
	ErrorMessage string      `json:"errorMessage"`
	ErrorDetails string      `json:"errorDetails"`
}

type errorReport struct {
	DetailedMessage string `json:"detailed-message"`
	ID              string `json:"id,omitempty"`
	RequestID       string `json:"request-id"`
	Type            string `json:"type,omitempty"`
}

func (e *apiError) body(requestID string) errorBody {
	return errorBody{
		Type:   errorTypePrefix + e.code,
		Title:  e.title,
		Status: e.status,
		Report: errorReport{
			DetailedMessage: e.message,
			ID:              e.resourceID,
			RequestID:       requestID,
			Type:            e.resourceType,
		},
		ErrorMessage: e.message,
		ErrorDetails: e.message,
	}
}

// gatewayError is the body the Adobe I/O gateway sends when a header check
// fails, before the request reaches Flow Service.
type gatewayError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
	status    int
}

var (
	errTokenMissing = gatewayError{"403010", "Oauth token is missing.", 403}
	errTokenInvalid = gatewayError{"401013", "Oauth token is not valid", 401}
	errKeyMissing   = gatewayError{"403000", "Api Key is required", 403}
	errKeyInvalid   = gatewayError{"403003", "Api Key is invalid", 403}
	errOrgMissing   = gatewayError{"400003", "Missing header", 400}

	// NOTE: no Flow Service document shows a 429 body. This one is the
	// Adobe I/O gateway's for another Adobe API (Analytics 2.0).
	errTooManyRequests = gatewayError{"429050", "Too many requests", 429}
)

// contentTypeError is the documented Platform body for a POST, PUT or PATCH
// without a valid Content-Type.
type contentTypeError struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

var errContentType = contentTypeError{
	Type:   "/placeholder/type/uri",
	Status: 400,
	Title:  "BadRequestError",
	Detail: "A valid content-type must be specified",
}

// The functions below build the catalog errors the emulator returns. Codes,
// titles and messages follow the public Flow Service error catalog. The
// catalog's sample values are replaced by the request's own.

// errInvalidRequest is the catalog's generic 1100-400. NOTE: the catalog has
// no dedicated code for an invalid create or patch body (missing name,
// params that fail the auth spec's schema), so those use this one.
func errInvalidRequest(format string, args ...any) *apiError {
	return newError("1100-400", "Invalid request",
		"The request could not be processed. Error from flow provider: "+format, args...)
}

// errNotFound is 1101-404. NOTE: the real body for an unknown connection id
// is undocumented. This one has the catalog code, and the wording and report
// fields of the documented FLOW-1439-404 body for flows.
func errNotFound(resourceType, id string) *apiError {
	e := newError("1101-404", "Resource not found",
		"The requested %s resource %s is not found. Verify the resource ID before trying again.",
		resourceType, id)
	e.resourceID = id
	e.resourceType = resourceType
	return e
}

func errInternal() *apiError {
	return newError("1102-500", "Internal Error",
		"An internal error has occurred. Please try again. If the problem persists, please contact customer support.")
}

func errUnavailable() *apiError {
	return newError("1103-503", "Service Unavailable",
		"The service is temporarily unavailable. Please try again. If the problem persists, please contact customer support.")
}

func errLimitAndCount() *apiError {
	return newError("1401-400", "Invalid request",
		"The limit and count parameters cannot be given together in the same request. Please provide either only the limit or the count parameter and try again.")
}

func errIfMatchMissing() *apiError {
	return newError("1403-400", "Header is missing",
		"The header 'If-Match' is missing in the request. Please provide the header and try again.")
}

func errVersionMismatch(supplied, id string) *apiError {
	return newError("1404-412", "Version not matching",
		"The supplied version '%s' does not match the current version on entity '%s'. Please ensure that the supplied version matches the current version on entity and try again.",
		supplied, id)
}

func errEmptyBody() *apiError {
	return newError("1405-400", "Invalid request",
		"The request body cannot be null or empty. Please provide a request body and try again.")
}

func errInvalidSpec() *apiError {
	return newError("1413-400", "Invalid request",
		"The spec ID provided is invalid. Please provide a valid spec ID and try again.")
}

func errSpecImmutable() *apiError {
	return newError("1414-400", "Invalid request", "The connection spec of a connection cannot be updated.")
}

func errAuthSpecNotFound(name, specID string) *apiError {
	return newError("1415-400", "Invalid request",
		"The auth spec '%s' could not be found for the connection spec ID %s.", name, specID)
}

func errSortOrder() *apiError {
	return newError("1432-400", "Invalid request",
		"Sort order specified is not correct, prepend + for ascending order and - for descending order in the fieldName.")
}

func errOrderByField(field string) *apiError {
	return newError("1433-400", "Invalid request",
		"Incorrect field= %s passed in orderBy, example are +name, -name, name.", field)
}

func errUnsupportedOp(op string) *apiError {
	return newError("1434-400", "Invalid request",
		"Unsupported operation '%s' received. Please use one of the supported operation types and try again.", op)
}

func errOperatorNotImplemented(op string) *apiError {
	return newError("1440-400", "Invalid request", "Operator '%s' not implemented.", op)
}

func errOperatorMultipleValues(op string) *apiError {
	return newError("1443-400", "Invalid request", "Operator '%s' is not allowed for multiple values.", op)
}

func errOperatorForField(op, field string) *apiError {
	return newError("1448-400", "Invalid request", "Operator %s not supported for field %s.", op, field)
}

func errFilterField(field string) *apiError {
	return newError("1449-400", "Invalid request", "Invalid field %s in filter params.", field)
}

func errFilterOperator(op string) *apiError {
	return newError("1450-400", "Invalid request", "Invalid operator %s in filter params.", op)
}

func errQueryParam(name string) *apiError {
	return newError("1451-400", "Invalid request", "Invalid params %s provided in query params.", name)
}

func errFieldValue(value, field string) *apiError {
	return newError("1452-400", "Invalid request", "Invalid value %s for field %s.", value, field)
}

func errQueryValue(expr string) *apiError {
	return newError("1453-400", "Invalid request", "Invalid query value %s provided in query param.", expr)
}

func errPatch(format string, args ...any) *apiError {
	return newError("1455-400", "Invalid request",
		"An error has occurred while validating patch instructions: "+format, args...)
}

func errSandboxMissing() *apiError {
	return newError("2105-400", "Header is missing",
		"The header x-sandbox-name is missing in the request. Please add the header in the request and try again.")
}
