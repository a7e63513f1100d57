// Package dbtest starts throwaway MariaDB servers for tests.
//
// Each [Server] is a real mariadbd (or mysqld) process with its own data
// folder, socket and pid file in a temporary folder, listening on a free
// port on 127.0.0.1 only. Accounts use real password authentication. The
// root account has no password and is reached over the server's own unix
// socket, which is how [Server.Exec] creates users and databases. With TLS
// enabled the server presents a certificate for 127.0.0.1 signed by a CA
// generated in memory for that server alone. [Server.Stop] kills the process
// and removes the folder.
//
// The package never skips: when no server binary is installed, [Start]
// returns an error naming the package to install, so that a test run on a
// machine without MariaDB fails instead of passing without having run.
// Starting a server takes about a second, so a test binary should start the
// servers it needs once, in TestMain.
package dbtest
