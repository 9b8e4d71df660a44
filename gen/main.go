// Command gen generates the table-driven parts of package decode from the
// declarative tables in package fields.
//
// It is run by `go generate ./...` (the //go:generate line is in
// decode/doc.go) and writes decode/*_gen.go, touching a file only when its
// bytes change. `go run ./gen -check` prints the names of stale files and
// exits 1 instead of writing.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	check := flag.Bool("check", false, "report stale files instead of writing them")
	dir := flag.String("dir", "", "output directory (default: the decode package next to gen)")
	flag.Parse()

	out := *dir
	if out == "" {
		// go generate runs in the package directory (decode/).
		wd, err := os.Getwd()
		if err != nil {
			fatal(err)
		}
		out = wd
		if filepath.Base(wd) != "decode" {
			out = filepath.Join(wd, "decode")
		}
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
	stale := 0
	for _, name := range names {
		path := filepath.Join(out, name)
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
	if *check && stale > 0 {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
