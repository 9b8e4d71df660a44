// Command gen generates the table-driven code and documents of the module
// from the declarative tables in package fields: the decoder's element
// tables, Flow and readers (decode/*_gen.go) and everything else that
// follows from the tables.
//
// It is run by `go generate ./...` (the //go:generate line is in
// decode/doc.go) and writes every generated file under the module root,
// touching a file only when its bytes change, and only after the generated
// packages type-check with the new files (go/packages, with the files as an
// overlay). `go run ./gen -check` prints
// the names of stale files and exits 1 instead of writing.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	check := flag.Bool("check", false, "report stale files instead of writing them")
	root := flag.String("root", "", "module root (default: found from the working directory)")
	flag.Parse()

	if *root == "" {
		r, err := moduleRoot()
		if err != nil {
			fatal(err)
		}
		*root = r
	}
	files, err := Generate()
	if err != nil {
		fatal(err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	if !*check && anyStale(*root, files) {
		if err := typeCheck(*root, files); err != nil {
			fatal(err)
		}
	}
	stale := 0
	for _, name := range names {
		path := filepath.Join(*root, filepath.FromSlash(name))
		old, _ := os.ReadFile(path)
		if bytes.Equal(old, files[name]) {
			continue
		}
		stale++
		if *check {
			fmt.Println(path)
			continue
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			fatal(err)
		}
	}
	for _, path := range orphans(*root, files) {
		stale++
		fmt.Println(path, "is not generated any more; delete it")
	}
	if *check && stale > 0 {
		os.Exit(1)
	}
}

// anyStale reports whether some generated file differs from its file
// under root.
func anyStale(root string, files map[string][]byte) bool {
	for name, src := range files {
		old, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if !bytes.Equal(old, src) {
			return true
		}
	}
	return false
}

// moduleRoot returns the nearest directory at or above the working
// directory that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = up
	}
}

// orphans returns the *_gen.go files in the directories gen writes to that
// gen does not write.
func orphans(root string, files map[string][]byte) []string {
	dirs := map[string]bool{}
	for name := range files {
		dirs[filepath.Dir(filepath.FromSlash(name))] = true
	}
	var out []string
	for dir := range dirs {
		found, _ := filepath.Glob(filepath.Join(root, dir, "*_gen.go"))
		for _, path := range found {
			rel, _ := filepath.Rel(root, path)
			if _, ok := files[filepath.ToSlash(rel)]; !ok {
				out = append(out, path)
			}
		}
	}
	sort.Strings(out)
	return out
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
