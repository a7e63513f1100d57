// Package verify checks MySQL and MariaDB sources against the real database,
// with the same resolved credentials that the manifests carry, before any
// connection is created in Adobe Experience Platform.
package verify
