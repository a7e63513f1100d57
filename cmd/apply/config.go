package main

import (
	"fmt"
	"net/url"
	"strings"
)

// Defaults of the connection settings. Keep in sync with the README's
// configuration reference.
const (
	defaultEndpoint    = "https://platform.adobe.io"
	defaultIMSEndpoint = "https://ims-na1.adobelogin.com"
	defaultSandbox     = "prod"
	// defaultScopes are the scopes Adobe's Developer Console lists for an
	// Experience Platform OAuth server-to-server credential.
	defaultScopes = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
)

// Environment variables read by the apply command. Keep in sync with the
// README's configuration reference.
const (
	envEndpoint     = "AEP_ENDPOINT"
	envAccessToken  = "AEP_ACCESS_TOKEN"
	envClientID     = "AEP_CLIENT_ID"
	envClientSecret = "AEP_CLIENT_SECRET"
	envScopes       = "AEP_SCOPES"
	envIMSEndpoint  = "AEP_IMS_ENDPOINT"
	envAPIKey       = "AEP_API_KEY"
	envOrgID        = "AEP_ORG_ID"
	envSandbox      = "AEP_SANDBOX_NAME"
	envLockKey      = "APPLY_LOCK_KEY"
)

// minLockKeyBytes is the shortest APPLY_LOCK_KEY accepted. The lock file
// is often public, and its HMACs let anyone test guesses of the key, and
// through it of weak passwords, offline. 32 random characters carry at
// least 128 bits even as hex, which puts such guessing out of reach.
const minLockKeyBytes = 32

// lockKeyHint is the command that makes a good lock key.
const lockKeyHint = "create one with: openssl rand -base64 32"

// checkLockKey rejects a lock key too short to resist offline guessing.
// The error never contains the key.
func checkLockKey(key string) error {
	if len(key) < minLockKeyBytes {
		return fmt.Errorf("the key is %s long, want at least %d bytes of random data; %s", countNoun(len(key), "byte"), minLockKeyBytes, lockKeyHint)
	}
	return nil
}

// target is the endpoint, organization and sandbox of a run, from flags,
// then the environment, then the defaults.
type target struct {
	endpoint string
	orgID    string
	sandbox  string
}

// credentials authenticate requests. accessToken and clientSecret are
// secrets: nothing prints them, and errors name the variables only.
type credentials struct {
	apiKey       string
	accessToken  string
	clientID     string
	clientSecret string
	scopes       []string
	imsEndpoint  string
}

// resolveTarget combines the --endpoint, --org and --sandbox flags with
// the environment. It reports an endpoint that is not an absolute URL.
func resolveTarget(e *env, endpointFlag, orgFlag, sandboxFlag string) (target, []string) {
	t := target{
		endpoint: firstSet(endpointFlag, e.getenv(envEndpoint), defaultEndpoint),
		orgID:    firstSet(orgFlag, e.getenv(envOrgID)),
		sandbox:  firstSet(sandboxFlag, e.getenv(envSandbox), defaultSandbox),
	}
	var problems []string
	source := envEndpoint
	if endpointFlag != "" {
		source = "--endpoint"
	}
	if err := checkURL(t.endpoint); err != nil {
		problems = append(problems, invalidURLProblem(source, t.endpoint, err))
	}
	return t, problems
}

// resolveCredentials reads the credentials from the environment and
// returns a problem for each missing one, named by its variable, so that
// nothing is sent before all of them are present.
func resolveCredentials(e *env, t target) (credentials, []string) {
	c := credentials{
		accessToken:  e.getenv(envAccessToken),
		clientID:     e.getenv(envClientID),
		clientSecret: e.getenv(envClientSecret),
		imsEndpoint:  firstSet(e.getenv(envIMSEndpoint), defaultIMSEndpoint),
	}
	c.apiKey = firstSet(e.getenv(envAPIKey), c.clientID)
	for _, s := range strings.Split(firstSet(e.getenv(envScopes), defaultScopes), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.scopes = append(c.scopes, s)
		}
	}

	var problems []string
	switch {
	case c.accessToken != "":
	case c.clientID != "" && c.clientSecret != "":
	case c.clientID != "":
		problems = append(problems, fmt.Sprintf("missing %s: the IMS token exchange needs it with %s", envClientSecret, envClientID))
	case c.clientSecret != "":
		problems = append(problems, fmt.Sprintf("missing %s: the IMS token exchange needs it with %s", envClientID, envClientSecret))
	default:
		problems = append(problems, fmt.Sprintf("missing credentials: set %s, or %s and %s for the IMS token exchange", envAccessToken, envClientID, envClientSecret))
	}
	if c.apiKey == "" {
		problems = append(problems, fmt.Sprintf("missing %s: set it to the client id of your Developer Console project (it defaults to %s)", envAPIKey, envClientID))
	}
	if t.orgID == "" {
		problems = append(problems, fmt.Sprintf("missing %s (or --org): set it to your IMS organization id, such as 5C1328435BF324E90A49402A@AdobeOrg", envOrgID))
	}
	if c.accessToken == "" && c.clientID != "" {
		if err := checkURL(c.imsEndpoint); err != nil {
			problems = append(problems, invalidURLProblem(envIMSEndpoint, c.imsEndpoint, err))
		}
	}
	return c, problems
}

// checkURL reports whether s is an absolute http or https URL without
// user info or query, which could carry credentials. Whether a plain http
// URL is allowed (only on loopback) is the client's decision.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("want an absolute https:// URL")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("want a URL without user name, password, query or fragment: credentials go in %s, or %s and %s", envAccessToken, envClientID, envClientSecret)
	}
	return nil
}

// invalidURLProblem describes an invalid URL from source, a flag or a
// variable, without the parts of the URL that may contain credentials.
func invalidURLProblem(source, rawURL string, err error) string {
	if shown := redactURL(rawURL); shown != "" {
		return fmt.Sprintf("invalid %s %s: %v", source, shown, err)
	}
	return fmt.Sprintf("invalid %s: %v", source, err)
}

// redactURL returns rawURL with its user name and password replaced by
// "xxxxx" and its query and fragment removed. It returns "" when rawURL
// does not parse, because the credentials in such a value cannot be found.
func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// firstSet returns the first non-empty value.
func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
