package verify

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
)

// sslMode is the TLS mode of a check.
type sslMode int

const (
	sslDisabled       sslMode = iota // no TLS
	sslPreferred                     // TLS when the server offers it, certificate not verified
	sslRequired                      // TLS or fail, certificate not verified
	sslVerifyCA                      // TLS, chain verified, host name not checked
	sslVerifyIdentity                // TLS, chain and host name verified
)

// defaultSSLMode applies when sslMode is absent. PREFERRED is the default
// of the mysql and mariadb command-line clients.
// NOTE: the public documentation gives no Azure default, and states that
// AWS defaults to "false". A missing sslMode on AWS therefore checks with
// encryption when the server offers it, where the platform may connect
// without it.
const defaultSSLMode = sslPreferred

var errInvalidSSLMode = errors.New(`must be DISABLED, PREFERRED, REQUIRED, Verify-Ca or Verify Identity, or "true" or "false"`)

// parseSSLMode reads an sslMode as a manifest or connection string writes
// it. Case, spaces, "-" and "_" are ignored, so "Verify-Ca", "VERIFY_CA"
// and "verifyca" are the same mode. The MySQL Connector/NET names None,
// VerifyCA and VerifyFull, which connection strings often carry, are
// accepted too. The empty string means the default.
func parseSSLMode(s string) (sslMode, error) {
	key := strings.ToLower(s)
	key = strings.NewReplacer(" ", "", "-", "", "_", "").Replace(key)
	switch key {
	case "":
		return defaultSSLMode, nil
	case "disabled", "none", "false":
		return sslDisabled, nil
	case "preferred":
		return sslPreferred, nil
	case "required", "true":
		return sslRequired, nil
	case "verifyca":
		return sslVerifyCA, nil
	case "verifyidentity", "verifyfull":
		return sslVerifyIdentity, nil
	}
	return 0, errInvalidSSLMode
}

// tlsConfig returns the driver's TLS settings for mode: nil for no TLS,
// and whether the driver may fall back to a connection without TLS. roots
// nil means the system's roots.
func tlsConfig(mode sslMode, host string, roots *x509.CertPool) (*tls.Config, bool) {
	switch mode {
	case sslPreferred:
		// The same settings as the driver's own tls=preferred.
		return &tls.Config{InsecureSkipVerify: true}, true
	case sslRequired:
		// MySQL's REQUIRED encrypts without verifying the certificate.
		return &tls.Config{InsecureSkipVerify: true}, false
	case sslVerifyCA:
		// InsecureSkipVerify turns off the standard verification, which
		// always checks the host name, and verifyChain restores the rest.
		return &tls.Config{InsecureSkipVerify: true, VerifyConnection: verifyChain(roots)}, false
	case sslVerifyIdentity:
		return &tls.Config{ServerName: host, RootCAs: roots}, false
	}
	return nil, false
}

// verifyChain returns a check that the server's certificate chains to
// roots, whatever names it carries.
func verifyChain(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, cert := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(cert)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
}

func (m sslMode) String() string {
	switch m {
	case sslDisabled:
		return "DISABLED"
	case sslPreferred:
		return "PREFERRED"
	case sslRequired:
		return "REQUIRED"
	case sslVerifyCA:
		return "Verify-Ca"
	case sslVerifyIdentity:
		return "Verify Identity"
	}
	return "unknown"
}
