package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// protectedFile is a file that the run reads or keeps, and that an
// --output-file must not replace.
type protectedFile struct {
	path string
	role string // such as "the lock file", shown in the problem
}

// protectedFiles returns the files of a run that an --output-file must not
// overwrite: the lock file and its file lock, the emulator's files with
// --emulator, and every manifest that -f names or that a -f directory
// contains.
func protectedFiles(o *applyOptions) []protectedFile {
	lockPath := firstSet(o.lockPath, defaultLockPath)
	if o.emulator {
		lockPath = firstSet(o.lockPath, emulatorLockPath)
	}
	files := []protectedFile{
		{lockPath, "the lock file"},
		{lockFlockPath(lockPath), "the file lock of the lock file"},
	}
	if o.emulator {
		files = append(files,
			protectedFile{emulatorStatePath, "the emulator state"},
			protectedFile{emulatorStatePath + ".lock", "the file lock of the emulator state"},
			protectedFile{emulatorKeyPath, "the emulator's lock key"},
			protectedFile{emulatorIgnore, "the emulator folder's .gitignore"},
		)
	}
	for _, p := range o.paths {
		info, err := os.Stat(p)
		if err != nil || !info.IsDir() {
			files = append(files, protectedFile{p, "a manifest"})
			continue
		}
		for _, m := range manifestsUnder(p) {
			files = append(files, protectedFile{m, "a manifest"})
		}
	}
	return files
}

// lockFlockPath returns the file that carries the file lock of the lock
// file at path. It must match the name that pkg/apply uses.
func lockFlockPath(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".flock")
}

// manifestsUnder returns the files that loading the directory root reads:
// *.yaml and *.yml files, recursively, skipping hidden files and
// directories, as pkg/spec does. Unreadable entries are left out, because
// loading reports them.
func manifestsUnder(root string) []string {
	var found []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && isManifestName(path) {
			found = append(found, path)
		}
		return nil
	})
	return found
}

func isManifestName(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// checkOutputTargets returns a problem for each --output-file that would
// overwrite a file of the run (see [protectedFiles]), or a YAML file in a
// manifest directory, which the next run would load as a manifest. Paths
// are compared cleaned and absolute, and with [os.SameFile] where both
// exist, so that a link or another spelling of the path is caught too. rest
// is the --output-file list without the rejected files.
func checkOutputTargets(o *applyOptions) (problems []string, rest []outputFile) {
	if len(o.outputFiles) == 0 {
		return nil, nil
	}
	protected := protectedFiles(o)
	for _, of := range o.outputFiles {
		reason := overwriteReason(of.path, protected, o.paths)
		if reason == "" {
			rest = append(rest, of)
			continue
		}
		problems = append(problems, fmt.Sprintf("invalid --output-file %s=%s: %s: choose another path", of.format, of.path, reason))
	}
	return problems, rest
}

// overwriteReason returns why writing path would damage the run or the
// next one, or "" when it would not.
func overwriteReason(path string, protected []protectedFile, manifestPaths []string) string {
	target := absPath(path)
	targetInfo, targetErr := os.Stat(path)
	for _, p := range protected {
		if absPath(p.path) == target {
			return "the path is " + p.role
		}
		if targetErr != nil {
			continue
		}
		if info, err := os.Stat(p.path); err == nil && os.SameFile(info, targetInfo) {
			return "the path is " + p.role + " (" + p.path + ")"
		}
	}
	for _, dir := range manifestPaths {
		info, err := os.Stat(dir)
		if err != nil || !info.IsDir() || !isManifestName(target) {
			continue
		}
		rel, err := filepath.Rel(absPath(dir), target)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !hasHiddenPart(rel) {
			return "the path is a YAML file in the manifest directory " + dir + ", so the next run would load the output as a manifest"
		}
	}
	return ""
}

// hasHiddenPart reports whether an element of the relative path rel starts
// with a dot, which loading skips.
func hasHiddenPart(rel string) bool {
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// absPath returns path cleaned and absolute, or cleaned when the working
// directory is unknown.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}
