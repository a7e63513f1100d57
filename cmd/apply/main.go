// Command apply manages Adobe Experience Platform source connections as
// code: it plans and applies YAML manifests through the Flow Service API and
// keeps a lock file that maps each manifest name to its connection id.
//
// Run "apply help" for usage.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv))
}
