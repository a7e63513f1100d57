package dbtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// extraDirs are searched after PATH, because Debian installs mariadbd in
// /usr/sbin, which is not on the PATH of an ordinary user.
var extraDirs = []string{"/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"}

// errNotInstalled is returned by [Start] when no server binary is found.
var errNotInstalled = errors.New("install the mariadb-server package (Debian and Ubuntu: apt-get install mariadb-server) so that the database tests can start their own server")

// binaries are the programs needed to create and run a server.
type binaries struct {
	server  string // mariadbd or mysqld
	install string // mariadb-install-db or mysql_install_db
}

func findBinaries() (binaries, error) {
	server, err := findProgram("mariadbd", "mysqld")
	if err != nil {
		return binaries{}, err
	}
	install, err := findProgram("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return binaries{}, err
	}
	return binaries{server: server, install: install}, nil
}

// findProgram returns the path of the first of names found in PATH or in
// extraDirs.
func findProgram(names ...string) (string, error) {
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
		for _, dir := range extraDirs {
			path := filepath.Join(dir, name)
			if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
				return path, nil
			}
		}
	}
	return "", fmt.Errorf("find %s: not found in PATH or %v: %w", names[0], extraDirs, errNotInstalled)
}
