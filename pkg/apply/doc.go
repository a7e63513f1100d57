// Package apply is the reconciler: it compares manifests with the lock file
// and the remote state, plans one action per connection, carries the plan out
// concurrently and keeps the lock file that maps each manifest name to its
// connection id.
//
// The lock file records the intent of every create before it is sent and the
// id after it returns, so that a run killed at any moment loses no id and
// creates no duplicate. The next run resolves pending entries by name.
//
// A run is [Open], [Session.Plan], then [Session.Apply] unless it is a dry
// run, and [Session.Close]. Open takes a file lock that serializes runs on
// one lock file and reads the lock file. Plan only reads, and Apply writes.
// docs/lock-file.md describes the lock file's format and guarantees.
package apply
