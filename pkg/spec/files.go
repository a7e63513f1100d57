package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxFileSize bounds the bytes read from one manifest file. A connection
// manifest is well under 1 KiB, so 4 MiB leaves room for files that contain
// thousands of documents while keeping a stray dump or binary from being
// parsed.
const maxFileSize = 4 << 20

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// sourceFile is one file to load.
type sourceFile struct {
	path string // as shown in errors: the argument, or a path under it
	arg  int    // index of the argument that named the file or its directory
}

// collectFiles expands paths into the files to load. A directory is walked
// recursively for *.yaml and *.yml files, skipping hidden files and
// directories. A file named directly is loaded whatever its name. Files are
// returned in argument order, each directory's files sorted by path, and a
// file reached twice is loaded once.
func collectFiles(paths []string) ([]sourceFile, []*Error) {
	var (
		files  []sourceFile
		errs   []*Error
		seen   = map[string]bool{}
		cwd, _ = os.Getwd() // once, because filepath.Abs would call it for every file
	)
	add := func(path string, arg int) {
		key := filepath.Clean(path)
		if !filepath.IsAbs(key) && cwd != "" {
			key = filepath.Join(cwd, key)
		}
		if seen[key] {
			return
		}
		seen[key] = true
		files = append(files, sourceFile{path: path, arg: arg})
	}
	for i, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, newError(Position{File: p}, "", "cannot read: %s", describeFSError(err)))
			continue
		}
		if !info.IsDir() {
			add(p, i)
			continue
		}
		found, walkErrs := walkDir(p)
		errs = append(errs, walkErrs...)
		if len(found) == 0 && len(walkErrs) == 0 {
			errs = append(errs, newError(Position{File: p}, "", "no *.yaml or *.yml files found in the directory (hidden files and directories are skipped)"))
		}
		for _, f := range found {
			add(f, i)
		}
	}
	return files, errs
}

// walkDir returns the manifest files under root, sorted. It does not follow
// symbolic links to directories, but does load symbolic links to files.
func walkDir(root string) ([]string, []*Error) {
	var (
		found []string
		errs  []*Error
	)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, newError(Position{File: path}, "", "cannot read: %s", describeFSError(err)))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isManifestName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			info, err := os.Stat(path)
			if err != nil {
				errs = append(errs, newError(Position{File: path}, "", "cannot read: %s", describeFSError(err)))
				return nil
			}
			if info.IsDir() {
				return nil
			}
		}
		found = append(found, path)
		return nil
	})
	if err != nil {
		errs = append(errs, newError(Position{File: root}, "", "cannot read: %s", describeFSError(err)))
	}
	slices.Sort(found)
	return found, errs
}

func isManifestName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// describeFSError returns the cause of a file system error without the path,
// which the caller's position already shows.
func describeFSError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "file or directory not found"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	return err.Error()
}

// readManifestFile reads a file and returns its text without a UTF-8 byte
// order mark. It rejects files over maxFileSize and files that are not UTF-8.
func readManifestFile(path string) ([]byte, *Error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, newError(Position{File: path}, "", "cannot read: %s", describeFSError(err))
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && info.Size() > maxFileSize {
		return nil, tooLarge(path, fmt.Sprintf("%d bytes", info.Size()))
	}

	// Read one byte past the limit so that a file which grows after a stat,
	// or a pipe, is still caught.
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, newError(Position{File: path}, "", "cannot read: %s", describeFSError(err))
	}
	if len(data) > maxFileSize {
		return nil, tooLarge(path, "more than "+formatSize(maxFileSize))
	}
	return checkUTF8(path, data)
}

func tooLarge(path, found string) *Error {
	return newError(Position{File: path}, "", "file is too large: expected at most %s, found %s", formatSize(maxFileSize), found)
}

func checkUTF8(path string, data []byte) ([]byte, *Error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return nil, newError(Position{File: path}, "", "file is not UTF-8: found a UTF-16 byte order mark; save the file as UTF-8")
	}
	if utf8.Valid(data) {
		return data, nil
	}
	off := invalidUTF8Offset(data)
	line, col := lineCol(data, off)
	// The byte itself is not shown: it may be part of a password.
	return nil, newError(Position{File: path, Line: line, Col: col}, "", "file is not UTF-8: found an invalid byte sequence; save the file as UTF-8")
}

func invalidUTF8Offset(data []byte) int {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			return off
		}
		off += size
	}
	return len(data)
}

// lineCol returns the 1-based line and rune column of byte offset off.
func lineCol(data []byte, off int) (line, col int) {
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[lineStart:]) + 1
}

func formatSize(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
