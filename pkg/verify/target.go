package verify

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/apply-cli/apply/pkg/spec"
)

// Connection spec ids of the sources this package checks.
const (
	MySQLSpecID   = "26d738e0-8963-47ea-aadf-c60de735468a"
	MariaDBSpecID = "3000eb99-cd47-43f3-827c-43caf170f015"
)

// defaultPort is the MySQL port, used when the params give none.
const defaultPort = 3306

// connectionStringParam is the param of the connection string auth form.
const connectionStringParam = "connectionString"

// connStringMarker is the redaction marker that output shows in place of
// each part of a connection string: "(sensitive: connectionString)".
var connStringMarker = spec.NewSecret(connectionStringParam, "").String()

// ParamError is a problem with one auth param, returned by
// [TargetFromParams]. Its message never contains a param's value.
type ParamError struct {
	Param string // such as "port", or "connectionString"
	Msg   string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

// TargetFromParams builds a target from the auth params of a MySQL or
// MariaDB connection, as an API request body contains them (basic auth or
// connection string).
//
// Params that contain "connectionString" are read as the connection string
// form, with the keys Server, Port, Database, UID, PWD and SslMode, matched
// case-insensitively. Any other params are read as the basic form: server,
// port, database, username, password and sslMode. The port defaults to 3306
// and sslMode to PREFERRED. authSpecName only names the auth spec in
// errors. The error is a [*ParamError].
//
// A connection string is one sensitive value, so results and logs show
// none of its parts: the server, port, database, user and sslMode each
// appear as "(sensitive: connectionString)". Basic-auth params given here
// are shown as they are, while [TargetFromManifest] hides the sensitive ones.
func TargetFromParams(authSpecName string, params map[string]string) (Target, error) {
	var (
		t   Target
		err error
	)
	if cs, ok := params[connectionStringParam]; ok {
		t, err = targetFromConnString(cs)
	} else {
		t, err = targetFromBasic(params)
	}
	if err != nil {
		var pe *ParamError
		if authSpecName != "" && errors.As(err, &pe) {
			pe.Msg += fmt.Sprintf(" (auth spec %q)", authSpecName)
		}
		return Target{}, err
	}
	return t, nil
}

func targetFromBasic(params map[string]string) (Target, error) {
	for _, name := range []string{"server", "database", "username"} {
		if strings.TrimSpace(params[name]) == "" {
			return Target{}, &ParamError{Param: name, Msg: "missing"}
		}
	}
	port, err := parsePort(params["port"])
	if err != nil {
		return Target{}, &ParamError{Param: "port", Msg: err.Error()}
	}
	if _, err := parseSSLMode(params["sslMode"]); err != nil {
		return Target{}, &ParamError{Param: "sslMode", Msg: err.Error()}
	}
	return Target{
		Host:     strings.TrimSpace(params["server"]),
		Port:     port,
		Database: params["database"],
		User:     params["username"],
		Password: spec.NewSecret("password", params["password"]),
		SSLMode:  params["sslMode"],
	}, nil
}

func targetFromConnString(s string) (Target, error) {
	cs, err := spec.ParseConnectionString(s)
	if err != nil {
		return Target{}, &ParamError{Param: connectionStringParam, Msg: err.Error()}
	}

	for _, key := range []string{"Server", "Database", "UID"} {
		if v, _ := cs.Get(key); strings.TrimSpace(v) == "" {
			return Target{}, &ParamError{Param: connectionStringParam, Msg: fmt.Sprintf("missing key %s", key)}
		}
	}
	portText, _ := cs.Get("Port")
	port, err := parsePort(portText)
	if err != nil {
		return Target{}, &ParamError{Param: connectionStringParam, Msg: "key Port: " + err.Error()}
	}
	mode, _ := cs.Get("SslMode")
	if _, err := parseSSLMode(mode); err != nil {
		return Target{}, &ParamError{Param: connectionStringParam, Msg: "key SslMode: " + err.Error()}
	}

	server, _ := cs.Get("Server")
	database, _ := cs.Get("Database")
	user, _ := cs.Get("UID")
	password, _ := cs.Get("PWD")
	return Target{
		Host:     strings.TrimSpace(server),
		Port:     port,
		Database: database,
		User:     user,
		Password: spec.NewSecret("PWD", password),
		SSLMode:  mode,
		// The connection string's "format": "password" covers all of it,
		// literal keys too, because a spec.Value does not record which
		// keys of the string came from variables.
		shown: shownText{
			host:     connStringMarker,
			port:     connStringMarker,
			database: connStringMarker,
			user:     connStringMarker,
			sslMode:  connStringMarker,
		},
	}, nil
}

// parsePort reads a port. Empty means the default. The error never quotes
// the text, which may sit inside a connection string.
func parsePort(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return defaultPort, nil
	}
	port, err := strconv.Atoi(s)
	if err != nil || port < 1 || port > 65535 {
		return 0, errors.New("must be a number from 1 to 65535")
	}
	return port, nil
}

// TargetFromManifest builds a target from a manifest. ok is false when the
// manifest is not a MySQL or MariaDB source.
//
// An error is a [*spec.Error] giving the manifest position of the param at
// fault, also when a param's variable is unset (as in a dry run that allows
// unset variables). Basic-auth params that are sensitive, such as values
// that came from environment variables, are shown in results by their
// redaction marker instead of their value, and a connection string shows
// none of its parts, as [TargetFromParams] describes.
func TargetFromManifest(m *spec.Manifest) (t Target, ok bool, err error) {
	if m.ConnectionSpec.ID != MySQLSpecID && m.ConnectionSpec.ID != MariaDBSpecID {
		return Target{}, false, nil
	}
	names := make([]string, 0, len(m.Auth.Params))
	for name := range m.Auth.Params {
		names = append(names, name)
	}
	slices.Sort(names)

	params := make(map[string]string, len(m.Auth.Params))
	for _, name := range names {
		v := m.Auth.Params[name]
		if vars := v.Unresolved(); len(vars) > 0 {
			msg := fmt.Sprintf("variable %s is not set", strings.Join(vars, ", "))
			return Target{}, true, manifestError(m, name, msg)
		}
		params[name] = v.Reveal()
	}

	t, err = TargetFromParams("", params)
	if err != nil {
		var pe *ParamError
		errors.As(err, &pe)
		return Target{}, true, manifestError(m, pe.Param, pe.Msg)
	}
	t.Name = m.Name
	if _, isConnString := params[connectionStringParam]; !isConnString {
		t.shown = shownFromParams(m.Auth.Params)
	}
	return t, true, nil
}

func manifestError(m *spec.Manifest, param, msg string) error {
	field := "auth.params." + param
	pos, ok := m.Fields[field]
	if !ok {
		pos = m.Pos
	}
	return &spec.Error{Pos: pos, Field: field, Msg: msg}
}

// shownText contains the redaction markers that output shows in place of
// target fields whose values are sensitive. An empty field means the value
// itself is shown.
type shownText struct {
	host, port, database, user, sslMode string
}

func shownFromParams(params map[string]spec.Value) shownText {
	marker := func(name string) string {
		if v, ok := params[name]; ok && v.Sensitive() {
			return v.String()
		}
		return ""
	}
	return shownText{
		host:     marker("server"),
		port:     marker("port"),
		database: marker("database"),
		user:     marker("username"),
		sslMode:  marker("sslMode"),
	}
}

// addrText returns host:port as output shows it. A redaction marker is not
// put in brackets, although it contains ":". When host and port share one
// marker, as the parts of a connection string do, it is shown once.
func (t Target) addrText() string {
	port := strconv.Itoa(t.port())
	if t.shown.port != "" {
		port = t.shown.port
	}
	switch {
	case t.shown.host != "" && t.shown.host == t.shown.port:
		return t.shown.host
	case t.shown.host != "":
		return t.shown.host + ":" + port
	}
	return net.JoinHostPort(t.Host, port)
}

// shownOr returns shown when it is set, and value otherwise.
func shownOr(value, shown string) string {
	if shown != "" {
		return shown
	}
	return value
}

func (t Target) hostText() string {
	if t.shown.host != "" {
		return t.shown.host
	}
	return strconv.Quote(t.Host)
}

func (t Target) userText() string {
	if t.shown.user != "" {
		return t.shown.user
	}
	return strconv.Quote(t.User)
}

func (t Target) databaseText() string {
	if t.shown.database != "" {
		return t.shown.database
	}
	return strconv.Quote(t.Database)
}

func (t Target) port() int {
	if t.Port == 0 {
		return defaultPort
	}
	return t.Port
}

// redact replaces the password, and the values of fields that output must
// not show, wherever they occur in s. It guards text that the driver, the
// server or Go's TLS package wrote, which this package does not control.
//
// All values are replaced in one pass, longest first, so that a value that
// is part of another, such as a user name inside the password, leaves no
// piece of the longer one behind. The sslMode is left alone, because no such
// text quotes it, and words like "true" would be replaced everywhere.
func (t Target) redact(s string) string {
	type replacement struct{ value, marker string }
	replacements := []replacement{{t.Password.Reveal(), t.Password.String()}}
	if t.shown.host != "" {
		replacements = append(replacements, replacement{t.Host, t.shown.host})
	}
	if t.shown.user != "" {
		replacements = append(replacements, replacement{t.User, t.shown.user})
	}
	if t.shown.database != "" {
		replacements = append(replacements, replacement{t.Database, t.shown.database})
	}
	if t.shown.port != "" {
		replacements = append(replacements, replacement{strconv.Itoa(t.port()), t.shown.port})
	}
	slices.SortStableFunc(replacements, func(a, b replacement) int { return len(b.value) - len(a.value) })

	var oldnew []string
	for _, r := range replacements {
		if r.value != "" {
			oldnew = append(oldnew, r.value, r.marker)
		}
	}
	return strings.NewReplacer(oldnew...).Replace(s)
}
